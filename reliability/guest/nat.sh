# shellcheck shell=sh
# Issue 12, items 1, 3 and 6: what happens to traffic between two ups and
# around fw4, with a sender running through it.
#   ipv4flow  a UDP flow at 10 packets/s across down; up with a prefix of
#             another IPv4 (netifd's order): it must be answered again
#             within 2 s of up's return, from the new address, and no
#             packet may reach the BR with the old one after the new up.
#   fw4lock   a fw4 reload that has read the previous include when up
#             starts (FW4_SLOW widens that window to 2 s) must not load the
#             previous table after up's: up waits for fw4's lock.
#   window    a UDP flow at 10 packets/s through up (from nothing), fw4
#             flush, 2 s without any table, fw4 start: not one packet may
#             reach the BR with a private source (the tunnel's tc guard,
#             which fw4 flush does not remove), and the flow must be
#             answered again after fw4 start.

# most_answered FLOWJSON: prints 1 when at least 90 % of the flow's last quarter
# was answered (an answer later than the 100 ms interval counts as lost,
# which the loaded TCG VM does now and then).
most_answered() {
	_t="$(jf tail_answered "$1")"
	_n="$(jf tail_sent "$1")"
	is "$_n" -gt 0 -a $((_t * 10)) -ge $((_n * 9))
}

# ipv4_flow: the stale-SNAT check.
ipv4_flow() {
	up_ok "nat: up before the IPv4 change" ce1 mape1 CE1 || return
	n h1 chaos udpflow -to "$SERVER:9004" -lport 40004 -every 100ms -for 10s >/tmp/nf.flow &
	fp=$!
	sleep 3
	t0="$(now_ms)"
	ce_down ce1 mape1 >/tmp/nf.down 2>&1
	n ce1 mapehelper up --interface mape1 --link wan --prefix "$CE1C_PREFIX" >/tmp/nf.up 2>&1
	rc=$?
	t1="$(now_ms)"
	d1="$(br_drops ce1 ce1c)"
	wait_dad ce1
	[ "$rc" = 0 ] || verdict "nat: up with a prefix of another IPv4" 0 "$(cat /tmp/nf.up)"
	wait "$fp"
	drops=$(($(br_drops ce1 ce1c) - d1))
	f="$(cat /tmp/nf.flow)"
	gap="$(jf max_gap_ms "$f")"
	# The tunnel is gone from down until up has returned (netifd's order);
	# after that the flow must be answered again within 2 s.
	limit=$((t1 - t0 + 2000))
	last="$(echo "$f" | sed -n 's/.*"addrs":\[\([^]]*\)\].*/\1/p' | tr -d '"' | awk -F, '{print $NF}')"
	verdict "nat: a flow across down; up to another IPv4 resumes within 2 s on the new address" \
		"$(is "${gap:-99999}" -le "$limit" -a "$last" = "$CE1C_IPV4" -a "$drops" = 0 -a "$(most_answered "$f")" = 1)" \
		"flow: $(jf answered "$f")/$(jf sent "$f") answered, longest gap ${gap}ms (down + up took $((t1 - t0))ms, limit ${limit}ms), last quarter $(jf tail_answered "$f")/$(jf tail_sent "$f"), source addresses $(echo "$f" | sed -n 's/.*"addrs":\[\([^]]*\)\].*/\1/p'); br_drops after up=$drops"
	effective "nat: traffic after the IPv4 change" h1 ce1c "$S1C" "$CE1C_IPV4"
	ce_down ce1 mape1 >/dev/null 2>&1
}

# fw4_lock_race: a slow fw4 reload racing up to a new prefix.
fw4_lock_race() {
	up_ok "nat: reference up of the new prefix" ce1 mape1 CE1B || return
	ours ce1 mape1 >/tmp/nl.refb
	ce_down ce1 mape1 >/dev/null 2>&1
	up_ok "nat: up before the race" ce1 mape1 CE1 || return
	FW4_SLOW=2 fw4 ce1 reload &
	rp=$!
	sleep 0.5 # fw4 holds the lock and has read the include of CE1
	out="$(n ce1 chaos time -- mapehelper up --interface mape1 --link wan --prefix "$CE1B_PREFIX" 2>&1)"
	wait "$rp"
	wait_dad ce1
	ours ce1 mape1 >/tmp/nl.now
	verdict "nat: up racing a fw4 reload that read the old include exits 0" "$(is "$(jf exit "$out")" = 0)" "$out"
	same "nat: after up racing a fw4 reload our table is the new one" /tmp/nl.refb /tmp/nl.now
	effective "nat: traffic after up racing a fw4 reload" h1 ce1b "$S1B" "$CE1B_IPV4"
	ce_down ce1 mape1 >/dev/null 2>&1
}

# flush_window: no private source leaves the tunnel, whatever fw4 does.
flush_window() {
	ce_down ce1 mape1 >/dev/null 2>&1
	d0="$(br_drops ce1)"
	n h1 chaos udpflow -to "$SERVER:9005" -lport 40005 -every 100ms -for 14s >/tmp/nw.flow &
	fp=$!
	sleep 1
	up_ok "nat: up under a running flow" ce1 mape1 CE1 || {
		wait "$fp"
		return
	}
	sleep 1
	fw4 ce1 flush
	t0="$(now_ms)"
	gone="$(ours ce1 mape1)"
	sleep 2
	fw4 ce1 start
	t1="$(now_ms)"
	wait "$fp"
	drops=$(($(br_drops ce1) - d0))
	f="$(cat /tmp/nw.flow)"
	verdict "nat: no private source leaves the tunnel through up, fw4 flush and fw4 start" \
		"$(is "$drops" = 0 -a "$gone" = missing -a "$(most_answered "$f")" = 1)" \
		"br_drops=$drops (private or foreign sources reaching the BR), our table after flush: $(echo "$gone" | head -n 1), no table for $((t1 - t0))ms; flow $(jf answered "$f")/$(jf sent "$f") answered, last quarter $(jf tail_answered "$f")/$(jf tail_sent "$f")"
	ce_down ce1 mape1 >/dev/null 2>&1
}
