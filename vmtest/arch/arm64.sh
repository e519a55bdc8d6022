# shellcheck shell=sh disable=SC2034,SC2154 # sourced by vmtest/run.sh and build-initramfs.sh, which set $here
# VM test profile for aarch64 (NanoPi R4S class): Debian's arm64 kernel on
# qemu's virt board with a Cortex-A72 (the R4S's big cores), PL011 serial
# console. Files from scripts/arches/fetch.sh (see foreign.sh).
# shellcheck source=vmtest/arch/foreign.sh
. "$here/arch/foreign.sh"
foreign_profile arm64
GOARCH=arm64
export GOARCH
VM_QEMU=qemu-system-aarch64
VM_QEMU_ARGS="-machine virt -cpu cortex-a72"
VM_CONSOLE=ttyAMA0
VM_SLOWDOWN=3
