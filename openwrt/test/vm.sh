#!/bin/sh
# Runs openwrt/test/vm/openwrt-handler.sh in vmtest's VM (real kernel with
# ip6_tunnel, real mapehelper): puts the packaged handlers, the recorder
# stand-ins and jq (with its libraries) into an overlay directory and lets
# vmtest/run.sh boot its initramfs with it and
# vmtest.scenario=openwrt-handler.sh.
#
# usage: openwrt/test/vm.sh [-t SECONDS]
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
limit=300
if [ "${1:-}" = -t ]; then
	limit="$2"
	shift 2
fi
if ! command -v jq >/dev/null 2>&1; then
	echo "openwrt vm: jq is needed for the recorder (apt-get install jq)" >&2
	exit 1
fi
over="$repo/build/openwrt-vm-overlay"
rm -rf "$over"
mkdir -p "$over/usr/bin" "$over/vmtest" "$over/openwrt-fake" "$over/lib/netifd/proto"

# The handlers exactly as packaged.
cp "$repo/openwrt/files/lib/netifd/mapehelper.sh" "$over/lib/netifd/"
cp "$repo/openwrt/files/lib/netifd/proto/mape.sh" "$repo/openwrt/files/lib/netifd/proto/map.sh" "$over/lib/netifd/proto/"
cp "$here/fake/recorder.sh" "$here/fake/jsonfilter" "$here/fake/ubus" "$over/openwrt-fake/"
cp "$here/vm/openwrt-handler.sh" "$over/vmtest/"
chmod 755 "$over/vmtest/openwrt-handler.sh" "$over/openwrt-fake/jsonfilter" "$over/openwrt-fake/ubus" \
	"$over/lib/netifd/proto/"*.sh

# jq and the libraries it loads, at the same paths in the guest.
jq="$(command -v jq)"
cp "$jq" "$over/usr/bin/jq"
ldd "$jq" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' | while read -r lib; do
	mkdir -p "$over$(dirname "$lib")"
	cp -L "$lib" "$over$lib"
done

VMTEST_OVERLAY="$over" VMTEST_CMDLINE="vmtest.scenario=openwrt-handler.sh" \
	exec "${VMTEST_RUN:-$repo/vmtest/run.sh}" -t "$limit"
