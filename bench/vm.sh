#!/bin/sh
# Runs the benchmark scenario (bench/guest/bench.sh) in vmtest's VM through
# its overlay hook, then turns the guest's "VMTEST BENCH {json}" lines into
# a JSON array (OUT, default bench/results.json) and prints a table.
#
# usage: bench/vm.sh [-t SECONDS] [-o OUT] [vmtest.shapes=…] [vmtest.occ=…] [vmtest.benchci=1]
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
limit=1500
out="$here/results.json"
while [ $# -gt 0 ]; do
	case "$1" in
	-t) limit="$2"; shift 2 ;;
	-o) out="$2"; shift 2 ;;
	*) break ;;
	esac
done
over="$repo/build/bench-overlay"
# Its own work directory: other suites boot vmtest at the same time.
export VMTEST_WORK="${VMTEST_WORK:-$repo/build/bench-vm}"
rm -rf "$over"
mkdir -p "$over/vmtest" "$over/usr/bin"
cp "$here/guest/"*.sh "$over/vmtest/"
chmod 755 "$over/vmtest/"*.sh
rc=0
VMTEST_OVERLAY="$over" VMTEST_CMDLINE="vmtest.scenario=bench.sh $*" \
	"${VMTEST_RUN:-$repo/vmtest/run.sh}" -t "$limit" || rc=$?
log="$VMTEST_WORK/console.log"
# The kernel vmtest's amd64 profile boots (the newest /boot/vmlinuz-*).
kver="$(find /boot -maxdepth 1 -name 'vmlinuz-*' | sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
{
	printf '{"kernel":"%s","host_cpu":"%s","results":[\n' "$kver" "$cpu"
	sed -n 's/^VMTEST BENCH //p' "$log" | tr -d '\r' | sed '$!s/$/,/'
	printf ']}\n'
} >"$out"
sh "$here/table.sh" "$log"
exit "$rc"
