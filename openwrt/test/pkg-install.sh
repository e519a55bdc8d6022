#!/bin/sh
# Installs, upgrades and removes the packages `make ipk` built the way a user
# does on a router, with OpenWrt's real package managers (opkg-lede for ipk,
# apk-tools 3 for apk, built from ../shared/openwrt-pkgtools) in a scratch
# router root, and runs the package scripts for real:
#   - the root has a static BusyBox as /bin/sh and its applets, base-files'
#     real /lib/functions.sh (default_postinst/default_prerm, from
#     ../shared/openwrt-userland's openwrt-files.tar.gz) and recording
#     stand-ins for /etc/init.d/rpcd, /etc/init.d/network and ubus;
#   - opkg runs chrooted into the root (as on a device: "/" is the router,
#     scripts run by /bin/sh); apk runs its scripts chrooted itself;
#   - the whole run is in private network and mount namespaces, so the
#     packaged mapehelper removes real nftables tables. Natively on x86_64;
#     on the other architectures through qemu-user (a /usr/sbin/mapehelper
#     wrapper, found first on OpenWrt's PATH, that also logs its arguments),
#     which cannot open NETLINK_NETFILTER sockets ("socket: protocol not
#     supported"): there no tables are made, and the check is that the
#     scripts call the packaged binary, which runs.
# Steps: the stock map package (a stand-in carrying /lib/netifd/proto/map.sh
# as the real one does) is installed; mapehelper is refused next to it; the
# README's replacement steps succeed as written; an interface is made "up"
# (nft table, fw4 include link, runtime include, state file); a refused
# install of the stock map package; an upgrade to a newer build that keeps
# the interface untouched and reruns the post-install part; removal, after
# which nothing of ours is left.
#
#   sh openwrt/test/pkg-install.sh opkg|apk TOOLS OUT NEXT_OUT VERSION NEXT_VERSION ARCH
# TOOLS: the pkgtools prefix (bin/opkg-cl, bin/apk); OUT, NEXT_OUT: what
# openwrt/ipk/build.sh wrote for VERSION and NEXT_VERSION. OPENWRT_FILES:
# path of openwrt-files.tar.gz. README (default: the repository's): the
# opkg steps are taken from its "Install on OpenWrt" block, with this
# architecture's file names. EXPECT_FAIL="TEXT[;TEXT…]" (negative
# controls): pass only when, for each TEXT, a check whose name contains it
# fails. Needs root.
set -eu

# Every tool is required (CI=true or not): a missing one fails the test.
for c in unshare chroot nft busybox tar gzip sha256sum ldd; do
	command -v "$c" >/dev/null || {
		echo "FAIL missing $c (.ci/apt/openwrt.txt lists the Debian packages)"
		exit 1
	}
done
[ -f "${OPENWRT_FILES:-}" ] || {
	echo "FAIL OPENWRT_FILES='${OPENWRT_FILES:-}' is not ../shared/openwrt-userland/src/openwrt-files.tar.gz"
	exit 1
}
if [ -z "${MH_PKG_NS:-}" ]; then
	MH_PKG_NS=1 exec unshare --net --mount --fork sh "$0" "$@"
