# shellcheck shell=sh disable=SC2034,SC2154 # sourced by vmtest/run.sh and build-initramfs.sh, which set $here
# VM test profile for s390x: not a router target, but the only big-endian
# kernel Debian main still packages (mips and powerpc BE are gone), so it
# is where a netlink or nftables attribute encoded in host order instead
# of network order would show. qemu's s390-ccw-virtio machine, SCLP
# console. Files from scripts/arches/fetch.sh (see foreign.sh).
# shellcheck source=vmtest/arch/foreign.sh
. "$here/arch/foreign.sh"
foreign_profile s390x
GOARCH=s390x
export GOARCH
VM_QEMU=qemu-system-s390x
VM_QEMU_ARGS="-machine s390-ccw-virtio -cpu max"
VM_CONSOLE=ttysclp0
VM_SLOWDOWN=4
