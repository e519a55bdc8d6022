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
# start, reload, restart, flush and stop hold fw4's lock (/var/run/fw4.lock,
# an exclusive flock, through `chaos lock`: BusyBox has no flock applet),
# as sbin/fw4 does. With FW4_SLOW=SECONDS, start/reload copy the includes'
# text into the ruleset when they render it and wait that long before
# loading it: the window in which a real fw4's nft has read an include but
# not yet committed (issue 12 item 3), made wide enough to hit.
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
			_f="$_t"
		fi
		if [ -n "${FW4_SLOW:-}" ]; then
			sed '/^#/d' "$_f"
		else
			echo "include \"$_f\""
		fi
	done
}

FW4_LOCK=/var/run/fw4.lock

# fw4_lock / fw4_unlock: hold fw4's lock from this shell (a background
# `chaos lock` holds it until told to let go). The handshake polls files,
# not fifos: an open of a fifo is interrupted by SIGCHLD of the scenario's
# background jobs, and BusyBox ash does not retry it.
fw4_lock() {
	mkdir -p /tmp/fw4 "$(dirname "$FW4_LOCK")"
	rm -f /tmp/fw4/acq /tmp/fw4/rel
	# shellcheck disable=SC2016 # expanded by the inner sh
	chaos lock -file "$FW4_LOCK" -- sh -c 'touch "$1"; until [ -e "$2" ]; do sleep 0.02; done' sh /tmp/fw4/acq /tmp/fw4/rel >/dev/null 2>&1 &
	FW4_HOLDER=$!
	until [ -e /tmp/fw4/acq ]; do
		kill -0 "$FW4_HOLDER" 2>/dev/null || {
			echo "VMTEST fw4: chaos lock $FW4_LOCK failed"
			return 1
		}
		sleep 0.02
	done
}
fw4_unlock() {
	touch /tmp/fw4/rel
	wait "$FW4_HOLDER"
	rm -f /tmp/fw4/acq /tmp/fw4/rel
}

# fw4 NS ACTION: run ACTION (start|reload|restart|flush|stop|check) in NS,
# under fw4's lock like sbin/fw4 (check takes none).
fw4() {
	case "$2" in
	check | restart)
		fw4_unlocked "$@"
		;;
	*)
		fw4_lock || return 1
		fw4_unlocked "$@"
		_rc=$?
		fw4_unlock
		return "$_rc"
		;;
	esac
}

fw4_unlocked() {
	mkdir -p /tmp/fw4
	case "$2" in
	start | reload)
		fw4_render "$1" >"/tmp/fw4/$1.nft"
		[ -z "${FW4_SLOW:-}" ] || sleep "$FW4_SLOW"
		n "$1" "$NFT" -f "/tmp/fw4/$1.nft" 2>"/tmp/fw4/$1.err" ||
			echo "VMTEST fw4 $1 $2: nft rejected the ruleset, old one stays: $(head -n 3 "/tmp/fw4/$1.err" | tr '\n' ' ')"
		return 0
		;;
	check)
		fw4_render "$1" >"/tmp/fw4/$1.nft"
		n "$1" "$NFT" -c -f "/tmp/fw4/$1.nft"
		;;
	restart)
		fw4_unlocked "$1" check || return 1
		fw4 "$1" stop 2>/dev/null
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