fi
fmt="$1"
tools="$2"
out="$(cd "$3" && pwd)"
next="$(cd "$4" && pwd)"
version="$5"
nversion="$6"
arch="$7"
files_tgz="${OPENWRT_FILES:?OPENWRT_FILES=path/to/openwrt-files.tar.gz}"
work="$(mktemp -d /tmp/mh-pkg.XXXXXX)"
root="$work/root"
cleanup() {
	umount "$root/proc" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
passes=0
fails=0
failed=""
ok() {
	passes=$((passes + 1))
	echo "ok   $1"
}
bad() {
	fails=$((fails + 1))
	failed="$failed
$1"
	echo "FAIL $1"
}
t() { # NAME COMMAND...: ok when the command succeeds
	n="$1"
	shift
	if "$@"; then ok "$n"; else bad "$n"; fi
}
absent() { # PATH...: none exists in the root
	for f in "$@"; do [ ! -e "$root$f" ] && [ ! -L "$root$f" ] || return 1; done
}
calls() { grep -c -x -F "$1" "$root/tmp/calls" 2>/dev/null || true; }
tables() { nft list tables 2>/dev/null | grep -c mapehelper_ || true; }

# --- the router root ---------------------------------------------------------
mkdir -p "$root/bin" "$root/lib" "$root/tmp" "$root/proc" "$root/dev" "$root/var/lock" "$root/var/run" \
	"$root/etc/init.d" "$root/usr/sbin" "$root/usr/bin" "$root/usr/libexec/mh-test" "$root/usr/lib/opkg" \
	"$root/usr/share/nftables.d/ruleset-post" "$root/tmp/pkgs/next"
bb="$(command -v busybox)"
cp "$bb" "$root/bin/busybox"
chroot "$root" /bin/busybox --install -s /bin
tar -xzOf "$files_tgz" openwrt-files/package/base-files/files/lib/functions.sh >"$root/lib/functions.sh"
for s in /etc/init.d/rpcd /etc/init.d/network /usr/bin/ubus; do
	printf '#!/bin/sh\necho "%s $*" >>/tmp/calls\n' "${s##*/}" >"$root$s"
	chmod 0755 "$root$s"
done
mount -t proc proc "$root/proc"
qemu=""
case "$arch" in
mipsel_24kc) qemu="qemu-mipsel-static" ;;
arm_cortex-a9_vfpv3-d16) qemu="qemu-arm-static" ;;
aarch64_*) qemu="qemu-aarch64-static" ;;
esac
ntables=2
if [ -n "$qemu" ]; then
	ntables=0
	cp "$(command -v "$qemu")" "$root/usr/libexec/mh-test/qemu"
	# shellcheck disable=SC2016 # expands when the wrapper runs
	printf '#!/bin/sh\necho "mapehelper $*" >>/tmp/calls\nexec /usr/libexec/mh-test/qemu /usr/bin/mapehelper "$@"\n' \
		>"$root/usr/sbin/mapehelper"
	chmod 0755 "$root/usr/sbin/mapehelper"
fi

# stub NAME VERSION: a minimal package of the root's format (stand-ins for
# libc, the kmods, luci-base and the stock map package with its handler).
stub() {
	d="$work/stub-$1-$2"
	mkdir -p "$d/data/usr/share/stub" "$d/control"
	echo "$1" >"$d/data/usr/share/stub/$1"
	if [ "$1" = map ]; then
		mkdir -p "$d/data/lib/netifd/proto"
		printf '#!/bin/sh\n# stock map.sh stand-in\n' >"$d/data/lib/netifd/proto/map.sh"
		chmod 0755 "$d/data/lib/netifd/proto/map.sh"
	fi
	if [ "$fmt" = apk ]; then
		"$tools/bin/apk" mkpkg --info "name:$1" --info "version:$2" --info "arch:noarch" \
			--info "description:stub" --files "$d/data" --output "$root/tmp/pkgs/$1-$2.apk" >/dev/null
		echo "/tmp/pkgs/$1-$2.apk"
		return
	fi
	printf 'Package: %s\nVersion: %s\nArchitecture: all\nInstalled-Size: 1\nDescription: stub\n' \
		"$1" "$2" >"$d/control/control"
	(cd "$d/data" && tar --format=gnu --numeric-owner --owner=0 --group=0 -cf - . | gzip -n >../data.tar.gz)
	(cd "$d/control" && tar --format=gnu --numeric-owner --owner=0 --group=0 -cf - . | gzip -n >../control.tar.gz)
	printf '2.0\n' >"$d/debian-binary"
	(cd "$d" && tar --format=gnu --numeric-owner --owner=0 --group=0 -cf - ./debian-binary ./data.tar.gz ./control.tar.gz |
		gzip -n >"$root/tmp/pkgs/$1_$2_all.ipk")
	echo "/tmp/pkgs/$1_$2_all.ipk"
}

# sh_in COMMAND: runs a shell command line in the root as a user at the
# router's shell would (OpenWrt's PATH, in /tmp/pkgs).
sh_in() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root chroot "$root" /bin/sh -c "cd /tmp/pkgs && $1"; }

