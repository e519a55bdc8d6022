#!/bin/sh
# shellcheck disable=SC1091 # the profile is checked with shellcheck -x by mk/vmtest.mk
# Runs, as root on a real kernel of the profile's architecture, the unit
# tests qemu-user cannot: every package whose tests use dataplane/nstest
# (network namespaces, nf_tables over netlink, ip6_tunnel, conntrack). The test
# binaries are cross-built with the profile's GOARCH/GOARM/GOMIPS and put
# into vmtest's VM through its VMTEST_OVERLAY hook, with guest/unit.sh as
# the scenario; vmtest/run.sh boots, judges and times it as usual.
#
# usage: scripts/arches/vm-unit.sh WORKDIR PROFILE SECONDS   (PROFILE in vmtest/arch)
set -eu

self="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$self/../.." && pwd)"
[ "$#" -eq 3 ] || { echo "usage: $0 WORKDIR PROFILE SECONDS" >&2; exit 2; }
work="$1"
profile="$2"
limit="$3"
[ -f "$repo/vmtest/arch/$profile.sh" ] || { echo "arches: no profile vmtest/arch/$profile.sh" >&2; exit 2; }

# The profile exports the Go target (GOARCH, GOARM, GOMIPS); it reads
# $here as vmtest/, like run.sh and build-initramfs.sh.
overlay="$work/vm-unit-$profile"
(
	here="$repo/vmtest"
	# shellcheck source=vmtest/arch/arm64.sh
	. "$here/arch/$profile.sh"
	rm -rf "$overlay"
	mkdir -p "$overlay/usr/lib/mapehelper-tests" "$overlay/vmtest"
	cd "$repo"
	pkgs="$(go list -f '{{.ImportPath}} {{.TestImports}} {{.XTestImports}}' ./... |
		awk '{imports = $0; sub(/^[^ ]+ /, "", imports)} imports ~ /dataplane\/nstest[] ]/ {print $1}')"
	[ -n "$pkgs" ] || { echo "arches: no package uses dataplane/nstest" >&2; exit 1; }
	# What the tests expect of a router beyond the data plane's modules:
	# /etc/protocols (nft prints protocol names with it, as on OpenWrt)
	# and conntrack over netlink (status reads the conntrack table).
	mkdir -p "$overlay/etc" "$overlay/lib/modules/extra"
	cp /etc/protocols "$overlay/etc/protocols"
	: >"$overlay/etc/unit-modules.order"
	modprobe -d "$VM_MODROOT" -S "$VM_KVER" --show-depends nf_conntrack_netlink | while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		name="$(basename "$path")"
		name="${name%.xz}"
		case "$path" in
		*.xz) xz -dc "$path" >"$overlay/lib/modules/extra/$name" ;;
		*) cp "$path" "$overlay/lib/modules/extra/$name" ;;
		esac
		echo "$name" >>"$overlay/etc/unit-modules.order"
	done
	for p in $pkgs; do
		name="$(echo "${p#github.com/mapehelper/mapehelper/}" | tr / -)"
		CGO_ENABLED=0 go test -c -tags vmkernel -trimpath -ldflags '-s -w' -o "$overlay/usr/lib/mapehelper-tests/$name.test" "$p"
	done
)
cp "$self/guest/unit.sh" "$overlay/vmtest/unit.sh"
VMTEST_OVERLAY="$overlay" VMTEST_CMDLINE="vmtest.scenario=unit.sh" sh "$repo/vmtest/run.sh" -a "$profile" -t "$limit"
