#!/bin/sh
# shellcheck disable=SC1091 # sourced files are checked with shellcheck -x by mk/bench.mk
# The benchmark scenario, run by vmtest's guest init (vmtest.scenario=bench.sh).
# It reuses vmtest's network (LAN hosts, CEs, ISP, a BR that drops and
# counts out-of-set packets, the sink server) and measures, in one VM, the
# same CE with three rule shapes side by side:
#   ours     mapehelper up (the real binary)
#   stock    one "snat ip to A:lo-hi" per port set, first match wins
#            (what fw4 renders from the stock map.sh data)
#   perport  snat ip to A : numgen inc mod PORTS map { i : port }
# Each measurement prints one "VMTEST BENCH {json}" line; the host turns
# them into bench/results.json and a table. Checks that bench-ci asserts
# are VMTEST PASS/FAIL lines (only when vmtest.benchci=1).
# shellcheck source=vmtest/guest/lib.sh
. /vmtest/lib.sh
# shellcheck source=vmtest/guest/fixtures.sh
. /vmtest/fixtures.sh
# shellcheck source=vmtest/guest/topo.sh
. /vmtest/topo.sh
# shellcheck source=vmtest/guest/br.sh
. /vmtest/br.sh
# shellcheck source=vmtest/guest/ce.sh
. /vmtest/ce.sh
# shellcheck source=bench/guest/shapes.sh
. /vmtest/shapes.sh

SHAPES="${VMTEST_shapes:-ours,stock,perport}"
OCC="${VMTEST_occ:-50,90,99}"
CI="${VMTEST_benchci:-0}"
# Every phase talks to a fresh server port, so conntrack entries left by a
# previous phase (closed TCP flows keep their NAT port for a while) never
# take ports from the next one.
DPORT=8100
# Test 3, many destinations (reads SHAPES and CI).
# shellcheck source=bench/guest/manydst.sh
. /vmtest/manydst.sh

nextport() {
	DPORT=$((DPORT + 1))
}

# bench SHAPE ISP TEST KEY=VALUE…: one result line.
bench() {
	_j="{\"shape\":\"$1\",\"isp\":\"$2\",\"test\":\"$3\""
	shift 3
	for _kv in "$@"; do
		_j="$_j,\"${_kv%%=*}\":${_kv#*=}"
	done
	echo "VMTEST BENCH $_j}"
}

# mss_chain DEV: the MSS clamp chain every hand-made shape shares (ours
# renders its own), so shapes differ only in their SNAT.
mss_chain() {
	printf '\tchain mss {\n\t\ttype filter hook forward priority mangle; policy accept;\n'
	printf '\t\t%s "%s" tcp flags syn / syn,rst tcp option maxseg size set 1420\n' oifname "$1" iifname "$1"
	printf '\t}\n'
}

# perport_up NS IFACE FIXTURE: the tunnel by hand, then one SNAT rule that
# picks one port out of all ports of all sets by numgen.
perport_up() {
	ce_fallback_up "$1" "$2" "$(fx "$3" ADDR)" "$(fx_br "$3")" "$(fx "$3" IPV4)" "$(fx_sets "$3")" spread
	n "$1" "$NFT" delete table ip vmtest_fallback
	_k=0
	_map=""
	for _r in $(fx_sets "$3" | tr ',' ' '); do
		_p="${_r%-*}"
		while [ "$_p" -le "${_r#*-}" ]; do
			_map="$_map${_map:+, }$_k : $_p"
			_k=$((_k + 1))
			_p=$((_p + 1))
		done
	done
	cat >/tmp/perport.nft <<-EOT
		table ip vmtest_fallback {
		$(mss_chain "map-$2")
			chain post {
				type nat hook postrouting priority srcnat - 1; policy accept;
				oifname "map-$2" meta l4proto { tcp, udp, icmp } snat ip to $(fx "$3" IPV4) : numgen inc mod $_k map { $_map }
			}
		}
	EOT
	n "$1" "$NFT" -f /tmp/perport.nft
}

# shape_up SHAPE NS IFACE FIXTURE / shape_down SHAPE NS IFACE
shape_up() {
	case "$1" in
	ours) ce_up "$2" "$3" "$4" >/dev/null ;;
	stock) ce_fallback_up "$2" "$3" "$(fx "$4" ADDR)" "$(fx_br "$4")" "$(fx "$4" IPV4)" "$(fx_sets "$4")" stock ;;
	perport) perport_up "$2" "$3" "$4" ;;
	*) alt_up "$@" ;;
	esac
}
shape_down() {
	case "$1" in
	ours) ce_down "$2" "$3" >/dev/null ;;
	*) ce_fallback_down "$2" "$3" ;;
	esac
}

