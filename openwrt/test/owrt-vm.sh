#!/bin/sh
# The real-OpenWrt tier: our package on a router made of OpenWrt's own
# netifd, ubusd, rpcd, uci, jshn, jsonfilter, ucode and firewall4 (built
# from ../shared/openwrt-userland) on vmtest's Debian kernel, which has the
# ip6_tunnel the host lacks. The VM itself is the router (its root network
# namespace runs netifd); vmtest's ISP, BR (enforcing the port sets),
# server and one LAN host are namespaces around it.
#
# How the userland gets into the guest: build.sh installs it into PREFIX
# (glibc binaries with RPATH PREFIX/lib, fw4 with PREFIX paths compiled in),
# so the overlay holds PREFIX at the same path, the glibc libraries ldd
# names, and PREFIX/rootfs laid out at OpenWrt's paths (/lib, /sbin, /usr,
# /etc). A copy in the initramfs rather than a 9p share: no extra kernel
# modules, no host path visible to the guest, the same bytes every boot.
#
# usage: openwrt/test/owrt-vm.sh [-t SECONDS] [vmtest.parts=netifd,link,fw4,rpcd] [vmtest.KEY=VALUE…]
# OWRT_USERLAND  the openwrt-userland folder (default ../shared/openwrt-userland beside the clone)
# OWRT_PREFIX    where build.sh installs (default /opt/mapehelper-owrt; not under
#                /tmp or /run, which the guest mounts over)
# Under CI=true a missing userland folder is a failure, never a skip.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
limit=900
if [ "${1:-}" = -t ]; then
	limit="$2"
	shift 2
fi
userland="${OWRT_USERLAND:-$repo/../shared/openwrt-userland}"
prefix="${OWRT_PREFIX:-/opt/mapehelper-owrt}"

if [ ! -f "$userland/build.sh" ]; then
	if [ "${CI:-}" = true ]; then
		echo "owrt-vm: FAIL: no OpenWrt userland at $userland (CI=true: a missing tool is a failure)" >&2
		exit 1
	fi
	echo "owrt-vm: SKIP: no OpenWrt userland at $userland (set OWRT_USERLAND)" >&2
	exit 0
fi
case "$prefix" in
/tmp | /tmp/* | /run | /run/* | /proc/* | /sys/* | /dev/*)
	echo "owrt-vm: OWRT_PREFIX=$prefix: the guest mounts over that path; use e.g. /opt/mapehelper-owrt" >&2
	exit 2
	;;
esac

# Idempotent (a stamp names its inputs); the lock keeps two runs on one
# machine from building into the same PREFIX at once.
mkdir -p "$(dirname "$prefix")" "$repo/build"
flock "$prefix.lock" nice sh "$userland/build.sh" "$prefix" >"$repo/build/owrt-build.log" 2>&1 || {
	tail -n 30 "$repo/build/owrt-build.log" >&2
	echo "owrt-vm: FAIL: building the OpenWrt userland (log: build/owrt-build.log)" >&2
	exit 1
}
tail -n 1 "$repo/build/owrt-build.log"

over="$repo/build/owrt-vm-overlay"
rm -rf "$over"
mkdir -p "$over$prefix" "$over/vmtest" "$over/lib" "$over/sbin" "$over/usr" "$over/etc"

# PREFIX itself, at the same path (RPATH, fw4's paths), without what only
# builds need.
for d in bin sbin lib share; do
	cp -a "$prefix/$d" "$over$prefix/"
done
rm -rf "$over$prefix/lib/pkgconfig" "$over$prefix"/lib/*.a

# The glibc libraries every ELF file there needs, at their own paths.
find "$prefix/bin" "$prefix/sbin" "$prefix/lib" -type f | while read -r f; do
	case "$(head -c 4 "$f" | od -An -c | tr -d ' ')" in
	177ELF) ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}' ;;
	esac
done | sort -u | grep -v "^$prefix/" | while read -r lib; do
	mkdir -p "$over$(dirname "$lib")"
	cp -L "$lib" "$over$lib"
done

# fw4 serialises itself with flock (BusyBox's on OpenWrt); neither the
# guest's busybox-static nor the userland's BusyBox has that applet, so
# util-linux's, with its libraries.
command -v flock >/dev/null || { echo "owrt-vm: flock missing (apt-get install util-linux)" >&2; exit 1; }
mkdir -p "$over/usr/bin"
cp -L "$(command -v flock)" "$over/usr/bin/flock"
ldd "$(command -v flock)" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
	mkdir -p "$over$(dirname "$lib")"
	cp -L "$lib" "$over$lib"
done

# OpenWrt's paths: /lib and /sbin hold what base-files, netifd, uci and
# procd put there; the rest stays under /usr; /etc as firewall4 ships it.
r="$prefix/rootfs"
cp -a "$r/usr/lib/." "$over/lib/"
cp -a "$r/usr/sbin/." "$over/sbin/"
mkdir -p "$over/usr/bin" "$over/usr/libexec" "$over/usr/share"
cp -a "$r/usr/bin/." "$over/usr/bin/"
cp -a "$r/usr/libexec/." "$over/usr/libexec/"
cp -a "$r/usr/share/." "$over/usr/share/"
cp -a "$r/etc/." "$over/etc/"
# base-files' users: ubusd refuses clients whose uid has no passwd entry.
printf 'root:x:0:0:root:/root:/bin/ash\nnobody:*:65534:65534:nobody:/var:/bin/false\n' >"$over/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$over/etc/group"
# firewall4's hotplug script (build.sh leaves it out: it needs an init
# script); the scenario provides /etc/init.d/firewall.
tar -xzOf "$userland"/src/firewall4-*.tar.gz --wildcards '*/root/etc/hotplug.d/iface/20-firewall' \
	>"$over/etc/hotplug.d/iface/20-firewall"

# The package's files, as the SDK recipe installs them ($(CP) ./files/*);
# /usr/bin/mapehelper is the real binary build-initramfs.sh builds.
cp -a "$repo/openwrt/files/." "$over/"

cp "$here/vm/owrt-"*.sh "$over/vmtest/"
chmod 755 "$over/vmtest/"*.sh

# fw4's default ruleset needs more of nftables than the data plane.
VMTEST_MODULES="nft_reject_inet nft_limit nft_log nft_fib_inet nft_redir nf_reject_ipv4 nf_reject_ipv6 nft_fib_ipv4 nft_fib_ipv6" \
	VMTEST_OVERLAY="$over" VMTEST_CMDLINE="vmtest.scenario=owrt-router.sh vmtest.owrt=$prefix $*" \
	exec "${VMTEST_RUN:-$repo/vmtest/run.sh}" -t "$limit"