if [ "$fmt" = opkg ]; then
	# opkg-cl and the glibc it links, at the paths its loader expects.
	cp "$tools/bin/opkg-cl" "$root/bin/opkg"
	ldd "$tools/bin/opkg-cl" | awk '/\//{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	# The newer build comes from a feed, as upgrades do on a device
	# (Packages beside the ipk: its control fields, Filename, Size,
	# SHA256sum; opkg-lede's upgrade takes package names, not files).
	printf 'dest root /\nlists_dir ext /var/opkg-lists\narch all 1\narch noarch 1\narch %s 10\nsrc/gz next file:///tmp/pkgs/next\n' \
		"$arch" >"$root/etc/opkg.conf"
	main="mapehelper_${version}_${arch}.ipk"
	luci="luci-proto-mape_${version}_all.ipk"
	newer="mapehelper"
	cp "$out/$main" "$out/$luci" "$root/tmp/pkgs/"
	f="$root/tmp/pkgs/next/mapehelper_${nversion}_${arch}.ipk"
	cp "$next/mapehelper_${nversion}_${arch}.ipk" "$f"
	{
		tar -xzOf "$f" ./control.tar.gz | tar -xzOf - ./control | sed '/^Description:/,$d'
		printf 'Filename: %s\nSize: %s\nSHA256sum: %s\nDescription: mapehelper\n\n' \
			"${f##*/}" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"
	} >"$root/tmp/pkgs/next/Packages"
	gzip -kn "$root/tmp/pkgs/next/Packages"
	pm() { sh_in "opkg $*"; }
	add() { pm install "$@"; }
	del() { pm remove "$@"; }
	upgrade() { pm update && pm upgrade "$@"; }
	installed_version() { pm status mapehelper | sed -n 's/^Version: //p'; }
	# The README's steps, as written there: the indented block with
	# "opkg install" under "## Install on OpenWrt", comments dropped, our
	# file names.
	readme="$(awk '/^## /{ sec = ($0 ~ /^## Install on OpenWrt/) } sec && /^    [^ ]/ { blk = blk $0 "\n"; next }
		sec && blk != "" { if (blk ~ /opkg install/) { printf "%s", blk; exit } blk = "" }' \
		"${README:-$(dirname "$0")/../../README.md}" |
		sed -e 's/^ *//' -e 's/ *#.*//' -e 's#\./##g' -e "s/mapehelper_[^ ]*\.ipk/$main/" -e "s/luci-proto-mape_[^ ]*\.ipk/$luci/" |
		awk 'NR > 1 { printf " && " } { printf "%s", $0 }')"
	case "$readme" in
	*"opkg install $main $luci"*) ;;
	*) bad "README's install steps not found or changed: '$readme'" ;;
	esac
else
	a() { "$tools/bin/apk" --root "$root" --allow-untrusted --no-network --no-cache "$@"; }
	pm() { # apk runs inside the root's /tmp/pkgs for file names as the user types them
		(cd "$root/tmp/pkgs" && a "$@")
	}
	a add --initdb --arch "$arch" >/dev/null
	main="mapehelper-${version}.apk"
	luci="luci-proto-mape-${version}.apk"
	newer="next/mapehelper-${nversion}.apk"
	cp "$out/apk/$arch/$main" "$out/apk/noarch/$luci" "$root/tmp/pkgs/"
	cp "$next/apk/$arch/mapehelper-${nversion}.apk" "$root/tmp/pkgs/next/"
	add() { pm add "$@"; }
	del() { pm del "$@"; }
	upgrade() { pm add "$@"; }
	installed_version() { sed -n '/^P:mapehelper$/,/^$/s/^V://p' "$root/lib/apk/db/installed"; }
	readme=""
fi

echo "# $fmt, $arch: $version, then $nversion"
for p in libc kmod-ip6-tunnel kmod-nft-core kmod-nft-nat kmod-nf-conntrack-netlink kmod-nft-connlimit kmod-sched-core luci-base; do
	s="$(stub "$p" 1)"
	add "${s#/tmp/pkgs/}" >/dev/null 2>&1 || bad "stub $p"
