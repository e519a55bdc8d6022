# shellcheck shell=sh
# Helpers of the reliability scenarios, on top of vmtest's lib.sh, ce.sh
# and br.sh: state snapshots that can be compared after any event, and a
# traffic check that proves rules effective (not just listed).

STATE_DIR=/var/run/mapehelper

# ce_state_dir NS: mapehelper's state directory of the CE in NS (see
# vmtest's ce_dirs).
ce_state_dir() {
	if [ "$1" = ce1 ]; then echo "$STATE_DIR"; else echo "/run/vmtest/$1"; fi
}

# rsnap NS FILE: vmtest's snapshot plus what mapehelper keeps on the file
# system (state files and the fw4 include links; lock files are harmless
# leftovers and not compared). Interface indexes and the tunnel's random
# link-local address are masked (a re-created tunnel gets new ones), and
# route and rule lines are sorted: the kernel lists them in the order they
# were added, which a link going down and up changes without changing
# what they are.
rsnap() {
	snapshot "$1" "$2.raw" # waits for duplicate address detection
	{
		sed -e 's/^[0-9]*: /N: /' -e 's/@if[0-9]*/@ifN/g' -e 's/permaddr [0-9a-f:]*/permaddr */' "$2.raw" | drop_tunnel_ll | sort_routes
		echo "## files"
		for _f in "$(ce_state_dir "$1")"/* "$(ce_fw4_dir "$1")"/*; do
			[ -e "$_f" ] || [ -L "$_f" ] || continue
			[ -d "$_f" ] && continue
			case "$_f" in *.lock) continue ;; esac
			if [ -L "$_f" ]; then
				echo "$_f -> $(readlink "$_f")"
			else
				echo "$_f $(grep -v '"updated"' "$_f" | md5sum | cut -c1-8)"
			fi
		done
	} >"$2"
	rm -f "$2.raw"
}

# sort_routes: sorts the lines of the route and rule sections of a
# snapshot, keeping every other section in order.
sort_routes() {
	awk '
	/^## / { sec++; sorted = ($2 ~ /^(route4|route6|rule)$/); printf "%05d 0 %s\n", sec, $0; next }
	{ if (sorted) printf "%05d 1 %s\n", sec, $0; else printf "%05d 1 %08d%s\n", sec, NR, $0 }
	' | sort | sed -e 's/^[0-9]* [01] //' -e 's/^[0-9]\{8\}//'
}

# drop_tunnel_ll: removes the link-local address of map-* tunnels (the
# kernel derives it from a random permanent address, so every re-created
# tunnel has another one) from addr and route listings.
drop_tunnel_ll() {
	awk '
	/^N: / { inmap = ($2 ~ /^map-/) }
	/fe80::/ && /dev map-/ { next }
	inmap && /inet6 fe80::/ { skip = 1; next }
	skip && /valid_lft/ { skip = 0; next }
	{ skip = 0; print }
	'
}

# kernel_only FILE: the kernel part of an rsnap file (without the files).
kernel_only() {
	sed '/^## files$/,$d' "$1"
}

# ours NS IFACE: our nft table as listed (counters and dynamic set
# elements masked: nft_masked), or "missing".
ours() {
	if _t="$(n "$1" "$NFT" list table ip "mapehelper_$2" 2>/dev/null)"; then
		echo "$_t" | nft_masked
	else
		echo missing
	fi
}

# same NAME A B: like vmtest's samestate, one verdict.
same() {
	samestate "$@"
}

# SPORT cycles through the sink's TCP ports so that back-to-back checks do
# not meet the previous check's connections still held by conntrack.
SPORT=8001
PINGID=3000
next_sport() {
	PINGID=$((PINGID + 5))
	SPORT=$((SPORT + 1))
	[ "$SPORT" -le 8008 ] || SPORT=8001
}

# effective NAME HOST BRNAME SETS IPV4 [N]: N (default 48) concurrent TCP
# connections and 5 pings from HOST through the tunnel all succeed, from
# ports inside SETS, with no BR drop: the rules are in force.
effective() {
	_n="${6:-48}"
	next_sport
	_d0="$(br_drops "$3")"
	_r="$(n "$2" probe tcp -to "$SERVER:$SPORT" -n "$_n" -timeout 2s -ports "$4" -src "$5")"
	_p="$(n "$2" probe icmp -to "$SERVER" -n 5 -id "$PINGID" -timeout 2s)"
	_drops=$(($(br_drops "$3") - _d0))
	_ok=0
	[ "$(jf ok "$_r")" = "$_n" ] && [ "$(jf in_set "$_r")" = "$_n" ] && [ "$(jf ok "$_p")" = 5 ] && [ "$_drops" = 0 ] && _ok=1
	verdict "$1" "$_ok" "tcp $(jf ok "$_r")/$_n in set $(jf in_set "$_r"), ping $(jf ok "$_p")/5, br_drops=$_drops$(js err "$_r" | sed 's/^./, &/')"
	n srv probe seen >/dev/null 2>&1
}

# up_ok NAME NS IFACE FIXTURE: ce_up must succeed.
up_ok() {
	if _o="$(ce_up "$2" "$3" "$4" 2>&1)"; then
		wait_dad "$2"
		return 0
	fi
	verdict "$1" 0 "up failed: $_o"
	return 1
}

# now_ms: milliseconds since boot (busybox date has no %N).
now_ms() {
	awk '{printf "%d\n", $1 * 1000}' /proc/uptime
}