# capacity SHAPE HOST NS FIXTURE ISP: one-destination TCP capacity: as
# many concurrent connections to one server ip:port as the set has ports.
capacity() {
	_sets="$(fx_sets "$4")"
	_n="$(setsize "$_sets")"
	nextport
	_d0="$(br_drops "$3")"
	_r="$(n "$2" probe tcp -to "$SERVER:$DPORT" -n "$_n" -par 64 -timeout 3s -ports "$_sets" -src "$(fx "$4" IPV4)")"
	_dr=$(($(br_drops "$3") - _d0))
	bench "$1" "$5" tcp-capacity "ports=$_n" "ok=$(jf ok "$_r")" "in_set=$(jf in_set "$_r")" "br_drops=$_dr" "ms=$(jf ms "$_r")"
	CAP_OK="$(jf ok "$_r")" CAP_DROPS="$_dr"
}

# occupancy SHAPE HOST NS FIXTURE ISP PCT: hold PCT% of the set busy to one
# destination, then reset the others and open as many new connections
# (at most 200). Measured twice: with a 1 s connect timeout (no SYN
# retransmission yet: first-SYN success) and with 3 s (success within 3 s).
occupancy() {
	_sets="$(fx_sets "$4")"
	_n="$(setsize "$_sets")"
	_new=$((_n - _n * $6 / 100))
	[ "$_new" -le 200 ] || _new=200
	for _to in 1s 3s; do
		nextport
		_d0="$(br_drops "$3")"
		_r="$(n "$2" probe churn -to "$SERVER:$DPORT" -n "$_n" -churn "$_new" -settle 2s -timeout "$_to" -par 64 -ports "$_sets" -src "$(fx "$4" IPV4)")"
		_dr=$(($(br_drops "$3") - _d0))
		bench "$1" "$5" "occupancy-$6-$_to" "ports=$_n" "held=$((_n - _new))" "new=$_new" "first_wave=$(jf first "$_r")" "ok=$(jf ok "$_r")" "in_set=$(jf in_set "$_r")" "br_drops=$_dr" "ms=$(jf ms "$_r")"
		OCC_OK="$(jf ok "$_r")" OCC_NEW="$_new" OCC_DROPS="$_dr"
	done
}

# udpicmp SHAPE HOST NS FIXTURE ISP: UDP capacity (one flow per port to
# one server port) and ICMP echo capacity (one id per port, up to 240).
udpicmp() {
	_sets="$(fx_sets "$4")"
	_n="$(setsize "$_sets")"
	_d0="$(br_drops "$3")"
	_r="$(n "$2" probe udp -to "$SERVER:9001" -n "$_n" -par 64 -timeout 3s -ports "$_sets" -src "$(fx "$4" IPV4)")"
	_dr=$(($(br_drops "$3") - _d0))
	bench "$1" "$5" udp-capacity "ports=$_n" "ok=$(jf ok "$_r")" "in_set=$(jf in_set "$_r")" "br_drops=$_dr" "ms=$(jf ms "$_r")"
	n srv probe seen >/dev/null
	_m="$_n"
	[ "$_m" -le 240 ] || _m=240
	ICMPID=$((ICMPID + 1000))
	_d0="$(br_drops "$3")"
	_r="$(n "$2" probe icmp -to "$SERVER" -n "$_m" -id "$ICMPID")"
	_s="$(n srv probe seen -proto icmp -ports "$_sets" -src "$(fx "$4" IPV4)")"
	_dr=$(($(br_drops "$3") - _d0))
	bench "$1" "$5" icmp-capacity "ports=$_m" "ok=$(jf ok "$_r")" "in_set=$(jf in_set "$_s")" "br_drops=$_dr" "ms=$(jf ms "$_r")"
}
ICMPID=10000

step topology
topo_setup
br_setup
br_ce 1 ce1 "$CE1_ADDR" "$CE1_IPV4" "$(fx_sets CE1)" "$V6PLUS_BR"
br_ce 4 ce3 "$CE3_ADDR" "$CE3_IPV4" "$(fx_sets CE3)" "$OCN_BR"
br_commit || verdict br-setup 0 "nft rejected the BR ruleset"
tports="$(seq 8101 8199 | tr '\n' ',')"
n srv sink -tcp "${tports%,}" -udp 9001,9002 -icmp -ctl 127.0.0.1:9000 &
SINK=$!
i=0
until n srv probe seen >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || { verdict sink 0 "sink did not start"; break; }
	sleep 0.1
done
for c in ce1 ce3; do
	mkdir -p "$(ce_fw4_dir "$c")"
	# Reset flows leave conntrack quickly (default 10 s).
	sysctl_ns "$c" net.netfilter.nf_conntrack_tcp_timeout_close 1
done