done
map8="$(stub map 8)"
if add "${map8#/tmp/pkgs/}" >"$work/log" 2>&1; then ok "stock map package installed"; else bad "stock map: $(cat "$work/log")"; fi
t "stock map.sh in place" grep -q 'stock map.sh' "$root/lib/netifd/proto/map.sh"

# mapehelper next to the stock package: refused, the stock handler intact.
if add "$main" >"$work/log" 2>&1; then
	bad "mapehelper installed next to the stock map package"
else
	ok "mapehelper refused next to the stock map package: $(grep -m1 -i -E 'map\.sh|conflict' "$work/log" | sed 's/^[ *]*//')"
fi
t "stock map.sh untouched by the refused install" grep -q 'stock map.sh' "$root/lib/netifd/proto/map.sh"

# The README's steps, as written.
mkdir -p "$root/tmp/luci-modulecache"
: >"$root/tmp/luci-indexcache.0"
if [ -n "$readme" ]; then
	if sh_in "$readme" >"$work/log" 2>&1; then ok "README steps: $readme"; else bad "README steps: $(cat "$work/log")"; fi
else
	if del map >"$work/log" 2>&1 && add "$main" "$luci" >>"$work/log" 2>&1 && sh_in "/etc/init.d/network restart"; then
		ok "apk del map; apk add $main $luci; network restart"
	else
		bad "install: $(cat "$work/log")"
	fi
fi
for f in /usr/bin/mapehelper /lib/netifd/proto/mape.sh /lib/netifd/proto/map.sh /usr/libexec/rpcd/mape; do
	t "$f mode 0755" [ "$(stat -c %a "$root$f" 2>/dev/null)" = 755 ]
done
t "map.sh is ours now" sh -c "! grep -q 'stock map.sh' '$root/lib/netifd/proto/map.sh'"
for f in /lib/netifd/mapehelper.sh /etc/hotplug.d/iface/95-mapehelper /usr/share/rpcd/acl.d/luci-proto-mape.json \
	/www/luci-static/resources/protocol/mape.js; do
	t "$f present" [ -f "$root$f" ]
done
t "installed version $version" [ "$(installed_version)" = "$version" ]
t "postinst ran: rpcd reloaded" [ "$(calls "rpcd reload")" -ge 1 ]
t "postinst ran: network restart hint printed" grep -q "network restart" "$work/log"
t "luci-proto-mape postinst ran: LuCI caches dropped" absent /tmp/luci-indexcache.0 /tmp/luci-modulecache
t "network restarted by the README step" [ "$(calls "network restart")" = 1 ]
t "the packaged binary runs" sh_in "mapehelper version >/dev/null"

# An interface that is up: what `up` leaves (the tunnel needs ip6_tunnel,
# which this host lacks; the VM tiers cover it). wanmap: table, runtime
# include and fw4 link; ocn: table and state file only.
make_up() {
	if [ "$ntables" = 2 ]; then
		nft add table ip mapehelper_wanmap
		nft add table ip mapehelper_ocn
	fi
	mkdir -p "$root/var/run/mapehelper"
	echo "table ip mapehelper_wanmap {}" >"$root/var/run/mapehelper/wanmap.nft"
	ln -sfn /var/run/mapehelper/wanmap.nft "$root/usr/share/nftables.d/ruleset-post/mapehelper-wanmap.nft"
	printf '{"version":1,"interface":"ocn","state":"up","tunnel":"map-ocn","nft_table":"ip mapehelper_ocn"}\n' \
		>"$root/var/run/mapehelper/ocn.json"
}
make_up
up_intact() {
	[ "$(tables)" = "$ntables" ] && [ -L "$root/usr/share/nftables.d/ruleset-post/mapehelper-wanmap.nft" ] &&
		[ -f "$root/var/run/mapehelper/wanmap.nft" ] && [ -f "$root/var/run/mapehelper/ocn.json" ]
}
t "two interfaces up (tables, include, state)" up_intact

# The stock package after ours: refused (file clash for opkg, the name map
# that mapehelper provides for apk), and no harm done to later upgrades.
map9="$(stub map 9)"
if add "${map9#/tmp/pkgs/}" >"$work/log" 2>&1; then
	bad "stock map installed over mapehelper"
