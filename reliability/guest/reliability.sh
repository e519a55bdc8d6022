#!/bin/sh
# shellcheck disable=SC1091 # sourced files are checked with shellcheck -x by mk/reliability.mk
# The reliability scenario, run by vmtest's guest init when the kernel
# command line says vmtest.scenario=reliability.sh (see reliability/vm.sh).
# It reuses vmtest's topology, BR and CE helpers and adds an fw4
# emulation, fault injection, port forwarding and a soak.
# vmtest.rel=PART,… chooses the parts (default: all of them):
#   modules lifecycle rejected kills killsmove concurrent linkflap prefix prefixflow
#   router portfwd fwdstatus ipv4flow fw4lock window soak
# vmtest.kills=N kill -9 rounds that land mid-up (50), vmtest.soak=SECONDS (120).
# shellcheck source=vmtest/guest/lib.sh
. /vmtest/lib.sh
# shellcheck source=vmtest/guest/fixtures.sh
. /vmtest/fixtures.sh
# shellcheck source=vmtest/guest/topo.sh
. /vmtest/topo.sh
# shellcheck source=vmtest/guest/br.sh
. /vmtest/br.sh
# shellcheck source=vmtest/guest/ce.sh
. /vmtest/ce.sh
# shellcheck source=reliability/guest/fw4.sh
. /vmtest/fw4.sh
# shellcheck source=reliability/guest/rel.sh
. /vmtest/rel.sh
# shellcheck source=reliability/guest/lifecycle.sh
. /vmtest/lifecycle.sh
# shellcheck source=reliability/guest/faults.sh
. /vmtest/faults.sh
# shellcheck source=reliability/guest/traffic.sh
. /vmtest/traffic.sh
# shellcheck source=reliability/guest/soak.sh
. /vmtest/soak.sh
# shellcheck source=reliability/guest/nat.sh
. /vmtest/nat.sh

# wants PART: 1 when PART is to run.
wants() {
	case ",${VMTEST_rel:-modules,lifecycle,rejected,kills,killsmove,concurrent,linkflap,prefix,prefixflow,router,portfwd,fwdstatus,ipv4flow,fw4lock,window,soak}," in
	*",$1,"*) return 0 ;;
	esac
	return 1
}

S1="$(fx_sets CE1)"
S2="$(fx_sets CE2)"
S1B="$(fx_sets CE1B)"
S1C="$(fx_sets CE1C)"
# shellcheck disable=SC2034 # read by lifecycle.sh
N1S="$(echo "$S1" | tr ',' '\n' | wc -l)"
# shellcheck disable=SC2034 # read by fw4.sh and rel.sh through eval
FW4_IFACES_ce1=mape1
# shellcheck disable=SC2034

FW4_IFACES_ce2=mape2
echo "VMTEST reliability: parts ${VMTEST_rel:-all}, kills ${VMTEST_kills:-50}, soak ${VMTEST_soak:-120}s"

step topology
topo_setup
# fw4 is "installed": its include directory exists, so up links its include.
mkdir -p "$(ce_fw4_dir ce1)" "$(ce_fw4_dir ce2)" /tmp/fw4
fw4 ce1 start
fw4 ce2 start

if wants modules; then
	step missing-module
	missing_module
fi
rsnap ce1 /tmp/f.pre

br_setup
br_ce 1 ce1 "$CE1_ADDR" "$CE1_IPV4" "$S1" "$V6PLUS_BR"
br_ce 2 ce2 "$CE2_ADDR" "$CE2_IPV4" "$S2" "$V6PLUS_BR"
br_ce 3 ce1b "$CE1B_ADDR" "$CE1B_IPV4" "$S1B" "$V6PLUS_BR"
br_ce 4 ce1c "$CE1C_ADDR" "$CE1C_IPV4" "$S1C" "$V6PLUS_BR"
br_commit || verdict br-setup 0 "nft rejected the BR ruleset"
n srv sink -tcp 8001,8002,8003,8004,8005,8006,8007,8008 -udp 53,123,9001,9002,9003,9004,9005,9006,9007,9008 -icmp -ctl 127.0.0.1:9000 >/dev/null 2>&1 &
SINK=$!
i=0
until n srv probe seen >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || { verdict sink 0 "sink did not start"; break; }
	sleep 0.1
done

# Reference states: a clean up of each prefix, and before any up.
up_ok "reference: up" ce1 mape1 CE1 && rsnap ce1 /tmp/f.ref
up_ok "reference: up new prefix" ce1 mape1 CE1B && rsnap ce1 /tmp/f.refb
ce_down ce1 mape1 >/dev/null 2>&1
rsnap ce1 /tmp/f.down
same "reference: down restores the state before up" /tmp/f.pre /tmp/f.down

if wants lifecycle; then
	step lifecycle
	lifecycle
fi
if wants rejected; then
	step rejected-ruleset
	up_ok "rejected: up" ce1 mape1 CE1 && ours ce1 mape1 >/tmp/lc.ref && broken_model
	ce_down ce1 mape1 >/dev/null 2>&1
fi
ce_down ce1 mape1 >/dev/null 2>&1
for part in kills killsmove concurrent linkflap prefix; do
	# prefixflow is a check inside the prefix change.
	wants "$part" || { [ "$part" = prefix ] && wants prefixflow; } || continue
	step "faults-$part"
	case "$part" in
	kills) kill_loop fresh ;;
	killsmove) kill_loop move ;;
	concurrent) concurrent ;;
	linkflap) link_flap ;;
	prefix) prefix_change ;;
	esac
	ce_down ce1 mape1 >/dev/null 2>&1
done
if wants router; then
	step router-own
	router_own
	ce_down ce1 mape1 >/dev/null 2>&1
fi
if wants portfwd; then
	step port-forward
	port_forward
	ce_down ce1 mape1 >/dev/null 2>&1
fi
for part in ipv4flow fw4lock window; do
	wants "$part" || continue
	step "nat-$part"
	case "$part" in
	ipv4flow) ipv4_flow ;;
	fw4lock) fw4_lock_race ;;
	window) flush_window ;;
	esac
	ce_down ce1 mape1 >/dev/null 2>&1
done
if wants soak; then
	step soak
	rsnap ce1 /tmp/soak.pre1
	rsnap ce2 /tmp/soak.pre2
	soak
fi

kill "$SINK" 2>/dev/null
step finished
echo "VMTEST SUMMARY pass=$PASSES fail=$FAILS elapsed=$(($(date +%s) - START))s"
[ "$FAILS" = 0 ]
