# shellcheck shell=sh
# 1. Firewall life cycle: our rules must be present (the table lists
# exactly as after a clean up) and effective (traffic through the BR) after
# every fw4 event, and a ruleset that fails validation must never reach
# fw4 while the previous good rules stay.

# after_event NAME: compare our table with the reference and test traffic.
after_event() {
	ours ce1 mape1 >/tmp/lc.now
	same "lifecycle: rules present after $1" /tmp/lc.ref /tmp/lc.now
	effective "lifecycle: rules effective after $1" h1 ce1 "$S1" "$CE1_IPV4"
}

lifecycle() {
	up_ok "lifecycle: up" ce1 mape1 CE1 || return
	ours ce1 mape1 >/tmp/lc.ref
	verdict "lifecycle: our table loaded" "$(is "$(grep -c 'snat' /tmp/lc.ref)" -eq "$N1S")" \
		"$(grep -c 'snat' /tmp/lc.ref) snat rules for $N1S port sets; fw4 include $(readlink "$(ce_fw4_dir ce1)/mapehelper-mape1.nft" 2>/dev/null || echo missing)"
	effective "lifecycle: rules effective after up" h1 ce1 "$S1" "$CE1_IPV4"

	fw4 ce1 reload
	after_event "fw4 reload"

	fw4 ce1 restart
	after_event "fw4 restart"

	fw4 ce1 flush
	gone="$(ours ce1 mape1)"
	verdict "lifecycle: fw4 flush removes every table (ours too)" "$(is "$gone" = missing)" "our table after flush: $(echo "$gone" | head -n 1)"
	fw4 ce1 start
	after_event "fw4 flush + start"

	# A reload racing an up that re-creates everything from scratch.
	ce_down ce1 mape1 >/dev/null 2>&1
	reloads=0
	n ce1 mapehelper up --interface mape1 --link wan --prefix "$CE1_PREFIX" >/tmp/lc.up.out 2>&1 &
	upid=$!
	while kill -0 "$upid" 2>/dev/null; do
		fw4 ce1 reload
		reloads=$((reloads + 1))
	done
	wait "$upid"
	rc=$?
	wait_dad ce1
	verdict "lifecycle: up with concurrent fw4 reloads succeeds" "$(is "$rc" = 0)" "exit $rc, $reloads reloads during up: $(head -n 1 /tmp/lc.up.out)"
	after_event "fw4 reloads during up"
}

# broken_model: an up whose ruleset fails nft's check (an nft that rejects
# every -c run stands in for a ruleset nft cannot load) must fail with one
# clear line, leave the fw4 include and the loaded rules as they were, and
# leave fw4 able to reload.
broken_model() {
	inc="$STATE_DIR/mape1.nft"
	sum0="$(md5sum <"$inc" 2>/dev/null)"
	link0="$(readlink "$(ce_fw4_dir ce1)/mapehelper-mape1.nft")"
	rsnap ce1 /tmp/bm.pre
	mkdir -p /tmp/badnft
	cat >/tmp/badnft/nft <<'EOT'
#!/bin/sh
for a in "$@"; do
	[ "$a" = -c ] && { echo "Error: syntax error, unexpected junk (injected by the reliability test)" >&2; exit 1; }
done
exec /usr/sbin/nft "$@"
EOT
	chmod 755 /tmp/badnft/nft
	# A different prefix, so the rejected ruleset differs from the good one.
	out="$(n ce1 env PATH="/tmp/badnft:$PATH" mapehelper up --interface mape1 --link wan --prefix "$CE1B_PREFIX" 2>&1)"
	rc=$?
	lines="$(printf '%s\n' "$out" | grep -c .)"
	verdict "lifecycle: rejected ruleset fails up with one clear line" "$(is "$rc" = 1 -a "$lines" = 1)" "exit $rc: $out"
	sum1="$(md5sum <"$inc" 2>/dev/null)"
	link1="$(readlink "$(ce_fw4_dir ce1)/mapehelper-mape1.nft")"
	verdict "lifecycle: rejected ruleset never reaches fw4" "$(is "$sum0" = "$sum1" -a "$link0" = "$link1")" "include ${sum1%% *} (was ${sum0%% *}), link -> $link1"
	rsnap ce1 /tmp/bm.post
	kernel_only /tmp/bm.pre >/tmp/bm.pre.k
	kernel_only /tmp/bm.post >/tmp/bm.post.k
	same "lifecycle: a rejected up leaves the previous tunnel, addresses, routes and rules" /tmp/bm.pre.k /tmp/bm.post.k
	st="$(n ce1 mapehelper status --json --interface mape1 2>&1 | tr -d '\n')"
	case "$st" in
	*'"error_code": "FIREWALL_FAILED"'*) serr=1 ;;
	*) serr=0 ;;
	esac
	verdict "lifecycle: the rejection is visible in status" "$serr" "$(echo "$st" | grep -o '"\(state\|error_code\)": "[^"]*"' | tr '\n' ' ')"
	fw4 ce1 reload
	fw4ok="$(n ce1 "$NFT" list chain inet fw4 srcnat >/dev/null 2>&1 && echo 1 || echo 0)"
	verdict "lifecycle: fw4 still reloads after the rejection" "$fw4ok" "$(head -n 1 /tmp/fw4/ce1.err 2>/dev/null)"
	after_event "a rejected ruleset"
}
