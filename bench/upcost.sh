#!/bin/sh
# Issue 14 goal 5, `up` end to end on each architecture's VM: collects the
# "VMTEST INFO up-cost" line that the VM scenario's up-cost step prints
# (medians of 5 replacing ups and of 5 starts of a Go binary that does
# nothing, built alike) from the console logs of the last VM runs, and
# writes them as JSON (bench/upcost.json). With -table FILE it prints
# docs/bench.md's table from such a file instead.
#
# usage: bench/upcost.sh [WORKDIR [OUT]]   (WORKDIR: vmtest/work, OUT: bench/upcost.json)
#        bench/upcost.sh -table FILE
set -eu
if [ "${1:-}" = -table ]; then
	command -v jq >/dev/null || { echo "upcost: jq is missing (apt-get install jq)" >&2; exit 1; }
	jq -r '
		"| VM (qemu TCG on \(.host)) | kernel | `up` (median of 5) | no-op Go binary start | `up` ÷ no-op |",
		"|---|---|---:|---:|---:|",
		(.runs[] | "| \(.vm) (\(.machine)) | \(.kernel) | \(.up_ms) ms | \(.noop_ms) ms | \(.ratio) × |")
	' "$2"
	exit 0
fi
work="${1:-vmtest/work}"
out="${2:-bench/upcost.json}"
host="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') × $(nproc)"
runs=""
for vm in amd64 arm64 armhf mipsel; do
	log="$work/$vm/console.log"
	[ -f "$log" ] || continue
	line="$(grep -a '^VMTEST INFO up-cost ' "$log" | tail -n 1 | tr -d '\r')"
	[ -n "$line" ] || continue
	# VMTEST INFO up-cost MACHINE: up median X ms, no-op Go binary start median Y ms: up = R x no-op
	# shellcheck disable=SC2086 # split the line into its words
	set -- $line
	machine="${4%:}"
	kernel="$(grep -a '^VMTEST BEGIN kernel' "$log" | tail -n 1 | tr -d '\r' | awk '{print $4}')"
	runs="$runs${runs:+,
}{\"vm\":\"$vm\",\"machine\":\"$machine\",\"kernel\":\"$kernel\",\"up_ms\":$7,\"noop_ms\":${14},\"ratio\":${18}}"
done
[ -n "$runs" ] || { echo "upcost: no up-cost line in $work/*/console.log (run make vmtest, vmtest-ARCH first)" >&2; exit 1; }
printf '{"host":"%s","runs":[\n%s\n]}\n' "$host" "$runs" >"$out"
echo "upcost: wrote $out"
