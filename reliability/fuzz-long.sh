#!/usr/bin/env bash
# Runs every Go fuzz target in the repository for a fixed number of
# executions each (default 1,000,000; `go test -fuzztime=Nx`) and prints a
# table of the executions each one really made, for docs/reliability.md.
# Targets are found the way .ci/fuzz.sh finds them, so a fuzzer added by
# any package is included without editing this file.
#
# usage: reliability/fuzz-long.sh [EXECS] [PARALLEL]
# output: the table on stdout and in build/fuzz-long.txt
set -euo pipefail
cd "$(dirname "$0")/.."
execs="${1:-1000000}"
par="${2:-1}"
mkdir -p build
summary=build/fuzz-long.txt
: >"$summary.tmp"
fails=0
while IFS= read -r line; do
	file="${line%%:*}"
	name="$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"${line#*:}")"
	pkg="./$(dirname "$file")"
	log="build/fuzz-long-$(tr '/.' '__' <<<"$pkg")-$name.log"
	start=$(date +%s)
	rc=0
	go test -run='^$' -fuzz="^${name}\$" -fuzztime="${execs}x" -parallel="$par" "$pkg" >"$log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	# The last progress line holds the final count ("execs: N (R/sec)").
	n="$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
	verdict=ok
	if [ "$rc" -ne 0 ]; then
		verdict=FAIL
		fails=$((fails + 1))
		tail -n 30 "$log" >&2
	fi
	printf '%-40s %-22s %10s execs %6ss %s\n' "$pkg" "$name" "${n:-?}" "$secs" "$verdict" | tee -a "$summary.tmp"
done < <(git ls-files '*_test.go' | xargs -r grep -H '^func Fuzz' || true)
mv "$summary.tmp" "$summary"
echo "fuzz-long: $(wc -l <"$summary") targets, $fails failed (table in $summary)"
[ "$fails" -eq 0 ]
