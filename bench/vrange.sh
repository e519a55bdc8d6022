#!/bin/sh
# bench/vrange.sh: option vrange (one virtual range) measured against the
# default rules, natively (host kernel, network namespaces, no tunnel: a
# veth named like ours and a BR-like port check in nftables are enough for
# the NAT path). Issue 14 goal 1 and issue 13's mapping test, side by side
# in one run, for v6plus and OCN. Needs root, nft, ip, go, jq. Output: one JSON line per shape and
# test, and bench/vrange-results.json (or $1).
#
# Shapes:
#   ours    the table `mapehelper up --dry-run` prints (numgen / per-set
#           counts / walk, whatever main ships)
#   vrange  the same with option vrange (`up --dry-run --vrange`): SNAT
#           into ONE contiguous virtual range 1..N (N = ports of the PSID),
#           then a stateless rewrite virtual -> real port on the way out
#           (filter postrouting, after NAT) and real -> virtual on the way
#           in (prerouting, before conntrack). The kernel's NAT then
#           allocates from one range: it fails a flow only when no port to
#           that destination is free (TIME_WAIT included), and its
#           find_appropriate_src keeps one external port per LAN endpoint.
#
# Tests per shape: churn (hold N connections to one server, then ROUNDS
# rounds of: reset CHURN random ones, wait, open CHURN new ones that join
# the pool) at 90 % and 99 %; reload-90, the 90 % churn with the table
# loaded again in every round after the resets, as an fw4 reload re-runs
# our include (issue 14 goal 2: what a reload costs; the shipped include
# flushes and keeps the sets, the vrange table has no state); eim (30 UDP sockets,
# each to three server ports: how many saw one external port).
set -eu
out=${1:-bench/vrange-results.json}
rounds=${ROUNDS:-4}
prefixes=${PREFIXES:-240b:12:3456:7800::/56 2400:4050:9234:5600::/56} # v6plus, OCN
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
cleanup() {
	set +e
	for p in "$work"/*.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	for n in lan ce srv; do
		ip netns del vr$n 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$here" && go build -o "$work/probe" ./vmtest/cmd/probe && go build -o "$work/sink" ./vmtest/cmd/sink &&
	go build -o "$work/mapehelper" ./cmd/mapehelper)

# use_prefix sets isp, ipv4, ports (lo-hi,…) and total from the calculator.
use_prefix() {
	prefix=$1
	calc=$("$work/mapehelper" calc --json "$prefix")
	isp=$(printf '%s' "$calc" | jq -r .isp)
	ipv4=$(printf '%s' "$calc" | jq -r .ipv4)
	ports=$(printf '%s' "$calc" | jq -r '[.port_sets[] | "\(.[0])-\(.[1])"] | join(",")')
	total=$(printf '%s' "$calc" | jq -r .ports)
}

topo() {
	for n in lan ce srv; do
		ip netns del vr$n 2>/dev/null || true
		ip netns add vr$n
		ip -n vr$n link set lo up
	done
	ip link add lan0 netns vrlan type veth peer name lanif netns vrce
	ip link add map-wan_mape netns vrce type veth peer name brif netns vrsrv
	ip -n vrlan addr add 10.0.0.2/24 dev lan0
	ip -n vrlan link set lan0 up
	ip -n vrlan route add default via 10.0.0.1
	ip -n vrce addr add 10.0.0.1/24 dev lanif
	ip -n vrce link set lanif up
	ip -n vrce addr add "$ipv4/32" dev map-wan_mape
	ip -n vrce link set map-wan_mape up
	ip -n vrce route add default dev map-wan_mape
	ip -n vrsrv addr add 203.0.113.10/32 dev brif
	ip -n vrsrv link set brif up
	ip -n vrsrv route add "$ipv4/32" dev brif
	ip netns exec vrce sysctl -qw net.ipv4.ip_forward=1
	# A reset connection leaves conntrack in seconds, not TIME_WAIT's 120 s.
	ip netns exec vrce sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=1
	# The BR: drop whatever comes from the shared IPv4 outside the sets.
	ip netns exec vrsrv nft -f - <<-EOF
		table ip br {
			counter drops {
			}
			chain in {
				type filter hook prerouting priority 0; policy accept;
				ip saddr $ipv4 meta l4proto { tcp, udp } th sport != { $(echo "$ports" | sed 's/,/, /g') } counter name drops drop
			}
		}
	EOF
}

rules() {
	_vrange=""
	[ "$1" = vrange ] && _vrange=--vrange
	"$work/mapehelper" up --dry-run $_vrange --interface wan_mape --link lanif --prefix "$prefix" | sed -n '/^# Generated/,$p'
}

# eim: 30 UDP sockets, each sends to three server ports; the sink answers
# with the source it saw. Prints how many sockets saw one source.
eim() {
	cat >"$work/eim.go" <<-'EOF'
		package main

		import (
			"bytes"
			"fmt"
			"net"
			"time"
		)

		func main() {
			ok, n := 0, 30
			for i := 0; i < n; i++ {
				c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 20000 + 997*i%40000})
				if err != nil {
					panic(err)
				}
				seen := map[string]bool{}
				for _, p := range []int{8081, 8082, 8083} {
					c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(203, 0, 113, 10), Port: p})
					c.SetReadDeadline(time.Now().Add(2 * time.Second))
					b := make([]byte, 200)
					k, _, err := c.ReadFrom(b)
					if err != nil {
						seen["timeout"] = true
						continue
					}
					seen[string(bytes.SplitN(b[:k], []byte("\n"), 2)[0])] = true
				}
				if len(seen) == 1 && !seen["timeout"] {
					ok++
				}
				c.Close()
			}
			fmt.Printf("{\"test\":\"eim\",\"n\":%d,\"ok\":%d}\n", n, ok)
		}
	EOF
	[ -f "$work/eim" ] || (cd "$work" && GOFLAGS='' go build -o eim eim.go)
	ip netns exec vrlan "$work/eim"
}

# churn_test NAME PCT [PROBE-FLAGS…]: the pool held at PCT % busy over
# $rounds rounds (probe churn), after quiet; one result line NAME.
churn_test() {
	_name=$1 _pct=$2
	shift 2
	quiet
	r=$(ip netns exec vrlan "$work/probe" churn -to 203.0.113.10:8080 -n "$total" -churn $(((total * (100 - _pct) + 99) / 100)) \
		-rounds "$rounds" -settle 3s -timeout 3s -par 64 -ports "$ports" -src "$ipv4" "$@")
	echo "{\"isp\":\"$isp\",\"shape\":\"$shape\",\"test\":\"$_name\",\"result\":$r}" | tee -a "$work/results"
}

# quiet waits until the CE's conntrack has forgotten every flow, so each
# test starts with all ports free.
quiet() {
	i=0
	while [ "$(ip netns exec vrce cat /proc/sys/net/netfilter/nf_conntrack_count)" != 0 ] && [ $i -lt 60 ]; do
		sleep 0.5
		i=$((i + 1))
	done
}

: >"$work/results"
for prefix in $prefixes; do
use_prefix "$prefix"
for shape in ours vrange; do
	topo
	rules "$shape" >"$work/rules.nft"
	ip netns exec vrce nft -f "$work/rules.nft"
	ip netns exec vrsrv "$work/sink" -tcp 8080 -udp 8081,8082,8083 -ctl 127.0.0.1:9000 &
	echo $! >"$work/sink.pid"
	sleep 0.5
	churn_test churn-90 90
	churn_test churn-99 99
	churn_test reload-90 90 -reload "ip netns exec vrce nft -f $work/rules.nft"
	quiet
	r=$(eim)
	echo "{\"isp\":\"$isp\",\"shape\":\"$shape\",\"test\":\"eim\",\"result\":$r}" | tee -a "$work/results"
	d=$(ip netns exec vrsrv nft list counter ip br drops | sed -n 's/.*packets \([0-9]*\).*/\1/p')
	echo "{\"isp\":\"$isp\",\"shape\":\"$shape\",\"test\":\"br-drops\",\"br_drops\":$d}" | tee -a "$work/results"
	kill "$(cat "$work/sink.pid")"
	rm "$work/sink.pid"
done
done
{
	echo "{\"kernel\":\"$(uname -r)\",\"rounds\":$rounds,\"runs\":["
	sed '$!s/$/,/' "$work/results"
	echo "]}"
} >"$out"
echo "vrange: wrote $out"
