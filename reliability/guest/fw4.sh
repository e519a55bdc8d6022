# shellcheck shell=sh
# An emulation of OpenWrt's fw4 for one CE namespace, close enough to test
# what our rules live through (fw4 itself needs ucode and is not in
# Debian). What it does, as firewall4's sbin/fw4 and ruleset.uc do it:
#   start/reload  one nft transaction: `table inet fw4`, `flush table inet
#                 fw4`, the fw4 table (filter chains, zone masquerade at
#                 srcnat, port-forward DNAT at dstnat), then every readable
#                 *.nft of the ruleset-post include directory; a symlink is
#                 followed one level and must be absolute, a dangling one is
#                 skipped. Exit status 0 even when nft rejects the ruleset
#                 (the old ruleset stays), as fw4 does.
#   restart       check (`nft -c`), `delete table inet fw4`, start.
#   flush         delete every table of every family, ours included.
#   stop          delete table inet fw4.
# All CEs of the VM share one file system, so each CE has its own include
# directory (vmtest's ce_fw4_dir: fw4's real one for ce1). The zone "wan"
# covers the devices map-IFACE of FW4_IFACES_<ns>. Port forwards come from
# /tmp/fw4/<ns>.redirects, one "PROTO EXTPORT LANIP LANPORT" per line.

fw4_render() {
	_ns="$1"
	_ifs="$(eval "echo \"\${FW4_IFACES_$_ns:-}\"")"
	_devs=""
	for _i in $_ifs; do
		_devs="$_devs${_devs:+, }\"map-$_i\""
	done
	[ -n "$_devs" ] || _devs='"map-none"'
	echo "table inet fw4"
	echo "flush table inet fw4"
	echo "table inet fw4 {"
	echo "	chain input {"
	echo "		type filter hook input priority filter; policy accept;"
	echo "	}"
	echo "	chain forward {"
	echo "		type filter hook forward priority filter; policy drop;"
	echo "		ct state established,related accept"
	echo "		iifname \"lan\" accept"
	echo "		ct status dnat accept"
	echo "		counter name \"fwd_drop\" drop"
	echo "	}"
	echo "	counter fwd_drop {"
	echo "	}"
	echo "	chain dstnat {"
	echo "		type nat hook prerouting priority dstnat; policy accept;"
	echo "		iifname { $_devs } jump dstnat_wan"
	echo "	}"
	echo "	chain dstnat_wan {"
	if [ -f "/tmp/fw4/$_ns.redirects" ]; then
		while read -r _p _ext _ip _port; do
			[ -n "$_p" ] || continue
			echo "		meta nfproto ipv4 $_p dport $_ext counter dnat ip to $_ip:$_port"
		done <"/tmp/fw4/$_ns.redirects"
	fi
	echo "	}"
	echo "	chain srcnat {"
	echo "		type nat hook postrouting priority srcnat; policy accept;"
	echo "		oifname { \"wan\", $_devs } jump srcnat_wan"
	echo "	}"
	echo "	chain srcnat_wan {"
	echo "		meta nfproto ipv4 masquerade"
	echo "	}"
	echo "}"
	for _f in "$(ce_fw4_dir "$_ns")"/*.nft; do
		[ -e "$_f" ] || continue # no file, or a dangling symlink: skipped
		if [ -L "$_f" ]; then
			_t="$(readlink "$_f")"
			case "$_t" in
			/*) ;;
			*) continue ;; # fw4 rejects a relative target
			esac
			echo "include \"$_t\""
		else
			echo "include \"$_f\""
		fi
	done
}

# fw4 NS ACTION: run ACTION (start|reload|restart|flush|stop|check) in NS.
fw4() {
	mkdir -p /tmp/fw4
	case "$2" in
	start | reload)
		fw4_render "$1" >"/tmp/fw4/$1.nft"
		n "$1" "$NFT" -f "/tmp/fw4/$1.nft" 2>"/tmp/fw4/$1.err" ||
			echo "VMTEST fw4 $1 $2: nft rejected the ruleset, old one stays: $(head -n 3 "/tmp/fw4/$1.err" | tr '\n' ' ')"
		return 0
		;;
	check)
		fw4_render "$1" >"/tmp/fw4/$1.nft"
		n "$1" "$NFT" -c -f "/tmp/fw4/$1.nft"
		;;
	restart)
		fw4 "$1" check || return 1
		n "$1" "$NFT" delete table inet fw4 2>/dev/null
		fw4 "$1" start
		;;
	stop)
		n "$1" "$NFT" delete table inet fw4
		;;
	flush)
		n "$1" "$NFT" list tables | while read -r _ _fam _tbl; do
			n "$1" "$NFT" delete table "$_fam" "$_tbl"
		done
		;;
	*)
		echo "fw4: unknown action $2" >&2
		return 2
		;;
	esac
}
