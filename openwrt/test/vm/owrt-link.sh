# shellcheck shell=sh
# Part "link" of owrt-router.sh: the tunnel link (wan6) under real netifd.
# Starts and ends with wanmap up on CE1's prefix (tunlink wan6). Measured
# with netifd as pinned: a carrier loss on wan is not an interface event
# for proto static (netifd logs "link connectivity loss", wan6 and wanmap
# stay up, nothing is set up again); `ifdown wan6` takes wanmap down
# through its host dependency (NO_DEVICE, not available) and `ifup wan6`
# (network reload, down, up) sets it up again.

wait_status wanmap '@.up' true 60 || diag
wait_dad router

# linkstate NAME UP CEADDR: netifd's view of wanmap and the kernel agree:
# up with one table, one tunnel and one CE address, or down with none.
linkstate() {
	_k="$(kstate "$3")"
	if [ "$2" = true ]; then _want="tables=1 tunnels=1 ce=1"; else _want="tables=0 tunnels=0 ce=0"; fi
	verdict "$1" "$(is "$(j "$(st wanmap)" '@.up')" = "$2" -a "$_k" = "$_want")" \
		"wanmap up=$(j "$(st wanmap)" '@.up') errors=$(j "$(st wanmap)" '@.errors[*].code'); $_k"
}

