# shellcheck shell=sh
# 2. Faults: SIGKILL of up (and down) at random points, concurrent up and
# down, the tunnel link going down and up, a prefix change while up, and a
# kernel without ip6_tunnel. After each, one more up must converge to
# exactly the state of a clean up, and down must leave exactly the state
# from before the first up.

# up1 / up1b / down1 [WRAPPER…]: up (old or new prefix) and down of
# mape1 on ce1, optionally run under a wrapper such as chaos.
up1() { n ce1 "$@" mapehelper up --interface mape1 --link wan --prefix "$CE1_PREFIX"; }
up1b() { n ce1 mapehelper up --interface mape1 --link wan --prefix "$CE1B_PREFIX"; }
down1() { n ce1 "$@" mapehelper down --interface mape1; }

# converge NAME REF: a full up must end in the state REF.
converge() {
	up_ok "$1" ce1 mape1 CE1 || return 1
	rsnap ce1 /tmp/f.now
	if diff "$2" /tmp/f.now >/tmp/diff.out 2>&1; then
		return 0
	fi
	verdict "$1" 0 "state after up differs from a clean up:"
	head -n 30 /tmp/diff.out | sed 's/^/VMTEST   /'
	return 1
}

# clean_down NAME: down must succeed and restore the pre-up state.
clean_down() {
	if ! _o="$(ce_down ce1 mape1 2>&1)"; then
		verdict "$1" 0 "down failed: $_o"
		return 1
	fi
	rsnap ce1 /tmp/f.now
	if diff /tmp/f.pre /tmp/f.now >/tmp/diff.out 2>&1; then
		return 0
	fi
	verdict "$1" 0 "state after down differs from before up:"
	head -n 30 /tmp/diff.out | sed 's/^/VMTEST   /'
	return 1
}

# reset_ce1: removes by hand everything up may have made on ce1, so that
# one round that did not converge does not spoil the next.
reset_ce1() {
	n ce1 "$IP" link del map-mape1 2>/dev/null
	n ce1 "$NFT" delete table ip mapehelper_mape1 2>/dev/null
	for _a in $(n ce1 "$IP" -6 -o addr show dev wan scope global | awk '{print $4}'); do
		n ce1 "$IP" -6 addr del "$_a" dev wan
	done
	rm -f "$STATE_DIR/mape1.json" "$STATE_DIR/mape1.nft" "$(ce_fw4_dir ce1)/mapehelper-mape1.nft"
}

# kill_loop MODE: SIGKILL an up at a random moment until VMTEST_kills
# kills landed mid-run; after each, one up must converge to a clean up and
# down must restore the state before up. MODE "fresh" starts each round
# from nothing set up or from the same prefix set up; MODE "move" from the
# other prefix set up, so the killed up was moving the CE.
kill_loop() {
	mode="$1"
	target="${VMTEST_kills:-50}"
	# The kill window is the duration of an up from scratch, so most kills
	# land inside the work (an up over an existing state is quicker and
	# sometimes finishes first); rounds go on until target kills landed.
	# Each starting state has its own window: 90% of what an up from
	# that state takes, measured here.
	down1 >/dev/null 2>&1
	ms_fresh="$(jf ms "$(up1 chaos time --)")"
	ms_same="$(jf ms "$(up1 chaos time --)")"
	up1b >/dev/null 2>&1
	ms_move="$(jf ms "$(up1 chaos time --)")"
	down1 >/dev/null 2>&1
	i=0 killed=0 finished=0 bad=0 downkills=0
	while [ "$killed" -lt "$target" ] && [ "$i" -lt $((target * 2)) ]; do
		i=$((i + 1))
		if [ "$mode" = move ]; then
			up1b >/dev/null 2>&1
			st=move
		elif [ $((i % 2)) = 0 ]; then
			up1 >/dev/null 2>&1
			st=same
		else
			down1 >/dev/null 2>&1
			st=fresh
		fi
		win=$(($(eval "echo \$ms_$st") * 9 / 10 + 1))
		r="$(up1 chaos kill -max "${win}ms" -seed "$i" --)"
		case "$r" in
		*'"killed":true'*) killed=$((killed + 1)) ;;
		*)
			finished=$((finished + 1))
			# It finished before the kill: the window was longer than an
			# up from this state really takes (timing on a loaded host
			# varies); shrink it to this run's duration.
			m="$(jf ms "$r")"
			[ "$m" -lt "$(eval "echo \$ms_$st")" ] && eval "ms_$st=$m"
			;;
		esac
		if ! converge "faults: up converges after kill -9 ($mode) #$i ($r)" /tmp/f.ref; then
			bad=$((bad + 1))
			reset_ce1
			continue
		fi
		# Every fifth round also kill a down at a random point.
		if [ $((i % 5)) = 0 ]; then
			r="$(down1 chaos kill -max "${win}ms" -seed $((i + 1000)) --)"
			case "$r" in *'"killed":true'*) downkills=$((downkills + 1)) ;; esac
			up1 >/dev/null 2>&1
		fi
		clean_down "faults: down leaves nothing after kill -9 ($mode) #$i" || { bad=$((bad + 1)); reset_ce1; }
		if [ $((i % 10)) = 0 ]; then
			up_ok "faults: up after kill round $i" ce1 mape1 CE1 && effective "faults: traffic after kill round $i" h1 ce1 "$S1" "$CE1_IPV4" 24
			down1 >/dev/null 2>&1
		fi
	done
	verdict "faults: kill -9 of up at random points ($mode)" "$(is "$bad" = 0 -a "$killed" -ge "$target")" \
		"$i rounds (an up takes ${ms_fresh} ms from nothing, ${ms_same} ms over itself, ${ms_move} ms moving the prefix): $killed ups killed mid-run, $finished finished first, $downkills downs killed; $bad rounds did not converge"
	echo "VMTEST FIGURE kill_mode=$mode kills_injected=$((killed + downkills)) kill_rounds=$i rounds_not_converged=$bad"
}

