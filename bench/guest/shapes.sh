#!/bin/sh
# shellcheck disable=SC1091 # sourced files are checked with shellcheck -x by mk/bench.mk
# Baseline SNAT shapes for the occupancy test (issue 6, test 2), written
# by hand as nft text so they can be compared with ours in the same run.
# Sourced by bench.sh; each shape builds the tunnel with ce_fallback_up and
# replaces its table:
#   numgen    ours before per-set counting: numgen inc picks the port set
#             blindly (a set with no port free towards the destination
#             drops the SYN; the retransmission goes to another set)
#   random    the same with "numgen random"
# Ours now counts connections per set and destination (ct count in a
# dynamic set, see firewall4/model.go). Two earlier forms of it failed,
# for the record: a walk of gotos from set to set (wrapping by a second
# copy) does not load with 15 sets, as nft counts goto like jump against
# the 16-level limit (EMLINK, "too many links"); and a walk that re-added
# to the same sets with "ct count N" (not "over") matched the wrong way,
# because a set element keeps the count expression of the rule that
# created it ("over N" from the first try).
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
	mss_chain "$_dev"
	_k=0
	for _r in $(echo "$4" | tr ',' ' '); do
		echo "	chain s_$_k {"
		echo "		meta l4proto { icmp, tcp, udp } snat ip to $_v4:$_r"
		echo "	}"
		_k=$((_k + 1))
	done
	case "$1" in
	numgen) alt_post "$_dev" "numgen inc mod $_n" s ;;
	random) alt_post "$_dev" "numgen random mod $_n" s ;;
	esac
	echo "}"
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
