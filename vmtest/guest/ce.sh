# shellcheck shell=sh
# Bringing a CE up and down: with the real mapehelper (VMTEST_mode=mapehelper,
# the default) or with a hand-written ip/nft fallback that proves the
# harness itself (VMTEST_mode=fallback) and provides the negative controls.

# fx FIXTURE FIELD: a fixture value, e.g. fx CE1 ADDR.
fx() {
	eval "echo \"\${$1_$2}\""
}

# fx_isp FIXTURE: v6plus or ocn (by the IPv4 the fixture expects).
fx_isp() {
	case "$(fx "$1" IPV4)" in
	153.*) echo ocn ;;
	*) echo v6plus ;;
	esac
}

# fx_sets FIXTURE: the fixture's port sets.
fx_sets() {
	if [ "$(fx_isp "$1")" = ocn ]; then
		portsets "$OCN_OFFSET" "$OCN_PSIDLEN" "$(fx "$1" PSID)"
	else
		portsets "$V6PLUS_OFFSET" "$V6PLUS_PSIDLEN" "$(fx "$1" PSID)"
	fi
}

fx_br() {
	if [ "$(fx_isp "$1")" = ocn ]; then echo "$OCN_BR"; else echo "$V6PLUS_BR"; fi
}

# ce_up NS IFACE FIXTURE: configure the CE in NS for FIXTURE's prefix.
ce_up() {
	if [ "${VMTEST_mode:-mapehelper}" = fallback ]; then
		ce_fallback_up "$1" "$2" "$(fx "$3" ADDR)" "$(fx_br "$3")" "$(fx "$3" IPV4)" "$(fx_sets "$3")" spread
	else
		# A fixture with a LINKADDR has its prefix only on the link: no --prefix.
		_pfx="--prefix=$(fx "$3" PREFIX)"
		[ -z "$(fx "$3" LINKADDR)" ] || _pfx=""
		# shellcheck disable=SC2046,SC2086 # ce_dirs and CE_UP_FLAGS: separate flags
		n "$1" mapehelper up --interface "$2" --link wan ${_pfx:+"$_pfx"} $(ce_dirs "$1") ${CE_UP_FLAGS:-}
	fi
}

# ce_dirs NS: mapehelper's state and fw4 include directories for the CE in
# NS. All CEs share the VM's file system, so each needs its own, as each
# router has its own; ce1 keeps the defaults (/var/run/mapehelper and
# fw4's /usr/share/nftables.d/ruleset-post) so those are exercised too.
ce_dirs() {
	[ "$1" = ce1 ] || echo "--state-dir /run/vmtest/$1 --include-dir /run/vmtest/$1/nftables.d/ruleset-post"
}

# ce_fw4_dir NS: the fw4 include directory of the CE in NS.
ce_fw4_dir() {
	if [ "$1" = ce1 ]; then echo /usr/share/nftables.d/ruleset-post; else echo "/run/vmtest/$1/nftables.d/ruleset-post"; fi
}

# ce_down NS IFACE: undo ce_up.
ce_down() {
	if [ "${VMTEST_mode:-mapehelper}" = fallback ]; then
		ce_fallback_down "$1" "$2"
	else
		# shellcheck disable=SC2046 # ce_dirs prints separate flags
		n "$1" mapehelper down --interface "$2" $(ce_dirs "$1")
	fi
}

# ce_fallback_up NS IFACE CEADDR BR IPV4 SETS SHAPE: the data plane by hand.
# SHAPE spread: numgen over one range-SNAT chain per port set (TCP, UDP
# and ICMP); SHAPE stock: what OpenWrt's stock package ends up with (one
# SNAT rule per set for TCP/UDP, first match wins, ICMP masqueraded).
ce_fallback_up() {
	_ns="$1" _dev="map-$2" _ce="$3" _br="$4" _v4="$5" _sets="$6" _shape="$7"
	# Replace, so that moving to another prefix leaves nothing behind.
	ce_fallback_down "$_ns" "$2" 2>/dev/null
	n "$_ns" "$IP" -6 addr add "$_ce/128" dev wan
	n "$_ns" "$IP" link add "$_dev" type ip6tnl mode ipip6 local "$_ce" remote "$_br" dev wan encaplimit none
	n "$_ns" "$IP" link set "$_dev" mtu 1460 up
	n "$_ns" "$IP" addr add "$_v4/32" dev "$_dev"
	n "$_ns" "$IP" route add default dev "$_dev"
	_f=/tmp/fallback-$_ns.nft
	{
		echo "table ip vmtest_fallback {"
		echo "	chain post {"
		echo "		type nat hook postrouting priority srcnat - 1; policy accept;"
		if [ "$_shape" = stock ]; then
			for _r in $(echo "$_sets" | tr ',' ' '); do
				echo "		oifname \"$_dev\" meta l4proto { tcp, udp } snat ip to $_v4:$_r"
			done
			echo "		oifname \"$_dev\" masquerade"
		else
			_k=0
			_map=""
			for _r in $(echo "$_sets" | tr ',' ' '); do
				_map="$_map${_map:+, }$_k : goto set$_k"
				_k=$((_k + 1))
			done
			echo "		oifname \"$_dev\" numgen inc mod $_k vmap { $_map }"
		fi
		echo "	}"
		_k=0
		for _r in $(echo "$_sets" | tr ',' ' '); do
			[ "$_shape" = stock ] && break
			if [ "$_k" = 0 ]; then
				echo "	chain mss {"
				echo "		type filter hook forward priority mangle; policy accept;"
				echo "		oifname \"$_dev\" tcp flags syn / syn,rst tcp option maxseg size set 1420"
				echo "		iifname \"$_dev\" tcp flags syn / syn,rst tcp option maxseg size set 1420"
				echo "	}"
			fi
			echo "	chain set$_k {"
			echo "		meta l4proto { tcp, udp } snat ip to $_v4:$_r"
			echo "		meta l4proto icmp snat ip to $_v4:$_r"
			echo "	}"
			_k=$((_k + 1))
		done
		echo "}"
	} >"$_f"
	n "$_ns" "$NFT" -f "$_f"
}

ce_fallback_down() {
	n "$1" "$NFT" delete table ip vmtest_fallback 2>/dev/null
	n "$1" "$IP" link del "map-$2" 2>/dev/null
	for _a in $(n "$1" "$IP" -6 -o addr show dev wan scope global | awk '$4 ~ /\/128$/ {print $4}'); do
		n "$1" "$IP" -6 addr del "$_a" dev wan
	done
	return 0
}