concurrent() {
	rounds=10 bad=0 codes=""
	i=0
	while [ "$i" -lt "$rounds" ]; do
		i=$((i + 1))
		up1 >/dev/null 2>/tmp/c.e0
		# Fire up and down (and a second up) at the same moment.
		down1 >/dev/null 2>/tmp/c.e1 &
		a=$!
		up1b >/dev/null 2>/tmp/c.e2 &
		b=$!
		up1 >/dev/null 2>/tmp/c.e3 &
		c=$!
		wait "$a"
		ra=$?
		wait "$b"
		rb=$?
		wait "$c"
		rc=$?
		codes="$codes $ra$rb$rc"
		wait_dad ce1
		rsnap ce1 /tmp/c.now
		# Whichever ran last decides; the result must be exactly one of the
		# three clean states, never a mixture.
		if diff -q /tmp/c.now /tmp/f.pre >/dev/null || diff -q /tmp/c.now /tmp/f.ref >/dev/null || diff -q /tmp/c.now /tmp/f.refb >/dev/null; then
			:
		else
			bad=$((bad + 1))
			echo "VMTEST   round $i: mixed state (exits $ra $rb $rc): $(cat /tmp/c.e1 /tmp/c.e2 /tmp/c.e3 | head -n 3 | tr '\n' ' ')"
			diff /tmp/f.ref /tmp/c.now | head -n 20 | sed 's/^/VMTEST   /'
		fi
		[ "$ra$rb$rc" = 000 ] || echo "VMTEST   round $i exits: down $ra up-b $rb up $rc: $(cat /tmp/c.e1 /tmp/c.e2 /tmp/c.e3 | tr '\n' ' ')"
	done
	verdict "faults: concurrent up/up/down are serialised" "$(is "$bad" = 0)" "$rounds rounds, exit codes (down,up-b,up):$codes; $bad ended in a mixed state"
	converge "faults: up converges after the concurrency rounds" /tmp/f.ref && clean_down "faults: down after the concurrency rounds" &&
		verdict "faults: state clean after concurrency" 1 "up = clean up, down = before up"
}

# fresh_ref NS FIXTURE FILE: down, a clean up of FIXTURE and its state,
# for comparisons after events that reorder the link's own addresses.
fresh_ref() {
	ce_down "$1" mape1 >/dev/null 2>&1
	up_ok "faults: clean up for reference" "$1" mape1 "$2" && rsnap "$1" "$3"
}

link_flap() {
	up_ok "faults: up before link flap" ce1 mape1 CE1 || return
	n ce1 "$IP" link set wan down
	sleep 1
	n ce1 "$IP" link set wan up
	# What the ISP and netifd do when the link returns: link-local address
	# and default route back, then the handler runs up again.
	n ce1 "$IP" addr add fe80::2/64 dev wan nodad 2>/dev/null
	n ce1 "$IP" -6 route replace default via fe80::1 dev wan
	up_ok "faults: up after the link went down and up" ce1 mape1 CE1 || return
	rsnap ce1 /tmp/lf.now
	fresh_ref ce1 CE1 /tmp/lf.ref
	same "faults: link down/up then up = a clean up" /tmp/lf.ref /tmp/lf.now
	effective "faults: traffic after link down/up" h1 ce1 "$S1" "$CE1_IPV4"
}

