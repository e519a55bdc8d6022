# shellcheck shell=sh
# Helpers of the real-OpenWrt scenario (owrt-router.sh): the router is the
# VM's root network namespace running OpenWrt's own daemons from the
# userland build; vmtest's ISP, BR, server and a LAN host are namespaces.
#
#   h1 ─ lan [router: netifd, ubusd, rpcd, fw4] wan ─ isp ─ br ─ srv
#
# The router's wan has a fixed MAC, so its link-local address (the ISP's
# next hop for the delegated prefixes) survives every link flap and netifd
# reconfiguration.

OWRT="${VMTEST_owrt:?vmtest.owrt=PREFIX missing}"
ROUTER_LL=fe80::ff:fe00:2
# Prefix change target (written down from RFC 7597's legacy v6 plus
# layout, like fixtures.sh): EA bits 0xabcdef of 240b:12::/32 give
# 14.8.171.205 and PSID 0xef.
# shellcheck disable=SC2034 # used by the parts
{
	CEN_PREFIX=240b:12:abcd:ef00::/56
	CEN_ADDR=240b:12:abcd:ef00:e:8ab:cd00:ef00
	CEN_IPV4=14.8.171.205
	CEN_PSID=239
}

# j JSON EXPR: one value with the real jsonfilter ("" when absent).
j() {
	jsonfilter -s "$1" -e "$2" 2>/dev/null || true
}

# st IFACE: netifd's status of an interface.
st() {
	ubus call "network.interface.$1" status 2>/dev/null || true
}

# wait_status IFACE EXPR VALUE [SECONDS]: wait until the status field has
# VALUE (default 30 s, times VMTEST_slow); fails otherwise.
wait_status() {
	_w=0
	_max=$((${4:-30} * 5 * ${VMTEST_slow:-1}))
	while [ "$_w" -lt "$_max" ]; do
		[ "$(j "$(st "$1")" "$2")" = "$3" ] && return 0
		sleep 0.2
		_w=$((_w + 1))
	done
	return 1
}

# wan6_static NAME: wan6 back to owrt-router.sh's static configuration
# (CE1's address and delegated /56), network reload, and the verdict NAME
# that wanmap is up again on CE1's IPv4.
# shellcheck disable=SC2153 # CE1_PREFIX and CE1_IPV4 come from fixtures.sh
wan6_static() {
	uci batch <<-EOT
		set network.wan6.proto='static'
		set network.wan6.ip6addr='240b:12:3456:7800::1/64'
		set network.wan6.ip6gw='fe80::1'
		set network.wan6.ip6prefix='$CE1_PREFIX'
		commit network
	EOT
	ubus call network reload
	wait_status wanmap '@["ipv4-address"][0].address' "$CE1_IPV4" 60 || diag
	wait_dad router
	iface_is wanmap true "$CE1_IPV4" "$1"
}

