#!/bin/sh
# Installs the packages `make ipk` built with a real opkg-lede (built from
# OpenWrt's sources) into a scratch offline root: format accepted, files and
# modes in place, Conflicts with the stock map package enforced, reinstall
# and upgrade over ourselves (Provides: map next to Conflicts: map), removal.
# Not part of `make test`: CI cannot fetch opkg's sources.
#
#   sh openwrt/test/opkg-install.sh OPKG_CL IPK_DIR VERSION ARCH [NEWER_IPK]
# NEWER_IPK: a mapehelper ipk of a later version, to check the upgrade.
set -eu

opkg_cl="$1"
ipks="$(cd "$2" && pwd)"
version="$3"
arch="$4"
work="$(mktemp -d /tmp/mh-opkg.XXXXXX)"
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

# stub NAME VERSION [CONTROL-LINES]: a minimal package in ipkg-build's format
# (stand-ins for libc, the kmods, luci-base and the stock map package).
stub() {
	d="$work/stub-$1"
	mkdir -p "$d/data/usr/share/stub" "$d/control"
	echo "$1" >"$d/data/usr/share/stub/$1"
	if [ "$1" = map ]; then
		mkdir -p "$d/data/lib/netifd/proto"
		echo '#!/bin/sh' >"$d/data/lib/netifd/proto/map.sh"
	fi
	printf 'Package: %s\nVersion: %s\n%sArchitecture: all\nInstalled-Size: 1\nDescription: stub\n' \
		"$1" "$2" "${3:-}" >"$d/control/control"
	(cd "$d/data" && tar --format=gnu --numeric-owner --owner=0 --group=0 -cf - . | gzip -n >../data.tar.gz)
	(cd "$d/control" && tar --format=gnu --numeric-owner --owner=0 --group=0 -cf - . | gzip -n >../control.tar.gz)
	printf '2.0\n' >"$d/debian-binary"
	(cd "$d" && tar --format=gnu --numeric-owner --owner=0 --group=0 -cf - ./debian-binary ./data.tar.gz ./control.tar.gz |
		gzip -n >"$work/$1_$2_all.ipk")
	echo "$work/$1_$2_all.ipk"
}

mkdir -p "$root/usr/lib/opkg" "$root/var/lock" "$work/lists"
cat >"$work/opkg.conf" <<EOF
dest root /
arch all 1
arch noarch 1
arch $arch 10
lists_dir ext $work/lists
EOF
o() { "$opkg_cl" -f "$work/opkg.conf" -o "$root" "$@"; }

for p in libc kmod-ip6-tunnel kmod-nft-core kmod-nft-nat kmod-nf-conntrack-netlink kmod-nft-connlimit kmod-sched-core luci-base; do
	o install "$(stub "$p" 1)" >/dev/null 2>&1 || bad "stub $p"
done
t "stock map stub installed" o install "$(stub map 8)"

main="$ipks/mapehelper_${version}_${arch}.ipk"
luci="$ipks/luci-proto-mape_${version}_all.ipk"
if o install "$main" >"$work/out" 2>&1; then
	bad "installed next to the stock map package: $(cat "$work/out")"
else
	if grep -qi conflict "$work/out"; then
		ok "refused next to map: $(grep -i -m1 conflict "$work/out")"
	else
		bad "refused, but not for the conflict: $(cat "$work/out")"
	fi
fi

o remove map >/dev/null 2>&1 || bad "remove map stub"
if o install "$main" >"$work/out" 2>&1; then ok "mapehelper installed"; else bad "install: $(cat "$work/out")"; fi
for f in usr/bin/mapehelper lib/netifd/proto/mape.sh lib/netifd/proto/map.sh usr/libexec/rpcd/mape; do
	t "$f executable" [ -x "$root/$f" ]
done
for f in lib/netifd/mapehelper.sh etc/hotplug.d/iface/95-mapehelper usr/share/rpcd/acl.d/luci-proto-mape.json; do
	t "$f present" [ -f "$root/$f" ]
done
t "postinst-pkg kept" [ -f "$root/usr/lib/opkg/info/mapehelper.postinst-pkg" ]
st="$(o status mapehelper 2>&1)"
case "$st" in
*"Status: install user installed"*) ok "status: installed" ;;
*) bad "status: $st" ;;
esac

if o install --force-reinstall "$main" >"$work/out" 2>&1; then ok "reinstall over itself (Provides: map, Conflicts: map)"; else bad "reinstall: $(cat "$work/out")"; fi
if [ -n "${5:-}" ]; then
	if o install "$5" >"$work/out" 2>&1; then ok "upgrade to $(basename "$5")"; else bad "upgrade: $(cat "$work/out")"; fi
	newer="$(o status mapehelper 2>&1 | sed -n 's/^Version: //p')"
	if [ -n "$newer" ] && [ "$newer" != "$version" ]; then ok "status shows version $newer"; else bad "version after the upgrade: '$newer'"; fi
fi
if o install "$luci" >"$work/out" 2>&1; then ok "luci-proto-mape installed"; else bad "luci install: $(cat "$work/out")"; fi
t "mape.js in /www" [ -f "$root/www/luci-static/resources/protocol/mape.js" ]
if o install "$(stub map 9)" >"$work/out" 2>&1; then
	bad "stock map installed next to mapehelper"
else
	ok "stock map refused while mapehelper is installed"
fi

o remove luci-proto-mape >/dev/null 2>&1 || bad "remove luci-proto-mape"
if o remove mapehelper >"$work/out" 2>&1; then ok "mapehelper removed"; else bad "remove: $(cat "$work/out")"; fi
t "binary gone" [ ! -e "$root/usr/bin/mapehelper" ]
t "handler gone" [ ! -e "$root/lib/netifd/proto/mape.sh" ]

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
