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
