#!/bin/sh
# docs/bench.md's option vrange table, generated from
# bench/vrange-results.json (written by bench/vrange.sh, `make bench-vrange`).
# It prints the table; bench/doc-block.sh puts it between the
# `<!-- vrange-table: … -->` markers (make vrange-table, vrange-check).
#
# usage: bench/vrange-table.sh [RESULTS]
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
results="${1:-$here/vrange-results.json}"
command -v jq >/dev/null || { echo "vrange-table: jq is missing (apt-get install jq)" >&2; exit 1; }

table() {
	jq -r '
	def find($isp; $shape; $test): [.runs[] | select(.isp == $isp and .shape == $shape and .test == $test)] | first;
	def churn($r): if $r == null then "–" else ($r.result.rounds | map(tostring) | join(", ")) + " of \($r.result.n / (.rounds)) (pool \($r.result.first))" end;
	def eim($r): if $r == null then "–" else "\($r.result.ok)/\($r.result.n)" end;
	. as $d
	| "| one `make bench-vrange` run, kernel \($d.kernel) (native, netns) | ours (default rules) | option vrange |",
	  "|---|---|---|",
	  (["v6plus", "ocn"][] as $isp |
		"| \($isp): new TCP flows per round at 90 % busy (\($d.rounds) rounds, same pool) | \($d | churn(find($isp; "ours"; "churn-90"))) | \($d | churn(find($isp; "vrange"; "churn-90"))) |",
		"| \($isp): new TCP flows per round at 99 % busy | \($d | churn(find($isp; "ours"; "churn-99"))) | \($d | churn(find($isp; "vrange"; "churn-99"))) |",
		"| \($isp): the same at 90 %, the table reloaded (as by fw4 reload) before each round | \($d | churn(find($isp; "ours"; "reload-90"))) | \($d | churn(find($isp; "vrange"; "reload-90"))) |",
		"| \($isp): UDP sockets that kept one external port towards 3 server ports | \($d | eim(find($isp; "ours"; "eim"))) | \($d | eim(find($isp; "vrange"; "eim"))) |",
		"| \($isp): packets the BR dropped | \(find($isp; "ours"; "br-drops").br_drops // "–") | \(find($isp; "vrange"; "br-drops").br_drops // "–") |")
	' "$results"
}

table
