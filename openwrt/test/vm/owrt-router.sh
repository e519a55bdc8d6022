#!/bin/sh
# shellcheck disable=SC1091 # guest files, checked by mk/openwrt-real.mk with -x
# Guest scenario (vmtest.scenario=owrt-router.sh, from openwrt/test/owrt-vm.sh):
# the package on a router made of OpenWrt's real netifd, ubusd, rpcd, uci,
# jshn, jsonfilter, ucode and firewall4, on a real kernel, behind a BR that
# enforces the port sets. Parts (vmtest.parts, default all): netifd, link, fw4, rpcd.
# Every check prints one "VMTEST PASS|FAIL" line for vmtest/run.sh.
# shellcheck source=vmtest/guest/lib.sh
. /vmtest/lib.sh
# shellcheck source=vmtest/guest/fixtures.sh
. /vmtest/fixtures.sh
# shellcheck source=vmtest/guest/topo.sh
. /vmtest/topo.sh
# shellcheck source=vmtest/guest/br.sh
. /vmtest/br.sh
# shellcheck source=openwrt/test/vm/owrt-lib.sh
. /vmtest/owrt-lib.sh

PARTS=",${VMTEST_parts:-netifd,link,fw4,rpcd},"
part() { case "$PARTS" in *",$1,"*) return 0 ;; esac; return 1; }

S1="$(portsets "$V6PLUS_OFFSET" "$V6PLUS_PSIDLEN" "$CE1_PSID")"
SN="$(portsets "$V6PLUS_OFFSET" "$V6PLUS_PSIDLEN" "$CEN_PSID")"
router_topology
br_setup
br_ce 1 ce1 "$CE1_ADDR" "$CE1_IPV4" "$S1" "$V6PLUS_BR"
br_ce 2 cen "$CEN_ADDR" "$CEN_IPV4" "$SN" "$V6PLUS_BR"
br_commit || verdict br-setup 0 "nft rejected the BR ruleset"
n srv sink -tcp 8001,8002,8003,8004,8005,8006,8007,8008 -udp 9001 -icmp -ctl 127.0.0.1:9000 &
owrt_root

# The router's configuration: wan6 static with the sample v6 plus
# delegated prefix, wanmap with only proto and tunlink.
network_config() { # WANMAP-SECTION-BODY
	cat >/etc/config/network <<-EOF
		config interface 'loopback'
			option device 'lo'
			option proto 'static'
			option ipaddr '127.0.0.1'
			option netmask '255.0.0.0'

		config interface 'lan'
			option device 'lan'
			option proto 'static'
			option ipaddr '192.168.1.1'
			option netmask '255.255.255.0'

		config interface 'wan6'
			option device 'wan'
			option proto 'static'
			option ip6addr '240b:12:3456:7800::1/64'
			option ip6gw 'fe80::1'
			option ip6prefix '$CE1_PREFIX'

		config interface 'wanmap'
		$1
	EOF
}
network_config "	option proto 'mape'
	option tunlink 'wan6'"

# A DHCPv6-like protocol for wan6 (part link): setup only brings the link
# up; the scenario sends the lease through netifd-proto.sh as odhcp6c's
# script does. netifd reads /lib/netifd/proto at start.
cat >/lib/netifd/proto/dhcpv6like.sh <<-'EOF'
	#!/bin/sh
	. /lib/functions.sh
	. ../netifd-proto.sh
	init_proto "$@"
	proto_dhcpv6like_init_config() { available=1; }
	proto_dhcpv6like_setup() { proto_init_update "$2" 1; proto_send_update "$1"; }
	proto_dhcpv6like_teardown() { :; }
	add_protocol dhcpv6like
EOF
chmod 755 /lib/netifd/proto/dhcpv6like.sh

daemon ubusd ubusd
i=0
until ubus list >/dev/null 2>&1 || [ "$i" -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
# rpcd's default config, plus a LuCI user whose only grant is our ACL
# group (password "password").
cat >/etc/config/rpcd <<-'EOF'
	config rpcd
		option socket /var/run/ubus/ubus.sock
		option timeout 30

	config login
		option username 'luci'
		option password '$1$salt$qJH7.N4xYta3aEG/dfqo/0'
		list read 'luci-proto-mape'
EOF
daemon rpcd rpcd
netifd_start || verdict "netifd starts" 0 "$(tail -n 5 /tmp/log/netifd.log)"

if part netifd; then
	# shellcheck source=openwrt/test/vm/owrt-netifd.sh
	. /vmtest/owrt-netifd.sh
fi
if part link; then
	# shellcheck source=openwrt/test/vm/owrt-link.sh
	. /vmtest/owrt-link.sh
fi
if part fw4; then
	# shellcheck source=openwrt/test/vm/owrt-fw4.sh
	. /vmtest/owrt-fw4.sh
fi
if part rpcd; then
	# shellcheck source=openwrt/test/vm/owrt-rpcd.sh
	. /vmtest/owrt-rpcd.sh
fi

echo "VMTEST RESULT $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