# router_topology: the namespaces around the router and its two links.
# shellcheck disable=SC2153 # CE1_PREFIX and the BR address come from fixtures.sh
router_topology() {
	for ns in isp br srv h1; do echo "netns add $ns"; done | nsbatch -
	# The root namespace gets a name too, so lib.sh's helpers (n,
	# snapshot, wait_dad) work on the router.
	"$IP" netns attach router 1
	for ns in isp br srv h1; do
		_w="echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad"
		case "$ns" in
		br) _w="$_w; echo 1 >/proc/sys/net/ipv4/ip_forward; echo 1 >/proc/sys/net/ipv6/conf/all/forwarding" ;;
		isp) _w="$_w; echo 1 >/proc/sys/net/ipv6/conf/all/forwarding" ;;
		esac
		n "$ns" sh -c "$_w"
	done
	# What OpenWrt's sysctl defaults do on the router.
	echo 1 >/proc/sys/net/ipv4/ip_forward
	{
		echo "link add toce netns isp type veth peer name wan"
		echo "link set wan address 02:00:00:00:00:02"
		echo "link add lan type veth peer name eth0 netns h1"
		echo "link add tobr netns isp type veth peer name toisp netns br"
		echo "link add tosrv netns br type veth peer name eth0 netns srv"
	} | nsbatch -
	nsbatch isp <<-EOT
		link set lo up
		addr add 2404:9200:225:100::1/64 dev tobr
		link set tobr up
		addr add fe80::1/64 dev toce
		link set toce up
		route add $CE1_PREFIX via $ROUTER_LL dev toce
		route add $CEN_PREFIX via $ROUTER_LL dev toce
	EOT
	nsbatch br <<-EOT
		link set lo up
		addr add $V6PLUS_BR/64 dev toisp
		link set toisp up
		route add ::/0 via 2404:9200:225:100::1 dev toisp
		addr add 203.0.113.1/24 dev tosrv
		link set tosrv up
	EOT
	nsbatch srv <<-EOT
		link set lo up
		addr add $SERVER/24 dev eth0
		link set eth0 up
		route add default via 203.0.113.1
	EOT
	nsbatch h1 <<-EOT
		link set lo up
		addr add 192.168.1.2/24 dev eth0
		link set eth0 up
		route add default via 192.168.1.1
	EOT
}

# owrt_root: what procd and base-files would have prepared at boot.
owrt_root() {
	# OpenWrt's /bin/sh is BusyBox ash looking commands up in PATH; the
	# guest's busybox-static would run its own ifup/ip applets instead.
	ln -sf "$OWRT/bin/busybox" /bin/sh
	mkdir -p /var/run/ubus /var/state /var/lock /tmp/resolv.conf.d /tmp/log /etc/init.d
	# procd's init script, reduced to what firewall4's hotplug script and
	# this scenario call.
	cat >/etc/init.d/firewall <<-'EOF'
		#!/bin/sh
		case "$1" in
		enabled) [ -e /etc/rc.d/S19firewall ] ;;
		start | boot) fw4 -q start ;;
		reload) fw4 reload ;;
		restart) fw4 restart ;;
		stop) fw4 flush ;;
		esac
	EOF
	chmod 755 /etc/init.d/firewall
	mkdir -p /etc/rc.d
}

# daemon NAME CMD…: start CMD in the background with its output in
# /tmp/log/NAME.log and its pid in /tmp/NAME.pid.
daemon() {
	_d="$1"
	shift
	"$@" >>"/tmp/log/$_d.log" 2>&1 </dev/null &
	echo "$!" >"/tmp/$_d.pid"
}

