# shellcheck shell=sh disable=SC2034
# VM test profile for x86_64: the host's own Debian kernel, busybox and
# iproute2/nftables (same architecture, so ldd finds their libraries).
#
# A profile is sourced by build-initramfs.sh and run.sh and must set:
#   VM_KERNEL   kernel image qemu boots
#   VM_KVER     its module version (directory name under lib/modules)
#   VM_MODROOT  directory holding lib/modules/$VM_KVER (for modprobe -d)
#   VM_BUSYBOX  a static busybox for the guest
#   VM_QEMU     qemu-system binary, VM_QEMU_ARGS its machine/cpu arguments
#   VM_CONSOLE  the serial console device name in the guest
#   GOARCH (GOARM, GOMIPS where they apply) for the static Go binaries
#   VM_SLOWDOWN an integer multiplier for the guest's timeouts (1 = TCG on
#               x86_64); the guest sees it as VMTEST_slow
# and may set:
#   VM_MEM, VM_SMP  memory in MiB and CPUs (default 1024 and 2)
#   VM_APPEND       extra kernel command line words
# and define vm_install_tools DEST, which copies /usr/bin/ip and
# /usr/sbin/nft for the guest architecture, with their shared libraries
# and loader, into the root directory DEST.

VM_ARCH=amd64
GOARCH=amd64
export GOARCH
VM_KVER="${VM_KVER:-$(find /boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)}"
VM_KERNEL="/boot/vmlinuz-$VM_KVER"
VM_MODROOT=/
VM_BUSYBOX=/bin/busybox
VM_QEMU=qemu-system-x86_64
VM_QEMU_ARGS="-machine pc -cpu max"
VM_CONSOLE=ttyS0
VM_SLOWDOWN=1

# vm_install_tools DEST: the host's ip and nft with every library ldd names.
vm_install_tools() {
	for bin in /usr/bin/ip /usr/sbin/nft; do
		[ -x "$bin" ] || { echo "vmtest: $bin missing (apt-get install iproute2 nftables)" >&2; return 1; }
		mkdir -p "$1$(dirname "$bin")"
		cp -L "$bin" "$1$bin"
		for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^\t\//{print $1}'); do
			mkdir -p "$1$(dirname "$lib")"
			cp -L "$lib" "$1$lib"
		done
	done
}
