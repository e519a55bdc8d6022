#!/bin/sh
# Installs the apk packages `APK=… make ipk` built (OpenWrt 25.x) with a real
# apk-tools 3 into a scratch root: metadata accepted, files and modes in
# place, the stock map package refused (versioned "provides: map"),
# upgrade, removal. Not part of `make test`: apk-tools 3 is not in Debian
# and CI cannot fetch its sources.
#
#   sh openwrt/test/apk-install.sh APK OUTDIR VERSION ARCH [NEWER_APK]
# OUTDIR: what build.sh wrote (OUTDIR/apk/ARCH/…); NEWER_APK: a mapehelper
# apk of a later version, to check the upgrade.
set -eu

apk_bin="$1"
out="$(cd "$2" && pwd)"
version="$3"
arch="$4"
work="$(mktemp -d /tmp/mh-apk.XXXXXX)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
passes=0
fails=0
ok() { passes=$((passes + 1)); echo "ok   $1"; }
bad() { fails=$((fails + 1)); echo "FAIL $1"; }
t() { # name, command...: ok when the command succeeds
	name="$1"
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}
a() { "$apk_bin" --root "$root" --arch "$arch" --allow-untrusted --no-network --no-cache "$@"; }

# stub NAME VERSION: a minimal noarch package (libc, the kmods, luci-base,
# and the stock map package with its handler file).
stub() {
	d="$work/stub-$1-$2"
	mkdir -p "$d/usr/share/stub"
	echo "$1" >"$d/usr/share/stub/$1"
	if [ "$1" = map ]; then
		mkdir -p "$d/lib/netifd/proto"
		echo '#!/bin/sh' >"$d/lib/netifd/proto/map.sh"
	fi
	"$apk_bin" mkpkg --info "name:$1" --info "version:$2" --info "arch:noarch" \
		--info "description:stub" --files "$d" --output "$work/$1-$2.apk"
	echo "$work/$1-$2.apk"
}

# The scripts run chrooted into the root: a static BusyBox as /bin/sh and a
# functions.sh that records which of base-files' functions were called.
mkdir -p "$root/bin" "$root/lib" "$root/tmp"
cp "$(command -v busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cat >"$root/lib/functions.sh" <<'FEOF'
add_group_and_user() { echo "add_group_and_user $pkgname" >>/tmp/calls; }
default_postinst() { echo "default_postinst $pkgname" >>/tmp/calls; }
default_prerm() { echo "default_prerm $pkgname" >>/tmp/calls; }
FEOF
a add --initdb >/dev/null 2>&1 || bad "initdb"
for p in libc kmod-ip6-tunnel kmod-nft-core kmod-nft-nat kmod-nf-conntrack-netlink kmod-nft-connlimit kmod-sched-core luci-base; do
	a add "$(stub "$p" 1)" >/dev/null 2>&1 || bad "stub $p"
done
t "stock map stub installed" a add "$(stub map 8)"

main="$out/apk/$arch/mapehelper-$version.apk"
luci="$out/apk/noarch/luci-proto-mape-$version.apk"
if a add "$main" >"$work/out" 2>&1; then
	bad "installed next to the stock map package: $(cat "$work/out")"
else
	ok "refused next to map: $(grep -m1 -i -E 'conflict|error|map' "$work/out")"
fi
t "stock map removed" a del map
if a add "$main" >"$work/out" 2>&1; then ok "mapehelper installed"; else bad "install: $(cat "$work/out")"; fi
for f in usr/bin/mapehelper lib/netifd/proto/mape.sh lib/netifd/proto/map.sh usr/libexec/rpcd/mape; do
	t "$f executable" [ -x "$root/$f" ]
done
for f in lib/netifd/mapehelper.sh etc/hotplug.d/iface/95-mapehelper usr/share/rpcd/acl.d/luci-proto-mape.json \
	lib/apk/packages/mapehelper.list; do
	t "$f present" [ -f "$root/$f" ]
done
t "file list names the binary" grep -qx /usr/bin/mapehelper "$root/lib/apk/packages/mapehelper.list"
t "post-install ran default_postinst" grep -qx "default_postinst mapehelper" "$root/tmp/calls"
t "post-install ran the package's own part" grep -q "network restart" "$work/out"
if a add "$(stub map 9)" >"$work/out" 2>&1; then bad "stock map installed next to mapehelper"; else ok "stock map refused while mapehelper is installed"; fi
if [ -n "${5:-}" ]; then
	if a add "$5" >"$work/out" 2>&1; then ok "upgrade to $(basename "$5")"; else bad "upgrade: $(cat "$work/out")"; fi
	newer="$(sed -n '/^P:mapehelper$/,/^$/s/^V://p' "$root/lib/apk/db/installed")"
	if [ -n "$newer" ] && [ "$newer" != "$version" ]; then ok "installed database shows $newer"; else bad "version after the upgrade: '$newer'"; fi
fi
if a add "$luci" >"$work/out" 2>&1; then ok "luci-proto-mape installed"; else bad "luci install: $(cat "$work/out")"; fi
t "mape.js in /www" [ -f "$root/www/luci-static/resources/protocol/mape.js" ]
t "luci-proto-mape removed" a del luci-proto-mape
if a del mapehelper >"$work/out" 2>&1; then ok "mapehelper removed"; else bad "remove: $(cat "$work/out")"; fi
t "pre-deinstall ran default_prerm" grep -qx "default_prerm mapehelper" "$root/tmp/calls"
t "binary gone" [ ! -e "$root/usr/bin/mapehelper" ]
t "handler gone" [ ! -e "$root/lib/netifd/proto/mape.sh" ]

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
