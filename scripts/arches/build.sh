#!/bin/sh
# shellcheck disable=SC1091 # targets.sh is checked with shellcheck -x by mk/arches.mk
# Cross-builds the static mapehelper for every target architecture with
# the ipk's settings (openwrt/ipk/build.sh: inlining off, stripped) and
# prints one line per arch: name, size in bytes,
# and what `file` says, so a wrong word size, byte order or dynamic link
# shows up at once.
#
# usage: scripts/arches/build.sh OUTDIR [ARCH …]   (default: every arch)
# output: OUTDIR/ARCH/mapehelper
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/arches/targets.sh
. "$here/targets.sh"

[ "$#" -ge 1 ] || { echo "usage: $0 OUTDIR [ARCH ...]" >&2; exit 2; }
out="$1"
shift
# shellcheck disable=SC2046 # one word per arch name
[ "$#" -gt 0 ] || set -- $(arches_names)

for arch in "$@"; do
	goenv="$(arches_field "$arch" 2)"
	mkdir -p "$out/$arch"
	# shellcheck disable=SC2086 # $goenv is a list of assignments
	(cd "$repo" && env $goenv GOOS=linux CGO_ENABLED=0 go build -trimpath -gcflags=all=-l -ldflags "-s -w $(arches_ldflags "$arch")" \
		-o "$out/$arch/mapehelper" ./cmd/mapehelper)
	desc="$(file -b "$out/$arch/mapehelper" | cut -d, -f1-2)"
	file -b "$out/$arch/mapehelper" | grep -q 'statically linked' || {
		echo "arches: $arch binary is not static: $desc" >&2
		exit 1
	}
	# Every package, test files and tools included, builds and vets for
	# this arch: 32-bit word sizes and big-endian byte order break code
	# that amd64 hides (syscall.Rusage.Maxrss is int32 on mipsle and arm).
	# shellcheck disable=SC2086 # $goenv is a list of assignments
	(cd "$repo" && env $goenv GOOS=linux CGO_ENABLED=0 go vet ./...) || {
		echo "arches: go vet fails for $arch ($goenv)" >&2
		exit 1
	}
	size="$(wc -c <"$out/$arch/mapehelper")"
	printf '%-26s %8d bytes  %s\n' "$arch" "$size" "$desc"
	# Issue 6's budget: the MT1300 has 16 MB of flash for the whole image.
	# A new import can cost hundreds of KB (crypto/sha256 alone: 262 KB).
	if [ "$arch" = mipsel_24kc ] && [ "$size" -gt 4194304 ]; then
		echo "arches: mipsel_24kc binary is $size bytes, over the 4 MiB (4194304) budget" >&2
		exit 1
	fi
done
