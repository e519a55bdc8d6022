# shellcheck shell=sh
# Part "netifd" of owrt-router.sh: the handler as real netifd runs it.

if wait_status wanmap '@.up' true 60; then :; else diag; fi
iface_is wanmap true "$CE1_IPV4" "netifd: wanmap up at boot (proto mape, tunlink wan6 only)"
wait_dad router
traffic "after boot" "$S1" "$CE1_IPV4" ce1

/sbin/ifdown wanmap
wait_status wanmap '@.up' false 30 || diag
iface_is wanmap false "" "netifd: ifdown wanmap"
no_traffic "ifdown: nothing passes" "$S1" "$CE1_IPV4" ce1
/sbin/ifup wanmap
wait_status wanmap '@.up' true 60 || diag
iface_is wanmap true "$CE1_IPV4" "netifd: ifup wanmap"
traffic "after ifup" "$S1" "$CE1_IPV4" ce1

ubus call network reload
sleep 2
wait_status wanmap '@.up' true 60 || diag
iface_is wanmap true "$CE1_IPV4" "netifd: network reload"
traffic "after network reload" "$S1" "$CE1_IPV4" ce1

uci set network.wan6.ip6prefix="$CEN_PREFIX"
uci commit network
ubus call network reload
wait_status wanmap '@["ipv4-address"][0].address' "$CEN_IPV4" 60 || diag
iface_is wanmap true "$CEN_IPV4" "netifd: changed ip6prefix moves wanmap to $CEN_IPV4"
wait_dad router
traffic "after the prefix change (PSID $CEN_PSID)" "$SN" "$CEN_IPV4" cen

stop_daemon netifd
netifd_start
wait_status wanmap '@.up' true 60 || diag
iface_is wanmap true "$CEN_IPV4" "netifd: restarted netifd sets wanmap up again"
wait_dad router
traffic "after a netifd restart" "$SN" "$CEN_IPV4" cen

# The stock map package's configuration (every rule option, proto 'map')
# through the same handler: the rule for the current prefix written out.
uci batch <<-EOT
	set network.wanmap.proto='map'
	set network.wanmap.maptype='map-e'
	set network.wanmap.peeraddr='$V6PLUS_BR'
	set network.wanmap.ipaddr='14.8.0.0'
	set network.wanmap.ip4prefixlen='16'
	set network.wanmap.ip6prefix='240b:12::'
	set network.wanmap.ip6prefixlen='32'
	set network.wanmap.ealen='24'
	set network.wanmap.psidlen='8'
	set network.wanmap.offset='4'
	set network.wanmap.legacymap='1'
	set network.wanmap.mtu='1460'
	commit network
EOT
ubus call network reload
sleep 2
wait_status wanmap '@.proto' map 30 || diag
wait_status wanmap '@.up' true 60 || diag
iface_is wanmap true "$CEN_IPV4" "netifd: stock proto 'map' config through our handler"
wait_dad router
traffic "stock proto 'map' config" "$SN" "$CEN_IPV4" cen

# No tunlink and no IPv6 default route: netifd holds the interface back
# (host dependency on ::) as "not available" with its own NO_DEVICE, and
# sets it up by itself once a default route appears. (NO_TUNLINK is not
# what a user sees here.)
uci batch <<-EOT
	delete network.wanmap.tunlink
	delete network.wan6.ip6gw
	commit network
EOT
ubus call network reload
# Waited for, not read after a fixed sleep: netifd sets the error a moment
# after available goes false (a CI-like run here read errors empty at 3 s).
wait_status wanmap '@.errors[0].code' NO_DEVICE 30 || true
s="$(st wanmap)"
verdict "netifd: no tunlink, no IPv6 default route: waits (NO_DEVICE, not available, autostart kept)" \
	"$(is "$(j "$s" '@.up')" = false -a "$(j "$s" '@.available')" = false -a "$(j "$s" '@.errors[0].code')" = NO_DEVICE -a "$(j "$s" '@.autostart')" = true)" \
	"up=$(j "$s" '@.up') available=$(j "$s" '@.available') autostart=$(j "$s" '@.autostart') errors=$(j "$s" '@.errors[*].code')"
uci set network.wan6.ip6gw='fe80::1'
uci commit network
ubus call network reload
wait_status wanmap '@.up' true 60 || diag
iface_is wanmap true "$CEN_IPV4" "netifd: no tunlink: up by itself once wan6 has the default route"
wait_dad router
traffic "no tunlink, over the IPv6 uplink" "$SN" "$CEN_IPV4" cen

# A prefix that arrives late through network reload: wanmap fails with
# MISSING_PREFIX (blocked), the hotplug script must set it up when wan6
# gets its prefix. Repeated: a first manual run lost this race 3 of ~20 times.
uci set network.wanmap.tunlink='wan6'
uci commit network
k=1
while [ "$k" -le "${VMTEST_lateprefix:-3}" ]; do
	uci batch <<-EOT
		delete network.wan6.ip6addr
		delete network.wan6.ip6prefix
		commit network
	EOT
	ubus call network reload
	wait_status wanmap '@.errors[0].code' MISSING_PREFIX 30 || true
	# The handler reports the error, then blocks restarts: two ubus calls,
	# so the status can show the first without the second for a moment.
	wait_status wanmap '@.autostart' false 10 || true
	s="$(st wanmap)"
	verdict "netifd: late prefix $k: wan6 without IPv6 -> MISSING_PREFIX, blocked" \
		"$(is "$(j "$s" '@.errors[0].code')" = MISSING_PREFIX -a "$(j "$s" '@.autostart')" = false)" \
		"up=$(j "$s" '@.up') autostart=$(j "$s" '@.autostart') errors=$(j "$s" '@.errors[*].code')"
	uci batch <<-EOT
		set network.wan6.ip6addr='240b:12:3456:7800::1/64'
		set network.wan6.ip6prefix='$CE1_PREFIX'
		commit network
	EOT
	ubus call network reload
	wait_status wanmap '@.up' true 30 || diag
	iface_is wanmap true "$CE1_IPV4" "netifd: late prefix $k: the hotplug script sets wanmap up"
	k=$((k + 1))
done
wait_dad router
traffic "after the late prefix" "$S1" "$CE1_IPV4" ce1
