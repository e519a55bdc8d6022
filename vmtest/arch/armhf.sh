# shellcheck shell=sh disable=SC2034,SC2154 # sourced by vmtest/run.sh and build-initramfs.sh, which set $here
# VM test profile for arm_cortex-a9_vfpv3-d16 (WRT3200ACM class): Debian's
# armmp (ARMv7 multiplatform) kernel on qemu's virt board. qemu's virt
# board takes Cortex-A15 class CPUs (its GIC is not the A9's private
# one), so the kernel runs on an A15; the binary's A9 instruction set is
# checked separately under qemu-arm -cpu cortex-a9 (scripts/arches). Go's
# GOARM=7 code runs unchanged on both. Files from scripts/arches/fetch.sh.
# shellcheck source=vmtest/arch/foreign.sh
. "$here/arch/foreign.sh"
foreign_profile armhf
GOARCH=arm
GOARM=7
export GOARCH GOARM
VM_QEMU=qemu-system-arm
VM_QEMU_ARGS="-machine virt -cpu cortex-a15"
VM_CONSOLE=ttyAMA0
VM_SLOWDOWN=4
