#!/bin/sh
# shellcheck disable=SC1091 # sourced files are checked with shellcheck -x by mk/vmtest.mk
# Builds the VM test's initramfs for one architecture profile
# (vmtest/arch/ARCH.sh): busybox, ip and nft with their libraries, the
# kernel modules the data plane needs (with their dependencies, in load
# order), the static Go binaries (the real mapehelper and the test tools)
# and the guest scripts.
#
# usage: [VMTEST_OVERLAY=DIR] vmtest/build-initramfs.sh [ARCH]   (default amd64)
# output: vmtest/work/ARCH/initramfs.cpio.gz
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
arch="${1:-amd64}"
profile="$here/arch/$arch.sh"
[ -f "$profile" ] || { echo "vmtest: no profile $profile" >&2; exit 1; }
# shellcheck source=vmtest/arch/amd64.sh
. "$profile"

# Modules the data plane and the BR use; their dependencies are added by
# modprobe. nft_connlimit is the data plane's per-port-set connection count
# (firewall4); sch_ingress, cls_u32 and act_gact the tunnel's tc guard
# (dataplane/guard_linux.go); veth is for the test topology. VMTEST_MODULES
# adds more (other suites: e.g. what real fw4's default ruleset uses).
MODULES="ip6_tunnel tunnel6 nf_tables nft_nat nft_chain_nat nft_numgen nft_ct
nf_conntrack nf_nat veth nft_masq nft_objref nft_connlimit nft_limit nft_reject_inet
nf_conntrack_netlink sch_ingress cls_u32 act_gact ${VMTEST_MODULES:-}"

work="${VMTEST_WORK:-$repo/vmtest/work/$arch}"
root="$work/root"
rm -rf "$root"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/lib/modules" \
	"$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/run" "$root/etc" "$root/var" "$root/vmtest"
ln -s ../run "$root/var/run"

if [ -z "${VM_KVER:-}" ] || [ ! -f "$VM_KERNEL" ]; then
	echo "vmtest: no kernel for $arch (${VM_KERNEL:-none}); apt-get install linux-image-$arch" >&2
	exit 1
fi
[ -x "$VM_BUSYBOX" ] || { echo "vmtest: no busybox at $VM_BUSYBOX (apt-get install busybox-static)" >&2; exit 1; }
cp "$VM_BUSYBOX" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
vm_install_tools "$root"

# Kernel modules: modprobe lists each one's dependencies first.
moddir="$VM_MODROOT/lib/modules/$VM_KVER"
[ -f "$moddir/modules.dep" ] || depmod -b "$VM_MODROOT" "$VM_KVER"
: >"$root/etc/modules.order"
for m in $MODULES; do
	modprobe -d "$VM_MODROOT" -S "$VM_KVER" --show-depends "$m" | while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		name="$(basename "$path")"
		name="${name%.xz}"; name="${name%.zst}"; name="${name%.gz}"
		grep -qx "$name" "$root/etc/modules.order" && continue
		case "$path" in
		*.xz) xz -dc "$path" >"$root/lib/modules/$name" ;;
		*.zst) zstd -qdc "$path" >"$root/lib/modules/$name" ;;
		*.gz) gzip -dc "$path" >"$root/lib/modules/$name" ;;
		*) cp "$path" "$root/lib/modules/$name" ;;
		esac
		echo "$name" >>"$root/etc/modules.order"
	done
done

# Static Go binaries for the guest architecture.
(
	cd "$repo"
	export CGO_ENABLED=0 GOARCH
	if [ -n "${GOARM:-}" ]; then export GOARM; fi
	if [ -n "${GOMIPS:-}" ]; then export GOMIPS; fi
	# The product binary as the package builds it (scripts/arches/targets.sh).
	# shellcheck source=scripts/arches/targets.sh
	. "$repo/scripts/arches/targets.sh"
	go build -trimpath -gcflags=all=-l -ldflags "-s -w $(arches_ldflags "$GOARCH")" -o "$root/usr/bin/mapehelper" ./cmd/mapehelper
	go build -trimpath -ldflags '-s -w' -o "$root/usr/bin/probe" ./vmtest/cmd/probe
	go build -trimpath -ldflags '-s -w' -o "$root/usr/bin/sink" ./vmtest/cmd/sink
	# The up-cost step: rusage times a command, noop is the floor any Go
	# binary pays to start, built with the product's flags.
	go build -trimpath -ldflags '-s -w' -o "$root/usr/bin/rusage" ./bench/cmd/rusage
	go build -trimpath -gcflags=all=-l -ldflags "-s -w $(arches_ldflags "$GOARCH")" -o "$root/usr/bin/noop" ./vmtest/cmd/noop
)

cp "$here/guest/"*.sh "$root/vmtest/"
cp "$here/guest/init" "$root/init"
chmod 755 "$root/init" "$root/vmtest/"*.sh
# Other suites reuse this VM: VMTEST_OVERLAY is a directory copied over the
# root (extra tools in usr/bin, scenarios in vmtest/, chosen with the
# kernel word vmtest.scenario=NAME.sh).
if [ -n "${VMTEST_OVERLAY:-}" ]; then
	cp -a "$VMTEST_OVERLAY/." "$root/"
fi

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.cpio.gz"
echo "vmtest: $work/initramfs.cpio.gz ($(du -k "$work/initramfs.cpio.gz" | cut -f1) KiB, $(wc -l <"$root/etc/modules.order") modules, kernel $VM_KVER)"
