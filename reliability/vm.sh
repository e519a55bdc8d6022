#!/bin/sh
# Runs the reliability scenarios in vmtest's VM: builds the chaos tool for
# the guest, puts it and reliability/guest/*.sh into an overlay directory,
# and lets vmtest/run.sh boot its initramfs with that overlay and
# vmtest.scenario=reliability.sh. Extra kernel words choose parts and sizes.
#
# usage: reliability/vm.sh [-t SECONDS] [vmtest.rel=…] [vmtest.kills=N] [vmtest.soak=SECONDS]
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
limit=480
if [ "${1:-}" = -t ]; then
	limit="$2"
	shift 2
fi
over="$repo/build/reliability-overlay"
rm -rf "$over"
mkdir -p "$over/usr/bin" "$over/vmtest"
(cd "$repo" && CGO_ENABLED=0 GOARCH=amd64 go build -trimpath -ldflags '-s -w' -o "$over/usr/bin/chaos" ./reliability/cmd/chaos)
cp "$here/guest/"*.sh "$over/vmtest/"
chmod 755 "$over/vmtest/"*.sh
VMTEST_OVERLAY="$over" VMTEST_CMDLINE="vmtest.scenario=reliability.sh $*" \
	exec "${VMTEST_RUN:-$repo/vmtest/run.sh}" -t "$limit"
