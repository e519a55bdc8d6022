#!/bin/sh
# The LuCI page on the real LuCI: OpenWrt's uhttpd, LuCI's ucode runtime,
# rpcd and ubusd with a real login and ACLs, and netifd, from the userland
# build (../shared/openwrt-userland) in a throw-away namespace (env.sh).
# Installs our packages' files as they land on a router, then drives
# Network -> Interfaces in headless Chromium (luci.js, puppeteer-core).
#
#   run.sh USERLAND PREFIX LUCI_ARCHIVE MAPEHELPER NPMDIR OUTDIR
#
# USERLAND: ../shared/openwrt-userland (env.sh); PREFIX: its build;
# LUCI_ARCHIVE: ../shared/openwrt-luci's tarball (stock map.js, as
# luci-proto-ipv6 installs it); MAPEHELPER: the static binary; NPMDIR: where
# puppeteer-core is installed; OUTDIR: logs and screenshots.
# NEGATIVE=noacl leaves our rpcd ACL out. Needs root.
set -u
[ $# -eq 6 ] || { echo "usage: $0 USERLAND PREFIX LUCI_ARCHIVE MAPEHELPER NPMDIR OUTDIR" >&2; exit 2; }
userland=$1 prefix=$2 archive=$3 bin=$4 npm=$5 out=$6
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../../.." && pwd)
files="$top/openwrt/files"
mkdir -p "$out"
out=$(cd "$out" && pwd)

export OWRT_PREFIX="$prefix" OWRT_STATE="$out/owrt-state"
# shellcheck source=/dev/null # ../shared, outside the tree
. "$userland/env.sh"

fail() { echo "FAIL: $*"; for d in netifd rpcd uhttpd; do echo "--- $d log"; owrt_log "$d" | tail -20; done; owrt_stop; exit 1; }

owrt_running && owrt_stop
owrt_ns_start || fail "namespace"
owrt_ubusd_start || fail "ubusd"

# mapehelper as its package installs it (openwrt/files + the binary).
owrt_put "$bin" /usr/bin/mapehelper 0755
for f in lib/netifd/proto/mape.sh lib/netifd/proto/map.sh lib/netifd/mapehelper.sh \
	usr/libexec/rpcd/mape etc/hotplug.d/iface/95-mapehelper; do
	owrt_put "$files/$f" "/$f" 0755 || fail "install /$f"
done
[ "${NEGATIVE:-}" = noacl ] ||
	owrt_put "$files/usr/share/rpcd/acl.d/luci-proto-mape.json" /usr/share/rpcd/acl.d/luci-proto-mape.json
# luci-proto-mape (htdocs under the web root, /www on a router), next to
# luci-proto-ipv6's stock map.js from the LuCI archive.
owrt_put "$top/openwrt/luci-proto-mape/htdocs/luci-static/resources/protocol/mape.js" \
	/var/www/luci-static/resources/protocol/mape.js
tar -xzOf "$archive" protocols/luci-proto-ipv6/htdocs/luci-static/resources/protocol/map.js |
	owrt_write /var/www/luci-static/resources/protocol/map.js || fail "map.js from $archive"

# A LuCI login (rpcd checks root against the host's shadow): 'admin',
# password 'mapehelper', every ACL group, as root has on a router.
owrt_write /etc/config/rpcd <<'EOF'
config rpcd
	option socket /var/run/ubus/ubus.sock
	option timeout 30

config login
	option username 'admin'
	option password '$1$mapeluci$hp.p.p3xisuOuntykBBBD1'
	list read '*'
	list write '*'
EOF
owrt_rpcd_start || fail "rpcd"

# The router: wan6 static with the sample v6 plus /56 delegated, wanmap
# with only proto + tunlink (our page), stockmap with the stock map
# options (the stock page, our handler).
owrt ip link add eth1 type veth peer name eth1p || fail "veth"
owrt ip link set eth1p up
owrt_write /etc/config/network <<'EOF'
config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config interface 'wan6'
	option device 'eth1'
	option proto 'static'
	option ip6addr '240b:12:3456:7800::1/64'
	option ip6prefix '240b:12:3456:7800::/56'

config interface 'wanmap'
	option proto 'mape'
	option tunlink 'wan6'

config interface 'stockmap'
	option proto 'map'
	option maptype 'map-e'
	option peeraddr '2404:9200:225:100::64'
	option ipaddr '14.8.0.0'
	option ip4prefixlen '16'
	option ip6prefix '240b:12::'
	option ip6prefixlen '32'
	option ealen '24'
	option psidlen '8'
	option offset '4'
	option legacymap '1'
	option tunlink 'wan6'
EOF
owrt_netifd_start || fail "netifd"
owrt_uhttpd_start || fail "uhttpd"

# netifd ran our handler for wanmap after wan6 came up; this kernel has no
# ip6_tunnel, so the handler's live outcome is netifd's NO_KERNEL_SUPPORT.
# shellcheck disable=SC2016 # expanded by the namespace's shell
owrt_sh 'for i in $(seq 100); do ubus call network.interface.wanmap status | grep -q NO_KERNEL_SUPPORT && exit 0; sleep 0.1; done; exit 1' ||
	fail "netifd never reported the handler's NO_KERNEL_SUPPORT for wanmap"

chromium=$(command -v "${CHROMIUM:-chromium}") || fail "no ${CHROMIUM:-chromium} (Debian package chromium)"
owrt env HOME="$out/home" NODE_PATH="$npm/node_modules" OUT="$out" \
	CHROMIUM="$chromium" NEGATIVE="${NEGATIVE:-}" SCREENSHOT="${SCREENSHOT:-}" \
	node "$here/luci.js"
rc=$?
[ $rc -eq 0 ] || for d in netifd rpcd uhttpd; do owrt_log "$d" | tail -5 | sed "s/^/$d: /"; done
owrt_stop
exit $rc