for shape in $(echo "$SHAPES" | tr ',' ' '); do
	step "$shape"
	shape_up "$shape" ce1 mape1 CE1 || verdict "up $shape ce1" 0 "failed"
	shape_up "$shape" ce3 ocn CE3 || verdict "up $shape ce3" 0 "failed"
	wait_dad ce1
	wait_dad ce3
	capacity "$shape" h1 ce1 CE1 v6plus
	c1="$CAP_OK" d1="$CAP_DROPS"
	capacity "$shape" h3 ce3 CE3 ocn
	c3="$CAP_OK" d3="$CAP_DROPS"
	if [ "$CI" = 1 ] && [ "$shape" = ours ]; then
		verdict "ours tcp-capacity v6plus" "$([ "$c1" -ge 240 ] && [ "$d1" = 0 ] && echo 1)" "$c1/240 ok, br_drops=$d1"
		verdict "ours tcp-capacity ocn" "$([ "$c3" -ge 1008 ] && [ "$d3" = 0 ] && echo 1)" "$c3/1008 ok, br_drops=$d3"
	fi
	for p in $(echo "$OCC" | tr ',' ' '); do
		occupancy "$shape" h1 ce1 CE1 v6plus "$p"
		[ "$p" = 90 ] && eval "OCC90_$shape=$OCC_OK OCC90D_$shape=$OCC_DROPS"
	done
	[ "$CI" = 1 ] || occupancy "$shape" h3 ce3 CE3 ocn 90
	udpicmp "$shape" h1 ce1 CE1 v6plus
	[ "$CI" = 1 ] || udpicmp "$shape" h3 ce3 CE3 ocn
	n srv probe seen >/dev/null
	shape_down "$shape" ce1 mape1
	shape_down "$shape" ce3 ocn
done

md_run

# apply ISP NS IFACE FIXTURE: latency and peak RSS of 20 "up" and 20
# "down" (medians, maxima), and the nft objects up leaves (tables, chains,
# rules, sets/maps) for the CE.
apply() {
	: >/tmp/up.u
	: >/tmp/down.u
	_i=0
	while [ "$_i" -lt "${VMTEST_applyn:-20}" ]; do
		# shellcheck disable=SC2046 # ce_dirs prints separate flags
		_pfx="--prefix=$(fx "$4" PREFIX)"
		[ -z "$(fx "$4" LINKADDR)" ] || _pfx=""
		# shellcheck disable=SC2046
		n "$2" rusage mapehelper up --interface "$3" --link wan ${_pfx:+"$_pfx"} $(ce_dirs "$2") 2>&1 >/dev/null | sed -n 's/^RUSAGE //p' >>/tmp/up.u
		[ "$_i" -gt 0 ] || _objs="$(ours "$2" | grep -cE '^[[:space:]]*(table|chain|set|map) |^[[:space:]]+[a-z@].*(snat|masquerade|jump|goto|accept|drop|counter|numgen|maxseg|ct |meta |oifname|iifname)')"
		# shellcheck disable=SC2046
		n "$2" rusage mapehelper down --interface "$3" $(ce_dirs "$2") 2>&1 >/dev/null | sed -n 's/^RUSAGE //p' >>/tmp/down.u
		_i=$((_i + 1))
	done
	for _w in up down; do
		_med=$(($(rusage_median_us /tmp/$_w.u) / 1000))
		_rss="$(tr -d '{}"' </tmp/$_w.u | awk -F'[:,]' '{if ($4 > m) m = $4} END {print m + 0}')"
		_bad="$(tr -d '{}"' </tmp/$_w.u | awk -F'[:,]' '$6 != 0' | wc -l)"
		bench ours "$1" "apply-$_w" "runs=$(wc -l </tmp/$_w.u)" "failed=$_bad" "median_ms=$_med" "peak_rss_kib=$_rss"
	done
	bench ours "$1" nft-objects "objects=${_objs:-0}"
}

if [ "${VMTEST_apply:-1}" = 1 ]; then
	step apply
	apply v6plus ce1 mape1 CE1
	apply ocn ce3 ocn CE3
fi

if [ "$CI" = 1 ]; then
	# shellcheck disable=SC2154 # set by eval above
	verdict "ours >= perport at 90% occupancy (3 s)" "$([ "${OCC90_ours:-0}" -ge "${OCC90_perport:-0}" ] && [ "${OCC90D_ours:-1}" = 0 ] && echo 1)" \
		"ours ${OCC90_ours:-?}/$OCC_NEW (br_drops=${OCC90D_ours:-?}), perport ${OCC90_perport:-?}/$OCC_NEW"
	# The per-set counts (firewall4) give every new flow a free port: issue 6's goal.
	verdict "ours >= 99% at 90% occupancy (3 s)" "$([ $((${OCC90_ours:-0} * 100)) -ge $((OCC_NEW * 99)) ] && echo 1)" "ours ${OCC90_ours:-?}/$OCC_NEW"
else
	verdict "bench finished" 1 "$(($(date +%s) - START)) s"
fi
kill "$SINK" 2>/dev/null
step finished
echo "VMTEST SUMMARY pass=$PASSES fail=$FAILS elapsed=$(($(date +%s) - START))s"
[ "$FAILS" = 0 ]
