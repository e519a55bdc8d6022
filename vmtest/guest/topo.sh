# shellcheck shell=sh
# The test network, one namespace per box:
#
#   h1 ─ ce1 ─┐                      ┌─ srv (203.0.113.10, the IPv4 Internet)
#   h2 ─ ce2 ─┼─ isp (IPv6 router) ─ br
#   h3 ─ ce3 ─┘
#
# hN are LAN hosts (192.168.1.2 behind 192.168.1.1 on every CE), ceN the
# MAP-E CEs (their WAN device is "wan", reached from the ISP over
# link-local fe80::1 <-> fe80::2), isp routes each delegated prefix to its
# CE, br is the border relay (both the v6 plus and the OCN BR address).

# sysctl_ns NS KEY VALUE: set a per-namespace sysctl.
sysctl_ns() {
	n "$1" sh -c "echo $3 >/proc/sys/$(echo "$2" | tr . /)"
}

# Every process started costs about 0.2 s under TCG, so the network is
# built with one ip -batch per namespace rather than one ip per command.
NAMESPACES="isp br srv ce1 ce2 ce3 h1 h2 h3"

# nsbatch NS: run ip commands from stdin in NS ("-" for the root namespace).
nsbatch() {
	if [ "$1" = - ]; then
		"$IP" -batch -
	else
		"$IP" -n "$1" -batch -
	fi
}

topo_setup() {
	for ns in $NAMESPACES; do echo "netns add $ns"; done | nsbatch -
	for ns in $NAMESPACES; do
		# Only the CEs do duplicate address detection: mapehelper must
		# cope with it as on a real router.
		_w=""
		case "$ns" in
		ce*) _w="echo 1 >/proc/sys/net/ipv4/ip_forward" ;;
		br) _w="echo 1 >/proc/sys/net/ipv4/ip_forward; echo 1 >/proc/sys/net/ipv6/conf/all/forwarding" ;;
		isp) _w="echo 1 >/proc/sys/net/ipv6/conf/all/forwarding" ;;
		esac
		case "$ns" in
		ce*) ;;
		*) _w="$_w${_w:+; }echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad" ;;
		esac
		n "$ns" sh -c "$_w"
	done

	# The links (each end created in its namespace, after the sysctls).
	{
		echo "link add tobr netns isp type veth peer name toisp netns br"
		echo "link add tosrv netns br type veth peer name eth0 netns srv"
		for i in 1 2 3; do
			echo "link add toce$i netns isp type veth peer name wan netns ce$i"
			echo "link add lan netns ce$i type veth peer name eth0 netns h$i"
		done
	} | nsbatch -

	# ISP <-> BR (the BR answers for both BR addresses) and ISP <-> CEs,
	# with the prefixes each CE is delegated (ce1 also the one it moves to).
	{
		echo "link set lo up"
		echo "addr add 2404:9200:225:100::1/64 dev tobr"
		echo "addr add 2001:380:a120::1/64 dev tobr"
		echo "link set tobr up"
		for i in 1 2 3; do
			echo "addr add fe80::1/64 dev toce$i"
			echo "link set toce$i up"
		done
		echo "route add $CE1_PREFIX via fe80::2 dev toce1"
		echo "route add $CE1B_PREFIX via fe80::2 dev toce1"
		echo "route add $CE1C_PREFIX via fe80::2 dev toce1"
		echo "route add $CE2_PREFIX via fe80::2 dev toce2"
		echo "route add $CE3_PREFIX via fe80::2 dev toce3"
	} | nsbatch isp
	nsbatch br <<-EOT
		link set lo up
		addr add $V6PLUS_BR/64 dev toisp
		addr add $OCN_BR/64 dev toisp
		link set toisp up
		route add ::/0 via 2404:9200:225:100::1 dev toisp
		addr add 203.0.113.1/24 dev tosrv
		link set tosrv up
	EOT
	nsbatch srv <<-EOT
		link set lo up
		addr add $SERVER/24 dev eth0
		link set eth0 up
		route add default via 203.0.113.1
	EOT
	for i in 1 2 3; do
		{
			echo "link set lo up"
			echo "addr add fe80::2/64 dev wan nodad"
			echo "link set wan up"
			echo "route add ::/0 via fe80::1 dev wan"
			echo "addr add 192.168.1.1/24 dev lan"
			echo "link set lan up"
			[ "$i" != 3 ] || echo "addr add $CE3_LINKADDR dev wan nodad"
		} | nsbatch "ce$i"
		nsbatch "h$i" <<-EOT
			link set lo up
			addr add 192.168.1.2/24 dev eth0
			link set eth0 up
			route add default via 192.168.1.1
		EOT
	done
}
