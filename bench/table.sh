#!/bin/sh
# Prints the benchmark table from a console log's "VMTEST BENCH" lines.
# usage: bench/table.sh CONSOLE-LOG
set -eu
printf '%-8s %-7s %-18s %6s %6s %6s %8s %8s %8s\n' shape isp test ports/new held ok in_set br_drops ms
sed -n 's/^VMTEST BENCH //p' "$1" | tr -d '\r{}"' | awk -F, '{
	delete v
	for (i = 1; i <= NF; i++) { split($i, kv, ":"); v[kv[1]] = kv[2] }
	if ("median_ms" in v) { printf "%-8s %-7s %-18s runs=%s failed=%s median=%s ms peak_rss=%s KiB\n", v["shape"], v["isp"], v["test"], v["runs"], v["failed"], v["median_ms"], v["peak_rss_kib"]; next }
	if (v["test"] == "many-dst") { printf "%-8s %-7s %-18s %s/%s ok to %s servers in %s ms: %s conn/s = %s x masq, slow %s, br_drops %s (%s, par %s, %s rounds)\n", v["shape"], v["isp"], v["test"], v["ok"], v["n"], v["servers"], v["ms"], v["rate"], v["ratio"], v["slow"], v["br_drops"], v["close"], v["par"], v["rounds"]; next }
	if ("objects" in v) { printf "%-8s %-7s %-18s %s nft objects (tables, chains, sets/maps, rules)\n", v["shape"], v["isp"], v["test"], v["objects"]; next }
	n = ("new" in v) ? v["new"] : v["ports"]
	h = ("held" in v) ? v["held"] : "-"
	printf "%-8s %-7s %-18s %6s %6s %6s %8s %8s %8s\n", v["shape"], v["isp"], v["test"], n, h, v["ok"], v["in_set"], v["br_drops"], v["ms"]
}'
