# shellcheck shell=sh disable=SC2034
# Shared part of the foreign-architecture VM profiles (arm64.sh, armhf.sh,
# mipsel.sh; see amd64.sh for the variables a profile sets). Everything the
# guest runs comes from Debian packages of the target architecture that
# scripts/arches/fetch.sh unpacked into ARCHES_CACHE/DEBARCH/rootfs, outside
# the repository: the kernel and its modules, busybox-static, ip and nft
# with their libraries and loader.

ARCHES_CACHE="${ARCHES_CACHE:-/var/tmp/mapehelper-arches}"

# foreign_profile DEBARCH: the variables common to every foreign profile,
# read from what fetch.sh unpacked for DEBARCH.
foreign_profile() {
	VM_ARCH="$1"
	VM_MODROOT="$ARCHES_CACHE/$1/rootfs"
	VM_KVER="$(cat "$ARCHES_CACHE/$1/kver" 2>/dev/null || true)"
	VM_KERNEL="$VM_MODROOT/boot/vmlinuz-$VM_KVER"
	VM_BUSYBOX="$VM_MODROOT/bin/busybox"
}

# foreign_needed FILE: the DT_NEEDED names and the program interpreter of
# an ELF file of any architecture (readelf reads them all).
foreign_needed() {
	readelf -d "$1" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'
	readelf -l "$1" 2>/dev/null | sed -n 's/.*program interpreter: \(.*\)\]/\1/p'
}

# vm_install_tools DEST: ip and nft of the target architecture with the
# closure of the libraries they need, at the paths the loader searches.
vm_install_tools() {
	for bin in bin/ip usr/sbin/nft; do
		[ -x "$VM_MODROOT/$bin" ] || { echo "vmtest: $VM_MODROOT/$bin missing (scripts/arches/fetch.sh)" >&2; return 1; }
	done
	mkdir -p "$1/usr/bin" "$1/usr/sbin"
	cp -L "$VM_MODROOT/bin/ip" "$1/usr/bin/ip"
	cp -L "$VM_MODROOT/usr/sbin/nft" "$1/usr/sbin/nft"
	todo="$VM_MODROOT/bin/ip $VM_MODROOT/usr/sbin/nft"
	while [ -n "$todo" ]; do
		next=""
		for f in $todo; do
			for lib in $(foreign_needed "$f"); do
				case "$lib" in
				/*) src="$VM_MODROOT$lib" rel="$lib" ;;
				*)
					src="$(find "$VM_MODROOT/lib" "$VM_MODROOT/usr/lib" -name "$lib" ! -path '*/modules/*' 2>/dev/null | head -n 1)"
					rel="${src#"$VM_MODROOT"}"
					;;
				esac
				[ -e "$src" ] || { echo "vmtest: $f needs $lib, not in $VM_MODROOT" >&2; return 1; }
				[ -e "$1$rel" ] && continue
				mkdir -p "$1$(dirname "$rel")"
				cp -L "$src" "$1$rel"
				next="$next $src"
			done
		done
		todo="$next"
	done
}