else
	ok "stock map refused while mapehelper is installed: $(grep -m1 -i -E 'map\.sh|conflict' "$work/log" | sed 's/^[ *]*//')"
fi
if [ "$fmt" = opkg ]; then
	st="$(sed -n '/^Package: map$/,/^$/s/^Status: //p' "$root/usr/lib/opkg/status")"
	case "$st" in
	*not-installed) ok "opkg keeps the refused map as '$st' (the state that blocked upgrades)" ;;
	*) bad "status of the refused map: '$st'" ;;
	esac
fi

# Upgrade: no teardown, the post-install part runs again.
reloads="$(calls "rpcd reload")"
if upgrade "$newer" >"$work/log" 2>&1; then ok "upgrade to $nversion"; else bad "upgrade to $nversion: $(cat "$work/log")"; fi
t "installed version $nversion" [ "$(installed_version)" = "$nversion" ]
t "upgrade reran the post-install part (rpcd reloaded)" [ "$(calls "rpcd reload")" -gt "$reloads" ]
t "upgrade kept both interfaces up" up_intact
t "upgrade asked netifd to take nothing down" [ "$(grep -c 'network.interface' "$root/tmp/calls")" = 0 ]
t "the binary still runs" sh_in "mapehelper version | grep -q -F '$nversion'"

# opkg's --force-reinstall after the refused stock install: a removal (the
# interfaces go down, measured) and an install, which must succeed.
if [ "$fmt" = opkg ]; then
	if pm install --force-reinstall mapehelper >"$work/log" 2>&1; then
		ok "--force-reinstall after the refused stock install"
	else
		bad "--force-reinstall: $(cat "$work/log")"
	fi
	t "binary in place after the reinstall" [ -x "$root/usr/bin/mapehelper" ]
	t "the reinstall took the interfaces down, as a removal" absent /var/run/mapehelper
	: >"$root/tmp/calls"
	make_up
fi

# Removal: everything goes.
if del luci-proto-mape >"$work/log" 2>&1; then ok "luci-proto-mape removed"; else bad "remove luci-proto-mape: $(cat "$work/log")"; fi
if del mapehelper >"$work/log" 2>&1; then ok "mapehelper removed"; else bad "remove: $(cat "$work/log")"; fi
sed 's/^/  | /' "$work/log"
t "removal asked netifd to take wanmap down" [ "$(calls "ubus -t 5 call network.interface.wanmap down")" = 1 ]
t "removal asked netifd to take ocn down" [ "$(calls "ubus -t 5 call network.interface.ocn down")" = 1 ]
if [ "$ntables" = 2 ]; then
	t "removal deleted the nftables tables" [ "$(tables)" = 0 ]
else
	t "removal ran the packaged binary's down for wanmap" [ "$(calls "mapehelper down --interface wanmap")" = 1 ]
	t "removal ran the packaged binary's down for ocn" [ "$(calls "mapehelper down --interface ocn")" = 1 ]
fi
t "removal deleted the fw4 include link" absent /usr/share/nftables.d/ruleset-post/mapehelper-wanmap.nft
t "removal deleted the runtime directory" absent /var/run/mapehelper
t "package files gone" absent /usr/bin/mapehelper /lib/netifd/proto/mape.sh /lib/netifd/proto/map.sh \
	/lib/netifd/mapehelper.sh /etc/hotplug.d/iface/95-mapehelper /usr/libexec/rpcd/mape \
	/usr/share/rpcd/acl.d/luci-proto-mape.json /www/luci-static/resources/protocol/mape.js

echo "$passes passed, $fails failed"
if [ -n "${EXPECT_FAIL:-}" ]; then
	rc=0
	IFS=';'
	for want in $EXPECT_FAIL; do
		if printf '%s\n' "$failed" | grep -q -F "$want"; then
			echo "negative control: '$want' failed, as it must"
		else
			echo "negative control: '$want' did not fail"
			rc=1
		fi
	done
	exit "$rc"
fi
[ "$fails" -eq 0 ]
