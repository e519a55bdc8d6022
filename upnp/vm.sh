#!/bin/sh
# Runs the UPnP scenario (issue 13) in vmtest's VM: Debian's real miniupnpd
# (nftables build) on the CE and its upnpc client on the LAN host, next to
# the real mapehelper. Builds an overlay with the two dynamic binaries and
# every library ldd lists for them (as vmtest's profile copies ip and nft),
# the natpmpc test client and upnp/guest/*.sh, and boots vmtest/run.sh with
# vmtest.scenario=upnp.sh. Under CI=true a missing binary is a failure.
#
# usage: upnp/vm.sh [-t SECONDS] [vmtest.KEY=VALUE …]
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
limit=300
if [ "${1:-}" = -t ]; then
	limit="$2"
	shift 2
fi
MINIUPNPD="${MINIUPNPD:-/usr/sbin/miniupnpd}"
UPNPC="${UPNPC:-/usr/bin/upnpc}"
for bin in "$MINIUPNPD" "$UPNPC"; do
	if [ ! -x "$bin" ]; then
		echo "upnp: $bin missing (apt-get install miniupnpd-nftables miniupnpc)" >&2
		if [ "${CI:-}" = true ]; then
			echo "upnp: FAIL (CI=true: a missing tool is a failure)" >&2
			exit 1
		fi
		echo "upnp: SKIP" >&2
		exit 0
	fi
done
over="$repo/build/upnp-overlay"
rm -rf "$over"
mkdir -p "$over/usr/bin" "$over/usr/sbin" "$over/vmtest"
cp -L "$MINIUPNPD" "$over/usr/sbin/miniupnpd"
cp -L "$UPNPC" "$over/usr/bin/upnpc"
for bin in "$MINIUPNPD" "$UPNPC"; do
	for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^\t\//{print $1}'); do
		mkdir -p "$over$(dirname "$lib")"
		cp -L "$lib" "$over$lib"
	done
done
(cd "$repo" && CGO_ENABLED=0 GOARCH=amd64 go build -trimpath -ldflags '-s -w' -o "$over/usr/bin/natpmpc" ./upnp/cmd/natpmpc)
cp "$here/guest/"*.sh "$here/openwrt/95-mapehelper-upnp" "$over/vmtest/"
chmod 755 "$over/vmtest/"*.sh
VMTEST_OVERLAY="$over" VMTEST_CMDLINE="vmtest.scenario=upnp.sh $*" \
	exec "${VMTEST_RUN:-$repo/vmtest/run.sh}" -t "$limit"
