#!/bin/sh
# Replaces a generated block of a markdown file with a command's output, so
# that the figures docs/bench.md shows are the ones a results file holds.
# The block is every line strictly between a line starting with
# "<!-- NAME:" and the line "<!-- /NAME -->".
#
# usage: bench/doc-block.sh NAME FILE COMMAND [ARGS…]
set -eu
[ "$#" -ge 3 ] || { echo "usage: $0 NAME FILE COMMAND [ARGS...]" >&2; exit 2; }
name="$1" file="$2"
shift 2
end="<!-- /$name -->"
if ! grep -q "^<!-- $name:" "$file" || ! grep -qxF "$end" "$file"; then
	echo "doc-block: $file has no $name markers ('<!-- $name: ...' and '$end')" >&2
	exit 1
fi
tmp="$(mktemp)"
trap 'rm -f "$tmp" "$tmp.out"' EXIT INT TERM
"$@" >"$tmp"
awk -v b="<!-- $name:" -v e="$end" -v newf="$tmp" '
	index($0, b) == 1 { print; while ((getline l < newf) > 0) print l; skip = 1; next }
	skip && $0 == e { skip = 0 }
	!skip { print }' "$file" >"$tmp.out"
cat "$tmp.out" >"$file"
