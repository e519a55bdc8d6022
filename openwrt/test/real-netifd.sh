#!/bin/sh
# Runs the protocol handlers under a real netifd, ubusd, jshn and jsonfilter
# built from OpenWrt's sources, in a private network and mount namespace:
# nothing on the host changes. Not part of `make test`: CI cannot fetch those
# sources. Manual check of what the recorder tests (handler_test.go) assume
# about netifd.
#
#   sh openwrt/test/real-netifd.sh PREFIX... -- MAPEHELPER
#
# PREFIX: install prefixes holding sbin/netifd, sbin/ubusd, bin/ubus,
# bin/uci, bin/jshn, share/libubox/jshn.sh, bin/jsonpath (jsonfilter) and
# their libraries (libubox newer than f7d1569, whose SIGCHLD typo leaves
# netifd's children unreaped); NETIFD_SCRIPTS: netifd's scripts/ directory (netifd-proto.sh,
# utils.sh). MAPEHELPER: the real binary (its `up` fails here for want of
# ip6_tunnel, which checks the error path); the success path uses a stand-in
# that makes a map-wanmap (veth) device and answers like `up --netifd`.
# Needs root (unshare -m -n, overlayfs) and busybox.
set -eu

if [ "${MH_INNER:-}" != 1 ]; then
	prefixes=""
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		prefixes="$prefixes $(cd "$1" && pwd)"
		shift
	done
	[ "$#" -ge 2 ] || { echo "usage: $0 PREFIX... -- MAPEHELPER" >&2; exit 2; }
	bin="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
	: "${NETIFD_SCRIPTS:?set NETIFD_SCRIPTS to the scripts directory of netifd}"
	export MH_INNER=1 MH_PREFIXES="$prefixes" MH_BIN="$bin" NETIFD_SCRIPTS
	MH_REPO="$(cd "$(dirname "$0")/../.." && pwd)"
	export MH_REPO
	exec unshare -m -n --propagation private sh "$0"
fi

work="$(mktemp -d /tmp/mh-real-netifd.XXXXXX)"
files="$MH_REPO/openwrt/files"
passes=0
fails=0
ok() { passes=$((passes + 1)); echo "ok   $1"; }
bad() { fails=$((fails + 1)); echo "FAIL $1"; }
check() { # name, expected substring, actual
	case "$3" in
	*"$2"*) ok "$1" ;;
	*) bad "$1: want $2, got $3" ;;
	esac
}

# /lib (= /usr/lib) gets an overlay with netifd's scripts, the handlers and
# minimal stand-ins for base-files' functions.sh/network.sh (the handlers
# only need network_find_wan6 from them, and only without tunlink).
mkdir -p "$work/upper" "$work/wd"
mount -t overlay overlay -o "lowerdir=/usr/lib,upperdir=$work/upper,workdir=$work/wd" /usr/lib
mkdir -p /lib/netifd/proto /lib/functions
cp "$NETIFD_SCRIPTS/netifd-proto.sh" "$NETIFD_SCRIPTS/utils.sh" /lib/netifd/
cp "$files/lib/netifd/mapehelper.sh" /lib/netifd/
cp "$files/lib/netifd/proto/mape.sh" "$files/lib/netifd/proto/map.sh" /lib/netifd/proto/
# config_* over the real uci CLI, and ifup, for the hotplug script.
cat >/lib/functions.sh <<'EOF'
# stand-in for base-files' functions.sh
config_load() { :; }
config_get() {
	__v="$(uci -q -c "$MH_UCI" get "network.$2.$3")"
	eval "$1=\$__v"
}
config_foreach() {
	__fn="$1" __ty="$2"
	shift 2
	for __s in $(uci -q -c "$MH_UCI" show network | sed -n "s/^network\.\([^.=]*\)=$__ty\$/\1/p"); do
		"$__fn" "$__s" "$@"
	done
}
ifup() { ubus call "network.interface.$1" down; ubus call "network.interface.$1" up; }
EOF
# network_find_wan6: the interface whose routes include ::/0.
cat >/lib/functions/network.sh <<'EOF'
# stand-in for base-files' network.sh
network_find_wan6() {
	__i="$(jsonfilter -s "$(ubus call network.interface dump)" \
		-e '@.interface[@.route[@.target="::" && @.mask=0]].interface' 2>/dev/null | head -n 1)"
	eval "$1=\$__i"
	[ -n "$__i" ]
}
EOF
# /bin/sh is BusyBox ash, as on OpenWrt (netifd's scripts use export -n).
mkdir -p "$work/upper3" "$work/wd3"
mount -t overlay overlay -o "lowerdir=/usr/bin,upperdir=$work/upper3,workdir=$work/wd3" /usr/bin
ln -sf "$(command -v busybox)" /usr/bin/sh.busybox
mv /usr/bin/sh.busybox /usr/bin/sh
mount -t tmpfs tmpfs /run
mkdir -p /run/ubus "$work/bin" "$work/upper2" "$work/wd2"
# jshn.sh where netifd-proto.sh looks for it.
mount -t overlay overlay -o "lowerdir=/usr/share,upperdir=$work/upper2,workdir=$work/wd2" /usr/share