# stop_daemon NAME: TERM the daemon started by daemon NAME and wait for it.
stop_daemon() {
	[ -f "/tmp/$1.pid" ] || return 0
	_p="$(cat "/tmp/$1.pid")"
	kill "$_p" 2>/dev/null
	_w=0
	while kill -0 "$_p" 2>/dev/null && [ "$_w" -lt 50 ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
	kill -9 "$_p" 2>/dev/null
	rm -f "/tmp/$1.pid"
}

# netifd_start: netifd as procd starts it (logging to stderr here: no logd).
netifd_start() {
	daemon netifd netifd -S -l "${NETIFD_LOGLEVEL:-2}"
	_w=0
	until ubus -S list network.interface >/dev/null 2>&1; do
		_w=$((_w + 1))
		[ "$_w" -lt 100 ] || return 1
		sleep 0.1
	done
}

# SPORT and PINGID move on with every traffic check, so a check never meets
# the previous one's flows still held by conntrack.
SPORT=8000
PINGID=1000

# traffic NAME SETS IPV4 BRNAME: 240 concurrent TCP connections (every port
# of the set), 20 UDP flows and 10 pings from the LAN host through the
# router all succeed, from inside SETS as IPV4, with no BR drop.
traffic() {
	SPORT=$((SPORT + 1))
	[ "$SPORT" -le 8008 ] || SPORT=8001
	PINGID=$((PINGID + 10))
	_n="$(setsize "$2")"
	_d0="$(br_drops "$4")"
	_t="$(n h1 probe tcp -to "$SERVER:$SPORT" -n "$_n" -ports "$2" -src "$3")"
	_u="$(n h1 probe udp -to "$SERVER:9001" -n 20 -timeout 5s -ports "$2" -src "$3")"
	_i="$(n h1 probe icmp -to "$SERVER" -n 10 -id "$PINGID" -timeout 2s)"
	_s="$(n srv probe seen -proto icmp -ports "$2" -src "$3")"
	_drops=$(($(br_drops "$4") - _d0))
	verdict "traffic $1" "$(is "$(jf ok "$_t")" = "$_n" -a "$(jf in_set "$_t")" = "$_n" \
		-a "$(jf ok "$_u")" = 20 -a "$(jf in_set "$_u")" = 20 -a "$(jf ok "$_i")" = 10 \
		-a "$(jf in_set "$_s")" = 10 -a "$(jf out_of_set "$_s")" = 0 -a "$_drops" = 0)" \
		"tcp $(jf ok "$_t")/$_n in set $(jf in_set "$_t"), udp $(jf ok "$_u")/20 in set $(jf in_set "$_u"), ping $(jf ok "$_i")/10 (ids in set $(jf in_set "$_s")), br_drops=$_drops"
}

# no_traffic NAME SETS IPV4 BRNAME: the negative control of traffic: of a
# few connections, not all get through, so the traffic check would fail.
# Not "none": without our table fw4's masquerade still translates to the
# shared IPv4 and keeps the LAN host's source port when it can, and a
# random ephemeral port lies in our set about once in 250 (1 of 5 got
# through in a run here).
no_traffic() {
	SPORT=$((SPORT + 1))
	[ "$SPORT" -le 8008 ] || SPORT=8001
	_t="$(n h1 probe tcp -to "$SERVER:$SPORT" -n 5 -timeout 2s -ports "$2" -src "$3")"
	verdict "negative control: $1" "$(is "$(jf ok "$_t")" -lt 5)" "tcp $(jf ok "$_t")/5 got through (the traffic check would fail)"
}

# iface_is IFACE UP IPV4 NAME: netifd's status of IFACE says up=UP and
# (when up) the IPv4 address IPV4 on device map-IFACE.
iface_is() {
	_s="$(st "$1")"
	_ok=1
	[ "$(j "$_s" '@.up')" = "$2" ] || _ok=0
	if [ "$2" = true ]; then
		[ "$(j "$_s" '@["ipv4-address"][0].address')" = "$3" ] || _ok=0
		[ "$(j "$_s" '@.l3_device')" = "map-$1" ] || _ok=0
	fi
	verdict "$4" "$_ok" "up=$(j "$_s" '@.up') ipv4=$(j "$_s" '@["ipv4-address"][0].address') device=$(j "$_s" '@.l3_device') errors=$(j "$_s" '@.errors[*].code')"
}

# ours_table: our table as nft lists it, "" when absent; counter values
# and the elements of dynamic sets masked (lib.sh's nft_masked).
ours_table() {
	nft list table ip mapehelper_wanmap 2>/dev/null | nft_masked
}

# kstate CEADDR: what our handler leaves in the kernel, counted: nft
# tables of ours, MAP tunnels, and router addresses equal to CEADDR.
kstate() {
	echo "tables=$(nft list tables 2>/dev/null | grep -c ' mapehelper_') tunnels=$("$IP" -o link show type ip6tnl | grep -c ': map-') ce=$("$IP" -6 -o addr show | grep -c " $1/")"
}

# diag: the daemons' logs and netifd's view, after a failure.
diag() {
	echo "VMTEST   diag: $(ubus call network.interface dump 2>&1 | tr -d '\n\t' | cut -c1-1500)"
	tail -n 30 /tmp/log/netifd.log | sed 's/^/VMTEST   netifd: /'
}
