#!/bin/sh
# Fetches what a foreign-architecture VM test needs from Debian, without
# installing any of it: the kernel of the flavour qemu can boot (with its
# modules), busybox-static, and iproute2/nftables with the libraries they
# link, all of the target architecture. Each .deb is unpacked with
# dpkg-deb -x into DIR/rootfs, which the vmtest profile
# (vmtest/arch/DEBARCH.sh) reads; modules.dep is generated there.
#
# usage: scripts/arches/fetch.sh DIR DEBARCH    (DEBARCH: arm64 armhf mipsel s390x)
# Needs root the first time (dpkg --add-architecture, apt-get update).
# Idempotent: a second run with the same package versions does nothing.
set -eu

[ "$#" -eq 2 ] || { echo "usage: $0 DIR DEBARCH" >&2; exit 2; }
dir="$1"
arch="$2"
case "$arch" in
arm64) flavour=arm64 ;;
armhf) flavour=armmp ;;       # multiplatform ARMv7, boots on qemu's -M virt
mipsel) flavour=4kc-malta ;;  # the only mipsel flavour qemu emulates (-M malta)
s390x) flavour=s390x ;;       # the only big-endian kernel in Debian main (mips BE is gone)
*) echo "fetch: no kernel flavour known for $arch" >&2; exit 2 ;;
esac

# The libraries /bin/ip and /usr/sbin/nft link in bookworm (checked below
# against their DT_NEEDED entries, so a new dependency fails loudly).
TOOLS="iproute2 nftables libbpf1 libbsd0 libc6 libcap2 libedit2 libelf1 libgmp10
libjansson4 libmd0 libmnl0 libnftables1 libnftnl11 libtinfo6 libxtables12 zlib1g"

if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	dpkg --add-architecture "$arch"
	apt-get update -qq || true # a mirror mid-sync fails one index; the download below judges
fi
meta="linux-image-$flavour:$arch"
if ! apt-cache policy "$meta" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -qv '(none)'; then
	apt-get update -qq || true
fi
# The metapackage names the versioned image package (linux-image-6.1.0-N-FLAVOUR).
kpkg="$(apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n 1)"
[ -n "$kpkg" ] || { echo "fetch: $meta names no versioned kernel package (apt-get update?)" >&2; exit 1; }

pkgs="$kpkg:$arch busybox-static:$arch"
for p in $TOOLS; do pkgs="$pkgs $p:$arch"; done
# One apt-cache call for all (each call parses every package list again).
# shellcheck disable=SC2086 # one word per package
want="$(apt-cache policy $pkgs | awk '/^[^ ]/{p=$1; sub(/:$/, "", p)} /^ *Candidate:/{print p "=" $2}')"
if [ -f "$dir/packages" ] && [ "$(cat "$dir/packages")" = "$want" ] && [ -f "$dir/kver" ]; then
	echo "fetch: $arch up to date ($(cat "$dir/kver"))"
	exit 0
fi

rm -rf "$dir/debs" "$dir/rootfs"
mkdir -p "$dir/debs" "$dir/rootfs"
# apt's _apt user must be able to write the download directory.
chmod 777 "$dir/debs"
# shellcheck disable=SC2086 # one word per package
(cd "$dir/debs" && apt-get download -q $pkgs >/dev/null)
for deb in "$dir/debs/"*.deb; do
	dpkg-deb -x "$deb" "$dir/rootfs"
done
kver="$(ls "$dir/rootfs/lib/modules")"
[ -f "$dir/rootfs/boot/vmlinuz-$kver" ] || { echo "fetch: no vmlinuz-$kver in $kpkg" >&2; exit 1; }
depmod -b "$dir/rootfs" "$kver"

# Every DT_NEEDED library of ip and nft must be in the unpacked root.
for bin in bin/ip usr/sbin/nft; do
	for lib in $(readelf -d "$dir/rootfs/$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
		found="$(find "$dir/rootfs/lib" "$dir/rootfs/usr/lib" -name "$lib" 2>/dev/null | head -n 1)"
		[ -n "$found" ] || { echo "fetch: $bin needs $lib, not in the fetched packages (add it to TOOLS)" >&2; exit 1; }
	done
done
echo "$kver" >"$dir/kver"
echo "$want" >"$dir/packages"
echo "fetch: $arch kernel $kver, busybox, ip, nft in $dir/rootfs"
