#!/bin/sh
# shellcheck disable=SC1091 # sourced files are checked with shellcheck -x by mk/bench.mk
# Candidate SNAT shapes for the occupancy test (issue 6, test 2), written
# by hand as nft text so they can be compared with ours in the same run
# before one of them goes into firewall4. Sourced by bench.sh; each shape
# builds the tunnel with ce_fallback_up and replaces its table:
#   random    ours with "numgen random" instead of "numgen inc"
#   overflow  ours plus a per-destination connection count in front of
#             every port set: a set that already carries as many
#             connections to this destination (daddr . dport per
#             protocol, daddr for ICMP) as it has ports passes the flow on
#             to the next set. The entry set is still picked by numgen; the
#             walk goes from there to the last set (chains a_i), then once
#             more from the first (chains b_i: nft refuses chain loops, so
#             the wrap is a second copy), and only when every set looks
#             full does it fall back to numgen over the sets (ours).
#             nf_conncount adds the flow to a set's list even when it
#             passes it on, so a set can look fuller than it is (measured).

# alt_up SHAPE NS IFACE FIXTURE
alt_up() {
	ce_fallback_up "$2" "$3" "$(fx "$4" ADDR)" "$(fx_br "$4")" "$(fx "$4" IPV4)" "$(fx_sets "$4")" spread
	n "$2" "$NFT" delete table ip vmtest_fallback
	alt_nft "$1" "map-$3" "$(fx "$4" IPV4)" "$(fx_sets "$4")" >"/tmp/alt-$2.nft"
	n "$2" "$NFT" -f "/tmp/alt-$2.nft"
}

# alt_nft SHAPE DEV IPV4 SETS: the table of SHAPE on stdout.
alt_nft() {
	_dev="$2" _v4="$3"
	_n="$(echo "$4" | tr ',' '\n' | wc -l)"
	echo "table ip vmtest_fallback {"
	echo "	chain mss {"
	echo "		type filter hook forward priority mangle; policy accept;"
	echo "		oifname \"$_dev\" tcp flags syn / syn,rst tcp option maxseg size set 1420"
	echo "		iifname \"$_dev\" tcp flags syn / syn,rst tcp option maxseg size set 1420"
	echo "	}"
	_k=0
	for _r in $(echo "$4" | tr ',' ' '); do
		echo "	chain s_$_k {"
		echo "		meta l4proto { icmp, tcp, udp } snat ip to $_v4:$_r"
		echo "	}"
		_k=$((_k + 1))
	done
	case "$1" in
	random) alt_post "$_dev" "numgen random mod $_n" s ;;
	overflow)
		alt_vmap fb "numgen inc mod $_n" s "$_n"
		_k=0
		for _r in $(echo "$4" | tr ',' ' '); do
			_size=$((${_r#*-} - ${_r%-*} + 1))
			echo "	set p_$_k {"
			echo "		type inet_proto . ipv4_addr . inet_service"
			echo "		size 65535"
			echo "		flags dynamic"
			echo "	}"
			echo "	set q_$_k {"
			echo "		type ipv4_addr"
			echo "		size 65535"
			echo "		flags dynamic"
			echo "	}"
			for _pass in a b; do
				_next="${_pass}_$((_k + 1))"
				if [ $((_k + 1)) = "$_n" ]; then
					if [ "$_pass" = a ]; then _next=b_0; else _next=fb; fi
				fi
				echo "	chain ${_pass}_$_k {"
				echo "		meta l4proto { tcp, udp } add @p_$_k { meta l4proto . ip daddr . th dport ct count over $_size } goto $_next"
				echo "		meta l4proto icmp add @q_$_k { ip daddr ct count over $_size } goto $_next"
				echo "		goto s_$_k"
				echo "	}"
			done
			_k=$((_k + 1))
		done
		alt_post "$_dev" "numgen inc mod $_n" a
		;;
	esac
	echo "}"
}

# alt_vmap CHAIN EXPR PREFIX N: a regular chain that goes to PREFIX_i by EXPR.
alt_vmap() {
	echo "	chain $1 {"
	echo "		$2 vmap { $(alt_map "$3" "$4") }"
	echo "	}"
}

# alt_post DEV EXPR PREFIX: the postrouting base chain.
alt_post() {
	echo "	chain post {"
	echo "		type nat hook postrouting priority srcnat - 1; policy accept;"
	echo "		oifname \"$1\" $2 vmap { $(alt_map "$3" "${2##* }") }"
	echo "	}"
}

# alt_map PREFIX N: "0 : goto PREFIX_0, …".
alt_map() {
	_i=0
	_m=""
	while [ "$_i" -lt "$2" ]; do
		_m="$_m${_m:+, }$_i : goto $1_$_i"
		_i=$((_i + 1))
	done
	echo "$_m"
}