# wait_kstate CEADDR WANT: until kstate says WANT (teardown runs after
# netifd reports the interface down), at most 10 s.
wait_kstate() {
	_i=0
	while [ "$_i" -lt $((50 * ${VMTEST_slow:-1})) ] && [ "$(kstate "$1")" != "$2" ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
}

# 1a. Carrier loss: the ISP's end of the cable goes away and comes back.
# A veth's carrier follows its peer's admin state, and taking the ISP's
# end down flushes its routes, so the ISP puts them back as its router
# would after the link returns.
before="$(ours_table)"
n isp "$IP" link set toce down
i=0
while [ "$i" -lt 50 ] && "$IP" link show wan | grep -q LOWER_UP; do sleep 0.1; i=$((i + 1)); done
sleep 2
s="$(st wan6)"
verdict "link: carrier loss: wan6 stays up (proto static), wanmap keeps its tunnel and table" \
	"$(is "$(j "$s" '@.up')" = true -a "$(j "$(st wanmap)" '@.up')" = true -a "$(kstate "$CE1_ADDR")" = "tables=1 tunnels=1 ce=1" -a "$(ours_table)" = "$before")" \
	"carrier=$("$IP" link show wan | grep -c LOWER_UP) wan6 up=$(j "$s" '@.up') wanmap up=$(j "$(st wanmap)" '@.up'); $(kstate "$CE1_ADDR")"
n isp "$IP" link set toce up
nsbatch isp <<-EOT
	addr replace fe80::1/64 dev toce
	route replace $CE1_PREFIX via $ROUTER_LL dev toce
	route replace $CEN_PREFIX via $ROUTER_LL dev toce
EOT
wait_dad router
wait_dad isp
linkstate "link: carrier back: wanmap up, one table, tunnel, CE address" true "$CE1_ADDR"
traffic "after a carrier flap" "$S1" "$CE1_IPV4" ce1

# 1b. The tunnel link goes down and up in netifd.
/sbin/ifdown wan6
wait_status wanmap '@.available' false 30 || diag
# netifd reports the interface unavailable and records its error in two
# steps, so the status can show the first without the second for a moment.
wait_status wanmap '@.errors[0].code' NO_DEVICE 10 || true
wait_kstate "$CE1_ADDR" "tables=0 tunnels=0 ce=0"
s="$(st wanmap)"
verdict "link: ifdown wan6: wanmap down, not available (NO_DEVICE), autostart kept" \
	"$(is "$(j "$s" '@.up')" = false -a "$(j "$s" '@.errors[0].code')" = NO_DEVICE -a "$(j "$s" '@.autostart')" = true)" \
	"up=$(j "$s" '@.up') available=$(j "$s" '@.available') autostart=$(j "$s" '@.autostart') errors=$(j "$s" '@.errors[*].code')"
linkstate "link: ifdown wan6: no table, tunnel or CE address left" false "$CE1_ADDR"
no_traffic "wan6 down: nothing passes" "$S1" "$CE1_IPV4" ce1
/sbin/ifup wan6
wait_status wanmap '@.up' true 60 || diag
wait_dad router
linkstate "link: ifup wan6 after ifdown: wanmap up again, one table, tunnel, CE address" true "$CE1_ADDR"
verdict "link: ifup wan6 after ifdown: our table as before" "$(is "$(ours_table)" = "$before")" ""
traffic "after ifdown/ifup wan6" "$S1" "$CE1_IPV4" ce1

# 2. ifup wan6 while wanmap is up (what a DHCPv6 renewal script or a user
# does): wanmap follows, set up again once, nothing doubled.
ups0="$(grep -c "Interface 'wanmap' is now up" /tmp/log/netifd.log)"
idx0="$("$IP" -o link show map-wanmap | cut -d: -f1)"
/sbin/ifup wan6
sleep 2
wait_status wanmap '@.up' true 60 || diag
wait_dad router
linkstate "link: ifup wan6 while up: wanmap up, one table, tunnel, CE address" true "$CE1_ADDR"
ups1="$(grep -c "Interface 'wanmap' is now up" /tmp/log/netifd.log)"
idx1="$("$IP" -o link show map-wanmap | cut -d: -f1)"
verdict "link: ifup wan6 while up: wanmap set up again once (a new tunnel), table as before" \
	"$(is $((ups1 - ups0)) = 1 -a "$idx1" != "$idx0" -a "$(ours_table)" = "$before")" \
	"netifd set wanmap up $((ups1 - ups0)) time(s); tunnel ifindex $idx0 -> $idx1"
traffic "after ifup wan6" "$S1" "$CE1_IPV4" ce1

# 3. /64-only wan6 (no delegated prefix): the rule comes from the /64 of
# wan6's own address; CEN's /64, so the values move and must be the
# calculator's (and the hand-written fixtures').
uci batch <<-EOT
	delete network.wan6.ip6prefix
	set network.wan6.ip6addr='240b:12:abcd:ef00::1/64'
	commit network
EOT
ubus call network reload
wait_status wanmap '@["ipv4-address"][0].address' "$CEN_IPV4" 60 || diag
wait_dad router
wait_kstate "$CEN_ADDR" "tables=1 tunnels=1 ce=1"
c="$(mapehelper calc --json 240b:12:abcd:ef00::1/64)"
s="$(st wanmap)"
tl="$("$IP" -d link show map-wanmap | sed -n 's/.* local \([0-9a-f:]*\) .*/\1/p')"
verdict "link: /64-only wan6: wanmap up from the /64 (data.prefix), IPv4 and CE address as mapehelper calc says" \
	"$(is "$(j "$s" '@.up')" = true -a "$(j "$s" '@.data.prefix')" = 240b:12:abcd:ef00::/64 -a "$(j "$c" '@.ipv4')" = "$CEN_IPV4" -a "$(j "$c" '@.ce')" = "$CEN_ADDR" \
		-a "$(j "$s" '@["ipv4-address"][0].address')" = "$(j "$c" '@.ipv4')" -a "$tl" = "$(j "$c" '@.ce')" -a "$(j "$c" '@.psid')" = "$CEN_PSID")" \
	"up=$(j "$s" '@.up') prefix=$(j "$s" '@.data.prefix') ipv4=$(j "$s" '@["ipv4-address"][0].address') tunnel local=$tl; calc: ipv4=$(j "$c" '@.ipv4') ce=$(j "$c" '@.ce') psid=$(j "$c" '@.psid')"
linkstate "link: /64-only wan6: one table, tunnel and the new CE address" true "$CEN_ADDR"
verdict "link: /64-only wan6: the old CE address is gone" "$(is "$(kstate "$CE1_ADDR")" = "tables=1 tunnels=1 ce=0")" "$(kstate "$CE1_ADDR")"
traffic "/64-only wan6 (PSID $CEN_PSID)" "$SN" "$CEN_IPV4" cen

# Back to CE1's delegated prefix for the parts that follow.
wan6_static "link: back on the delegated /56"

# 4. wan6 as DHCPv6 runs it: the link stays up while its lease changes.
# proto 'dhcpv6like' (written by owrt-router.sh) only brings the link up;
# v6lease sends addresses and prefixes the way odhcp6c's script does
# (proto_send_update: netifd replaces the lists, wan6 stays up, hotplug
# gets ifupdate). When the lease ends and every prefix goes, wanmap must
# not keep the tunnel and rules of a prefix that is no longer ours (the
# hotplug script sets it up again, setup fails with MISSING_PREFIX); the
# next lease brings it back.
v6lease() { # [ADDR/64 PREFIX]: the lease's address and prefix, none if empty
	(
		# shellcheck disable=SC1091 # OpenWrt's own library, in the guest
		. /lib/netifd/netifd-proto.sh
		proto_init_update wan 1
		if [ -n "${1:-}" ]; then
			proto_add_ipv6_address "${1%/*}" "${1#*/}" 3600 7200
			proto_add_ipv6_prefix "$2,3600,7200"
			proto_add_ipv6_route "::" 0 fe80::1
		fi
		proto_send_update wan6
	)
}
uci batch <<-EOT
	set network.wan6.proto='dhcpv6like'
	delete network.wan6.ip6addr
	delete network.wan6.ip6prefix
	delete network.wan6.ip6gw
	commit network
EOT
ubus call network reload
wait_status wan6 '@.up' true 30 || diag
v6lease 240b:12:3456:7800::1/64 "$CE1_PREFIX"
wait_status wanmap '@["ipv4-address"][0].address' "$CE1_IPV4" 60 || diag
wait_dad router
wait_kstate "$CE1_ADDR" "tables=1 tunnels=1 ce=1"
linkstate "link: DHCPv6-like wan6 with a lease: wanmap up" true "$CE1_ADDR"
traffic "DHCPv6-like wan6" "$S1" "$CE1_IPV4" ce1
v6lease
wait_status wanmap '@.errors[0].code' MISSING_PREFIX 30 || diag
wait_kstate "$CE1_ADDR" "tables=0 tunnels=0 ce=0"
s="$(st wanmap)"
verdict "link: the lease ends, wan6 stays up without prefix: wanmap down with MISSING_PREFIX" \
	"$(is "$(j "$(st wan6)" '@.up')" = true -a "$(j "$s" '@.up')" = false -a "$(j "$s" '@.errors[0].code')" = MISSING_PREFIX)" \
	"wan6 up=$(j "$(st wan6)" '@.up') wanmap up=$(j "$s" '@.up') errors=$(j "$s" '@.errors[*].code')"
linkstate "link: the lease ends: no table, tunnel or CE address left" false "$CE1_ADDR"
v6lease 240b:12:3456:7800::1/64 "$CE1_PREFIX"
wait_status wanmap '@["ipv4-address"][0].address' "$CE1_IPV4" 60 || diag
wait_dad router
wait_kstate "$CE1_ADDR" "tables=1 tunnels=1 ce=1"
linkstate "link: a new lease: wanmap up again" true "$CE1_ADDR"
traffic "after a new lease" "$S1" "$CE1_IPV4" ce1

# Back to the static wan6 for the parts that follow.
wan6_static "link: back on the static wan6"