prefix_change() {
	up_ok "faults: up before prefix change" ce1 mape1 CE1 || return
	if wants prefixflow; then
		# A flow that lives across the change (fixed source port): its old
		# mapping uses a port of the old PSID, which the BR refuses from
		# the new CE address. The CE must not keep sending it.
		n h1 chaos udpflow -to "$SERVER:9001" -lport 40001 -every 200ms -for 8s >/tmp/pc.flow &
		fp=$!
		sleep 2
	fi
	d0="$(br_drops ce1 ce1b)"
	up_ok "faults: up with the new prefix" ce1 mape1 CE1B || return
	if wants prefixflow; then
		# Packets sent while up moves the tunnel, before it flushes the
		# stale NAT mappings, may still carry an old port (a transition of
		# a few packets); once up has returned none may, and the flow must
		# be answered again.
		d1="$(br_drops ce1 ce1b)"
		wait "$fp"
		drops=$(($(br_drops ce1 ce1b) - d1))
		f="$(cat /tmp/pc.flow)"
		verdict "faults: a flow across the prefix change moves to the new port set" "$(is "$(jf tail_answered "$f")" -gt 0 -a "$(jf tail_answered "$f")" = "$(jf tail_sent "$f")" -a "$drops" = 0)" \
			"flow: $(jf answered "$f")/$(jf sent "$f") answered, last quarter $(jf tail_answered "$f")/$(jf tail_sent "$f"), source ports $(echo "$f" | sed -n 's/.*"ports":\[\([^]]*\)\].*/\1/p'); br_drops during up=$((d1 - d0)), after up=$drops"
	fi
	rsnap ce1 /tmp/pc.now
	effective "faults: traffic after prefix change" h1 ce1b "$S1B" "$CE1B_IPV4"
	fresh_ref ce1 CE1B /tmp/pc.ref
	same "faults: prefix change while up = a clean up of the new prefix" /tmp/pc.ref /tmp/pc.now
	ce_down ce1 mape1 >/dev/null 2>&1
}

# missing_module: runs before any tunnel exists. Without ip6_tunnel, up
# must fail with one clear line and leave nothing behind.
missing_module() {
	if ! rmmod ip6_tunnel 2>/tmp/rm.err; then
		verdict "faults: kernel without ip6_tunnel" 0 "could not unload ip6_tunnel: $(cat /tmp/rm.err)"
		return
	fi
	rsnap ce1 /tmp/mm.pre
	out="$(n ce1 mapehelper up --interface mape1 --link wan --prefix "$CE1_PREFIX" 2>&1)"
	rc=$?
	rsnap ce1 /tmp/mm.post
	lines="$(printf '%s\n' "$out" | grep -c .)"
	clear=0
	case "$out" in *ip6_tunnel* | *ip6tnl* | *"kernel"*) clear=1 ;; esac
	verdict "faults: kernel without ip6_tunnel gives one clear error" "$(is "$rc" = 1 -a "$lines" = 1 -a "$clear" = 1)" "exit $rc: $out"
	# The kernel must be as before; the state file may record the error.
	kernel_only /tmp/mm.pre >/tmp/mm.pre.k
	kernel_only /tmp/mm.post >/tmp/mm.post.k
	same "faults: nothing left in the kernel without ip6_tunnel" /tmp/mm.pre.k /tmp/mm.post.k
	st="$(n ce1 mapehelper status --json 2>&1 | tr -d '\n')"
	case "$st" in *NO_KERNEL_SUPPORT*) sk=1 ;; *) sk=0 ;; esac
	verdict "faults: status names the missing kernel support" "$sk" "$(echo "$st" | sed -n 's/.*\("error_code": "[^"]*"\).*/\1/p')"
	n ce1 mapehelper down --interface mape1 >/dev/null 2>&1
	rsnap ce1 /tmp/mm.down
	same "faults: down after the failed up leaves nothing" /tmp/mm.pre /tmp/mm.down
	insmod /lib/modules/ip6_tunnel.ko || verdict "faults: reload ip6_tunnel" 0 "insmod failed"
}

