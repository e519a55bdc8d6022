# shellcheck shell=sh
# The target table shared by the scripts in scripts/arches: one line per
# OpenWrt architecture users install on (MT1300 ramips, WRT3200ACM mvebu,
# NanoPi R4S, x86_64 boxes). Sourced, not run.
#
# Fields: OpenWrt arch | Go environment | qemu-user name | qemu-user CPU |
# vmtest profile (vmtest/arch/NAME.sh).
# The Go settings are the ipk's (openwrt/ipk/build.sh): 24Kc has no FPU,
# hence softfloat; cortex-a9 with vfpv3-d16 is ARMv7 whose VFP has 16
# double registers, which is what GOARM=7 code uses. The CPUs are the
# closest qemu models, so an instruction the real core lacks traps here too.
# s390x is no router target: it is the one big-endian architecture Debian
# still builds kernels for, the place where byte-order bugs would show.
ARCHES_TABLE='mipsel_24kc|GOARCH=mipsle GOMIPS=softfloat|mipsel|24Kc|mipsel
arm_cortex-a9_vfpv3-d16|GOARCH=arm GOARM=7|arm|cortex-a9|armhf
aarch64|GOARCH=arm64|aarch64|cortex-a72|arm64
x86_64|GOARCH=amd64||native|amd64
s390x|GOARCH=s390x|s390x|max|s390x'

# arches_names: every OpenWrt arch name, one per line.
arches_names() {
	echo "$ARCHES_TABLE" | cut -d'|' -f1
}

# arches_field ARCH N: field N of ARCH's line; fails for an unknown ARCH.
arches_field() {
	_line="$(echo "$ARCHES_TABLE" | grep "^$1|")" || {
		echo "arches: unknown architecture $1 (known: $(arches_names | tr '\n' ' '))" >&2
		return 1
	}
	echo "$_line" | cut -d'|' -f"$2"
}

# arches_ldflags ARCH|GOARCH: linker flags ARCH needs besides -s -w. mipsel: -R
# 0x1000, ELF segments aligned to 4 KiB pages instead of the 64 KiB Go uses
# for mips. Every OpenWrt mipsel target runs 4 KiB pages; the 64 KiB
# alignment only pads the file with zeros between segments (up to 2 x 64
# KiB, compressed to nothing in the ipk and on squashfs/jffs2, but counted
# by the 4 MiB budget): one added function could grow the file by 64 KiB.
# openwrt/Makefile (the SDK build) repeats the flag; openwrt/ipk/build.sh
# calls this.
arches_ldflags() {
	case "$1" in
	mipsel* | mipsle) echo "-R 0x1000" ;; # an arch name or a GOARCH
	esac
}
