#!/bin/sh
# shellcheck disable=SC1091 # vmtest's guest files, checked by mk/vmtest.mk
# Guest scenario (vmtest.scenario=openwrt-handler.sh): the netifd protocol
# handler as packaged, with the real mapehelper and real kernel objects in
# vmtest's topology. netifd itself is the recorder (openwrt/test/fake), which
# logs the proto_* calls; this script then does what netifd would with them
# (the /32 address and the default route on the reported tunnel), so traffic
# from the LAN host goes through the BR. Every check prints one
# "VMTEST PASS|FAIL" line for vmtest/run.sh.
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

FAKE=/openwrt-fake
RECORD=/tmp/record
export FAKE_UBUS=/tmp/ubus RECORD
mkdir -p "$FAKE_UBUS"

# wan6 of the CE as netifd would report it: device wan, delegated prefix.
wan6_status() {
	printf '{"up":true,"l3_device":"wan","device":"wan","ipv6-prefix":[{"address":"%s","mask":%s}]}' \
		"${1%/*}" "${1#*/}" >"$FAKE_UBUS/network.interface.wan6.status"
}

# handler ACTION CONFIG: run the packaged handler's setup or teardown for
# interface wanmap in ce1, as netifd runs it (from /lib/netifd/proto).
handler() {
	: >"$RECORD"
	n ce1 env PATH="$FAKE:$PATH" CONFIG="$2" sh -c "cd /lib/netifd/proto && INCLUDE_ONLY=1 && . $FAKE/recorder.sh && . ./mape.sh && json_load \"\$CONFIG\" && proto_mape_$1 wanmap ''" \
		>/tmp/handler.out 2>&1
	tr '\0' ' ' <"$RECORD"
}

# netifd_apply CALLS: what netifd does with proto_add_ipv4_address/route.
netifd_apply() {
	_v4="$(printf '%s' "$1" | sed -n 's/.*proto_add_ipv4_address \([0-9.]*\) 32 .*/\1/p')"
	_dev="$(printf '%s' "$1" | sed -n 's/.*proto_init_update \([^ ]*\) 1 .*/\1/p')"
	n ce1 "$IP" addr add "$_v4/32" dev "$_dev"
	n ce1 "$IP" route add default dev "$_dev"
}

contains() { case "$1" in *"$2"*) echo 1 ;; *) echo 0 ;; esac; }

S1="$(fx_sets CE1)"
N1="$(setsize "$S1")"
topo_setup
br_setup
br_ce 1 ce1 "$CE1_ADDR" "$CE1_IPV4" "$S1" "$V6PLUS_BR"
br_ce 3 ce1b "$CE1B_ADDR" "$CE1B_IPV4" "$(fx_sets CE1B)" "$V6PLUS_BR"
br_commit || verdict br-setup 0 "nft rejected the BR ruleset"
n srv sink -tcp 8001 -ctl 127.0.0.1:9000 &
i=0
until n srv probe seen >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || { verdict sink 0 "sink did not start"; break; }
	sleep 0.1
done
mkdir -p "$(ce_fw4_dir ce1)"
wait_dad ce1 # a still-tentative link-local address would differ from the later snapshots
snapshot ce1 /tmp/ce1.pre

# A broken rule: the code reaches netifd, restarts are blocked, nothing stays.
wan6_status "$CE1_PREFIX"
calls="$(handler setup '{"proto":"mape","tunlink":"wan6","ip6prefix":"240b:12::","ip6prefixlen":32,"ipaddr":"14.8.0.0","ealen":99}')"
verdict "handler: broken rule reported" "$(contains "$calls" "proto_notify_error wanmap INVALID_MAP_RULE")" "$calls"
verdict "handler: broken rule blocks restarts" "$(contains "$calls" "proto_block_restart wanmap")" ""
snapshot ce1 /tmp/ce1.broken
samestate "handler: broken rule leaves nothing" /tmp/ce1.pre /tmp/ce1.broken

# The minimal config: tunnel, CE address and rules from the real binary.
calls="$(handler setup '{"proto":"mape","tunlink":"wan6","zone":"wan"}')"
verdict "handler: setup reports the tunnel" "$(contains "$calls" "proto_init_update map-wanmap 1 ")" "$calls"
verdict "handler: setup reports the IPv4" "$(contains "$calls" "proto_add_ipv4_address $CE1_IPV4 32 ")" ""
verdict "handler: setup sends the update" "$(contains "$calls" "proto_send_update wanmap")" "$(tail -n 3 /tmp/handler.out)"
local_addr="$(n ce1 "$IP" -d link show map-wanmap 2>/dev/null | sed -n 's/.* local \([0-9a-f:]*\) .*/\1/p')"
verdict "kernel: tunnel from the CE address" "$(is "$local_addr" = "$CE1_ADDR")" "map-wanmap local '$local_addr'"
netifd_apply "$calls"
wait_dad ce1
d0="$(br_drops ce1)"
r="$(n h1 probe tcp -to "$SERVER:8001" -n "$N1" -ports "$S1" -src "$CE1_IPV4")"
drops=$(($(br_drops ce1) - d0))
verdict "traffic through the handler's tunnel" \
	"$(is "$(jf ok "$r")" = "$N1" -a "$(jf in_set "$r")" = "$N1" -a "$drops" = 0)" \
	"$(jf ok "$r")/$N1 connections, $(jf in_set "$r") in the port set, br_drops=$drops"

# The delegated prefix changes: setup again moves the tunnel.
wan6_status "$CE1B_PREFIX"
calls="$(handler setup '{"proto":"mape","tunlink":"wan6","zone":"wan"}')"
local_addr="$(n ce1 "$IP" -d link show map-wanmap 2>/dev/null | sed -n 's/.* local \([0-9a-f:]*\) .*/\1/p')"
verdict "prefix change: tunnel from the new CE address" "$(is "$local_addr" = "$CE1B_ADDR")" "map-wanmap local '$local_addr'"
verdict "prefix change: old CE address gone" "$(is -z "$(n ce1 "$IP" -6 addr show dev wan | grep "$CE1_ADDR/")")" ""

# Teardown: everything the binary made goes (netifd drops address and route).
n ce1 "$IP" route del default dev map-wanmap 2>/dev/null
calls="$(handler teardown '{}')"
snapshot ce1 /tmp/ce1.post
samestate "handler: teardown leaves nothing" /tmp/ce1.pre /tmp/ce1.post

echo "VMTEST RESULT $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