libs=""
for p in $MH_PREFIXES; do
	for f in "$p"/bin/* "$p"/sbin/*; do [ -e "$f" ] && ln -sf "$f" "$work/bin/"; done
	if [ -d "$p/share/libubox" ]; then cp -R "$p/share/libubox" /usr/share/; fi
	libs="$libs${libs:+:}$p/lib"
done
ln -sf "$work/bin/jsonpath" "$work/bin/jsonfilter"
export LD_LIBRARY_PATH="$libs"
export PATH="$work/bin:$PATH"
[ -f /usr/share/libubox/jshn.sh ] || { echo "no jshn.sh in the prefixes" >&2; exit 2; }

# The stand-in binary: logs argv and stdin, makes/removes the device.
cat >"$work/bin/mapehelper" <<EOF
#!/bin/sh
log="$work/calls.log"
# The handler asks the binary which prefix of the link the rule uses.
[ "\$1" = linkprefix ] && exec "$MH_BIN" "\$@"
if [ "\${MH_USE_REAL:-}" = 1 ] && [ "\$1" = up ]; then
	printf 'real-up %s\n' "\$*" >>"\$log"
	exec "$MH_BIN" "\$@" --state-dir "$work/state" --include-dir ""
fi
printf '%s\n' "\$*" >>"\$log"
case "\$1" in
up)
	printf 'stdin %s\n' "\$(cat)" >>"\$log"
	ip link add map-wanmap type veth peer name mw-peer 2>/dev/null
	ip link set map-wanmap up
	echo '{"isp":"v6plus","ipv4":"14.8.52.86","psid":120,"ports":240,"tunnel":"map-wanmap","mtu":1460}'
	;;
down) ip link del map-wanmap 2>/dev/null; exit 0 ;;
esac
EOF
chmod 755 "$work/bin/mapehelper"
mkdir -p "$work/state"

ip link set lo up
mkdir -p "$work/config"
cat >"$work/config/network" <<'EOF'
config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config interface 'wan6'
	option device 'eth1'
	option proto 'static'
	option ip6addr '240b:12:3456:7800::1/64'
	option ip6gw '240b:12:3456:7800::ffff'
	option ip6prefix '240b:12:3456:7800::/56'

config interface 'wanmap'
	option proto 'mape'
	option tunlink 'wan6'
	option zone 'wan'
	option encaplimit "ign'ore\$(touch PWNED-netifd)"
EOF

# netifd runs this as hotplug-call would: every event, our script sourced.
cat >"$work/bin/hotplug-call" <<EOF
#!/bin/sh
[ "\$1" = iface ] || exit 0
echo "hotplug \$ACTION \$INTERFACE" >>"$work/hotplug.log"
( . "$files/etc/hotplug.d/iface/95-mapehelper" ) >>"$work/hotplug.log" 2>&1
EOF
chmod 755 "$work/bin/hotplug-call"
export MH_UCI="$work/config"
ubusd &
ubusd_pid=$!
sleep 0.3
netifd -c "$work/config" -h "$work/bin/hotplug-call" -r "$work/resolv.conf" -l 1 &
netifd_pid=$!
trap 'kill -9 "$netifd_pid" "$ubusd_pid" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

st() { ubus call "network.interface.$1" status 2>/dev/null || true; }
jf() { jsonfilter -s "$1" -e "$2" 2>/dev/null || true; }
wait_for() { # interface, jsonfilter expression, value
	i=0
	while [ "$i" -lt 50 ]; do
		[ "$(jf "$(st "$1")" "$2")" = "$3" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

i=0
until ubus list network >/dev/null 2>&1 || [ "$i" -ge 50 ]; do sleep 0.2; i=$((i + 1)); done
# As at boot: wanmap starts while its tunnel link cannot come up yet (no
# device); it must wait for wan6 rather than fail for good.
sleep 2
check "wanmap waits while wan6 is down" false "$(jf "$(st wanmap)" '@.up')"
check "wanmap not blocked meanwhile" true "$(jf "$(st wanmap)" '@.autostart')"
ip link add eth1 type veth peer name eth1-peer
ip link set eth1-peer up
ip link set eth1 up
handlers="$(ubus call network get_proto_handlers || true)"
check "netifd lists proto mape" '"mape"' "$handlers"
check "netifd lists proto map" '"map"' "$handlers"
check "mape declares ealen as an integer" '"ealen": "uinteger"' "$handlers"

if wait_for wanmap '@.up' true; then ok "wanmap comes up after wan6"; else bad "wanmap did not come up: $(st wanmap)"; fi
s="$(st wanmap)"
check "l3 device is the tunnel" map-wanmap "$(jf "$s" '@.l3_device')"
check "IPv4 /32 from the binary" "14.8.52.86" "$(jf "$s" '@["ipv4-address"][0].address')"
check "default route" "0.0.0.0" "$(jf "$s" '@.route[0].target')"
check "kernel has the address" "14.8.52.86/32" "$(ip -4 addr show dev map-wanmap)"
check "kernel has the default route" "default dev map-wanmap" "$(ip -4 route show default)"
check "data.prefix" "240b:12:3456:7800::/56" "$(jf "$s" '@.data.prefix')"
check "data.zone" "wan" "$(jf "$s" '@.data.zone')"
calls="$(cat "$work/calls.log")"
check "binary argv" "up --netifd --stdin-json --interface wanmap --link eth1 --prefix 240b:12:3456:7800::/56" "$calls"
check "options JSON from real jshn" '"tunlink": "wan6"' "$calls"
check "hostile value passed verbatim" "\"encaplimit\": \"ign'ore\$(touch PWNED-netifd)\"" "$calls"
if [ -e /lib/netifd/proto/PWNED-netifd ] || [ -e /PWNED-netifd ] || [ -e "$work/PWNED-netifd" ]; then
	bad "hostile value ran a command"
else
	ok "hostile value ran nothing"
fi

: >"$work/calls.log"
ubus call network.interface.wan6 down
if wait_for wanmap '@.up' false; then ok "wanmap goes down with its tunnel link"; else bad "wanmap stayed up without wan6"; fi
sleep 0.5
check "teardown ran down" "down --interface wanmap" "$(cat "$work/calls.log")"
if ip link show map-wanmap >/dev/null 2>&1; then bad "map-wanmap left behind"; else ok "map-wanmap removed"; fi
ubus call network.interface.wan6 up
if wait_for wanmap '@.up' true; then ok "wanmap set up again when wan6 returns"; else bad "wanmap not set up again: $(st wanmap)"; fi

# The real binary: no ip6_tunnel on this host, so up fails with a code.
: >"$work/calls.log"
ubus call network.interface.wanmap down
wait_for wanmap '@.up' false || true
kill -9 "$netifd_pid"
sed -i '/encaplimit/d' "$work/config/network"
MH_USE_REAL=1 netifd -c "$work/config" -h "$work/bin/hotplug-call" -r "$work/resolv.conf" -l 1 &
netifd_pid=$!
i=0
until [ -n "$(jf "$(st wanmap)" '@.errors[0].code')" ] || [ "$i" -ge 50 ]; do sleep 0.2; i=$((i + 1)); done
s="$(st wanmap)"
code="$(jf "$s" '@.errors[0].code')"
case "$code" in
NO_KERNEL_SUPPORT | TUNNEL_FAILED | NO_PERMISSION) ok "real binary's failure reaches netifd as $code" ;;
*) bad "real binary's failure: code '$code' in $s" ;;
esac
check "error names the subsystem" '"subsystem": "mape"' "$s"
check "restart blocked (autostart off)" false "$(jf "$s" '@.autostart')"
check "interface stays down" false "$(jf "$s" '@.up')"
check "down ran after the failure" "down --interface wanmap" "$(cat "$work/calls.log")"

# A prefix that arrives late: wan6 first comes up without IPv6, wanmap
# fails with MISSING_PREFIX and is blocked; when wan6 comes back with its
# prefix, the hotplug script (run by netifd as hotplug-call would) sets
# wanmap up again.
kill -9 "$netifd_pid"
sed -i -e '/ip6addr/d' -e '/ip6gw/d' -e '/ip6prefix/d' "$work/config/network"
sed -i "/option device 'eth1'/a\\	option ipaddr '192.0.2.2'\\n\\toption netmask '255.255.255.0'" "$work/config/network"
: >"$work/calls.log"
netifd -c "$work/config" -h "$work/bin/hotplug-call" -r "$work/resolv.conf" -l 1 &
netifd_pid=$!
i=0
until [ -n "$(jf "$(st wanmap)" '@.errors[0].code')" ] || [ "$i" -ge 50 ]; do sleep 0.2; i=$((i + 1)); done
s="$(st wanmap)"
check "no IPv6 on wan6 yet: MISSING_PREFIX" MISSING_PREFIX "$(jf "$s" '@.errors[0].code')"
check "blocked" false "$(jf "$s" '@.autostart')"
sed -i "/option ipaddr '192.0.2.2'/i\\	option ip6addr '240b:12:abcd:ef00::1/64'\\n\\toption ip6prefix '240b:12:abcd:ef00::/56'" "$work/config/network"
ubus call network reload
if wait_for wanmap '@.up' true; then ok "hotplug sets wanmap up once the prefix is there"; else bad "wanmap stayed down: $(st wanmap) $(cat "$work/hotplug.log" 2>/dev/null)"; fi
check "new prefix used" "--prefix 240b:12:abcd:ef00::/56" "$(cat "$work/calls.log")"
check "data.prefix updated" "240b:12:abcd:ef00::/56" "$(jf "$(st wanmap)" '@.data.prefix')"

# No tunlink, as stock configs may have it: netifd waits for an interface
# with the IPv6 default route (dependency on ::), the handler finds wan6.
kill -9 "$netifd_pid"
sed -i -e '/option tunlink/d' "$work/config/network"
sed -i "/option ip6prefix '240b:12:abcd:ef00::\/56'/a\\	option ip6gw '240b:12:abcd:ef00::ffff'" "$work/config/network"
: >"$work/calls.log"
netifd -c "$work/config" -h "$work/bin/hotplug-call" -r "$work/resolv.conf" -l 1 &
netifd_pid=$!
if wait_for wanmap '@.up' true; then ok "no tunlink: wanmap up over the IPv6 uplink"; else bad "no tunlink: $(st wanmap)"; fi
check "no tunlink: data.tunlink" wan6 "$(jf "$(st wanmap)" '@.data.tunlink')"
check "no tunlink: binary argv" "--link eth1 --prefix 240b:12:abcd:ef00::/56" "$(cat "$work/calls.log")"

# Only a /64 address, no delegated prefix: the rule comes from that /64.
# A second address in the same /64, listed first, changes nothing the rule
# depends on, so the hotplug script must not set wanmap up again (an ifup
# drops every flow). Comparing address strings, it used to. wan6 is a
# protocol whose addresses change in place, as DHCPv6's do (odhcp6c's
# script sends proto updates): netifd restarts a static interface whose
# configuration changed instead.
cat >/lib/netifd/proto/fake6.sh <<'EOF'
#!/bin/sh
. /lib/functions.sh
. ../netifd-proto.sh
init_proto "$@"
proto_fake6_init_config() {
	available=1
}
proto_fake6_setup() {
	proto_init_update "$2" 1
	proto_add_ipv6_address 240b:12:abcd:ef00::5 64
	proto_send_update "$1"
}
proto_fake6_teardown() { :; }
add_protocol fake6
EOF
chmod 755 /lib/netifd/proto/fake6.sh
kill -9 "$netifd_pid"
cat >"$work/config/network" <<'EOF'
config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config interface 'wan6'
	option device 'eth1'
	option proto 'fake6'

config interface 'wanmap'
	option proto 'mape'
	option tunlink 'wan6'
EOF
: >"$work/calls.log"
netifd -c "$work/config" -h "$work/bin/hotplug-call" -r "$work/resolv.conf" -l 1 &
netifd_pid=$!
if wait_for wanmap '@.up' true; then ok "/64 only: wanmap up"; else bad "/64 only: $(st wanmap) $(st wan6)"; fi
check "/64 only: data.prefix is the /64" "240b:12:abcd:ef00::/64" "$(jf "$(st wanmap)" '@.data.prefix')"
: >"$work/calls.log"
: >"$work/hotplug.log"
ubus call network.interface.wan6 notify_proto '{"action":0,"link-up":true,"ifname":"eth1",
	"ip6addr":[{"ipaddr":"240b:12:abcd:ef00::2","mask":"64"},{"ipaddr":"240b:12:abcd:ef00::5","mask":"64"}]}'
i=0
until grep -q "ifupdate wan6" "$work/hotplug.log" 2>/dev/null || [ "$i" -ge 50 ]; do sleep 0.2; i=$((i + 1)); done
sleep 1
s="$(st wan6)"
check "same /64: wan6 lists the new address first" "240b:12:abcd:ef00::2" "$(jf "$s" '@["ipv6-address"][0].address')"
check "same /64: hotplug ran" "ifupdate wan6" "$(cat "$work/hotplug.log")"
if grep -q "up --netifd" "$work/calls.log"; then bad "same /64: wanmap set up again: $(cat "$work/calls.log")"; else ok "same /64: wanmap left alone"; fi
check "same /64: wanmap still up" true "$(jf "$(st wanmap)" '@.up')"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
