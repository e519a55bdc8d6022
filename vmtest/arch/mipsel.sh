# shellcheck shell=sh disable=SC2034,SC2154 # sourced by vmtest/run.sh and build-initramfs.sh, which set $here
# VM test profile for mipsel_24kc (MT1300/ramips class): Debian bookworm's
# 4kc-malta kernel (the last Debian release with mipsel) on qemu's Malta
# board with a 24Kc CPU, 8250 serial console. The binary is softfloat like
# the ipk's. Files from scripts/arches/fetch.sh (see foreign.sh).
# shellcheck source=vmtest/arch/foreign.sh
. "$here/arch/foreign.sh"
foreign_profile mipsel
GOARCH=mipsle
GOMIPS=softfloat
export GOARCH GOMIPS
VM_QEMU=qemu-system-mipsel
VM_QEMU_ARGS="-machine malta -cpu 24Kc"
VM_CONSOLE=ttyS0
VM_SLOWDOWN=6
# One CPU: with -smp 2 this kernel hangs early in boot (the 24Kc has no MT
# ASE for Malta's SMP); with one CPU it boots with 256 MiB or 1 GiB.
VM_MEM=256
VM_SMP=1
