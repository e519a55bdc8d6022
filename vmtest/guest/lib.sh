# shellcheck shell=sh
# Helpers shared by the guest scripts: namespace execution, verdicts,
# JSON fields and nft counters, phase lines. Sourced first by every guest
# scenario (vmtest, reliability, bench, upnp).

IP=/usr/bin/ip
NFT=/usr/sbin/nft
PASSES=0
FAILS=0
# START is when the guest script began (it sources this file first).
START="$(date +%s)"

# n NS CMD…: run CMD in network namespace NS.
n() {
	_ns="$1"
	shift
	"$IP" netns exec "$_ns" "$@"
}

# step NAME: print the phase that starts now and the seconds so far.
step() {
	echo "VMTEST step $* (t=$(($(date +%s) - START))s)"
}

# verdict NAME OK TEXT…: print one result line (OK is 1 or 0) and count it.
verdict() {
	_name="$1"
	_ok="$2"
	shift 2
	if [ "$_ok" = 1 ]; then
		PASSES=$((PASSES + 1))
		echo "VMTEST PASS $_name: $*"
	else
		FAILS=$((FAILS + 1))
		echo "VMTEST FAIL $_name: $*"
	fi
}

# soft NAME OK TEXT…: a check the product does not pass yet. With the
# kernel word vmtest.strict=1 it is a verdict like any other; otherwise it
# prints an INFO line (saying whether it would fail) and counts nothing,
# so known gaps are measured on every run without failing the suite.
soft() {
	if [ "${VMTEST_strict:-0}" = 1 ]; then
		verdict "$@"
		return
	fi
	_name="$1"
	_ok="$2"
	shift 2
	if [ "$_ok" = 1 ]; then
		echo "VMTEST INFO $_name (would pass): $*"
	else
		echo "VMTEST INFO $_name (would FAIL under vmtest.strict=1): $*"
	fi
}

# is COND…: 1 when the test(1) expression holds, else 0.
is() {
	if [ "$@" ]; then echo 1; else echo 0; fi
}

# rusage_median_us FILE: the median wall time (µs) of the RUSAGE JSON
# lines in FILE (bench/cmd/rusage: up-cost step, the benchmark's apply).
rusage_median_us() {
	sed -n 's/.*"us":\([0-9]*\).*/\1/p' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)] + 0}'
}

# jf FIELD JSON: a numeric field of a flat JSON object (0 when absent).
jf() {
	_v="$(printf '%s' "$2" | sed -n "s/.*\"$1\":\\(-\\{0,1\\}[0-9][0-9]*\\).*/\\1/p")"
	echo "${_v:-0}"
}

# js FIELD JSON: a string field of a flat JSON object.
js() {
	printf '%s' "$2" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"
}

# counter NS FAMILY TABLE NAME: packets counted by a named nft counter.
counter() {
	_v="$(n "$1" "$NFT" list counter "$2" "$3" "$4" 2>/dev/null | sed -n 's/.*packets \([0-9]*\).*/\1/p')"
	echo "${_v:-0}"
}

# portsets OFFSET PSIDLEN PSID: the port sets of a PSID as lo-hi,… — the
# RFC 7597 section 5.1 formula written out independently of mapcalc, so
# the test's expectations do not come from the code under test.
portsets() {
	_m=$((16 - $1 - $2))
	_i=1
	_out=""
	while [ "$_i" -lt $((1 << $1)) ]; do
		_lo=$(((_i << (16 - $1)) | ($3 << _m)))
		_out="$_out${_out:+,}$_lo-$((_lo + (1 << _m) - 1))"
		_i=$((_i + 1))
	done
	echo "$_out"
}

# setsize SETS: the number of ports in a lo-hi,… list.
setsize() {
	echo "$1" | tr ',' '\n' | awk -F- '{s += $2 - $1 + 1} END {print s + 0}'
}

# hex4 A.B.C.D: the address as a 32-bit hex number for raw nft payload matches.
hex4() {
	echo "$1" | awk -F. '{printf "0x%02x%02x%02x%02x", $1, $2, $3, $4}'
}

# snapshot NS FILE: everything mapehelper may touch in NS, as text that
# only changes when the state does (counter values and the elements of
# dynamic sets masked: those are live connections, e.g. firewall4's
# per-port-set counts, which traffic and every reload change). It waits
# for duplicate address detection first: an address listed "tentative" in
# one snapshot and not in the next is the clock, not a change (vmtest's
# "down leaves nothing" failed so on a fresh link in a CI run).
snapshot() {
	wait_dad "$1"
	{
		echo "## link"
		n "$1" "$IP" -d link show
		echo "## addr"
		n "$1" "$IP" addr show
		echo "## route4"
		n "$1" "$IP" -4 route show table all
		echo "## route6"
		n "$1" "$IP" -6 route show table all
		echo "## rule"
		n "$1" "$IP" -4 rule show
		n "$1" "$IP" -6 rule show
		echo "## nft"
		n "$1" "$NFT" list ruleset
	} 2>&1 | nft_masked >"$2"
}

# nft_masked: nft's listing on stdin without what live traffic changes:
# counter values masked, the elements of dynamic sets (connection counts,
# endpoint mappings; they outlive fw4 reloads) left out.
nft_masked() {
	sed -e 's/packets [0-9]* bytes [0-9]*/packets * bytes */g' | awk '
		/^\tset / { dyn = 0 }
		/^\t\tflags .*dynamic/ { dyn = 1 }
		dyn && /^\t\telements = / { skip = 1 }
		skip { if (/}$/) skip = 0; next }
		{ print }'
}

# samestate NAME A B: verdict on two snapshots; shows the first differences.
samestate() {
	if diff -u "$2" "$3" >/tmp/diff.out 2>&1; then
		verdict "$1" 1 "identical ($(wc -l <"$2") lines of ip and nft state)"
	else
		verdict "$1" 0 "state differs:"
		head -n 40 /tmp/diff.out | sed 's/^/VMTEST   /'
	fi
}

# wait_dad NS: wait (up to 5 s, times VMTEST_slow) until no IPv6 address
# in NS is tentative.
wait_dad() {
	_i=0
	while [ "$_i" -lt $((50 * ${VMTEST_slow:-1})) ] && [ -n "$(n "$1" "$IP" -6 addr show tentative)" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# ours NS: every nft table in NS except fw4's, counter values masked.
ours() {
	n "$1" "$NFT" list tables | grep -v '^table inet fw4$' | while read -r _t _f _name; do
		n "$1" "$NFT" list table "$_f" "$_name"
	done | sed -e 's/packets [0-9]* bytes [0-9]*/packets * bytes */g'
}
