package firewall4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/mapehelper/mapehelper/dataplane/nstest"
	"github.com/mapehelper/mapehelper/mapcalc"
)

// trafficPair builds router R and server S joined by a veth whose R end is
// named like the tunnel (map-wan_mape), so our rules match it without an
// ip6tnl device: R has the shared address 14.8.52.86/32, S is 198.51.100.1.
// The rules are loaded in R: the per-set counts, or the virtual range
// (Config.VirtualRange).
func trafficPair(t *testing.T, sets []mapcalc.PortRange, virtual bool) (r, s *nstest.NS) {
	t.Helper()
	nstest.Require(t, "ip", "nft")
	r, s = nstest.New(t), nstest.New(t)
	r.Run(t, "ip", "link", "add", "map-wan_mape", "type", "veth", "peer", "name", "srv0", "netns", s.Name)
	r.Run(t, "ip", "addr", "add", "14.8.52.86/32", "dev", "map-wan_mape")
	r.Run(t, "ip", "link", "set", "map-wan_mape", "up")
	r.Run(t, "ip", "link", "set", "lo", "up")
	r.Run(t, "ip", "route", "add", "198.51.100.0/24", "dev", "map-wan_mape", "src", "14.8.52.86")
	s.Run(t, "ip", "addr", "add", "198.51.100.1/24", "dev", "srv0")
	s.Run(t, "ip", "link", "set", "srv0", "up")
	s.Run(t, "ip", "link", "set", "lo", "up")
	s.Run(t, "ip", "route", "add", "14.8.52.86/32", "dev", "srv0")
	// fw4's zone masquerade at priority srcnat: ours (srcnat - 1) must win,
	// or ports would fall outside the sets.
	r.Run(t, "nft", `add table inet fw4; add chain inet fw4 srcnat { type nat hook postrouting priority srcnat; }; add rule inet fw4 srcnat oifname "map-wan_mape" masquerade`)
	cfg := seedConfig()
	cfg.PortSets = sets
	cfg.VirtualRange = virtual
	rs, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(nftables.WithNetNSFd(int(r.Handle)))
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(c, rs); err != nil {
		t.Fatal(err)
	}
	return r, s
}

// checkPorts asserts that ports are distinct, all inside sets, and spread
// evenly: every set used exactly perSet times (at most that many when
// perSet is negative: -perSet).
func checkPorts(t *testing.T, what string, ports []uint16, sets []mapcalc.PortRange, perSet int) {
	t.Helper()
	seen := map[uint16]bool{}
	use := make([]int, len(sets))
	for _, p := range ports {
		if seen[p] {
			t.Errorf("%s: port %d used twice", what, p)
		}
		seen[p] = true
		in := -1
		for i, s := range sets {
			if s.Contains(p) {
				in = i
			}
		}
		if in < 0 {
			t.Errorf("%s: port %d is outside every port set", what, p)
			continue
		}
		use[in]++
	}
	for i, n := range use {
		if perSet < 0 && n <= -perSet {
			continue
		}
		if n != perSet {
			t.Errorf("%s: set %v used %d times, want %d", what, sets[i], n, perSet)
		}
	}
}

// TestTrafficUsesEveryPort opens as many TCP connections to one server
// port as the port sets hold (240 for the v6plus seed): every one must
// succeed with a distinct source port inside the sets, 16 per set, and one
// more must fail (no port left). UDP flows and ICMP echo identifiers are
// mapped into the sets the same way. The same holds for the virtual range.
func TestTrafficUsesEveryPort(t *testing.T) {
	for name, sets := range map[string][]mapcalc.PortRange{"v6plus": seedSets(), "ocn": ocnSets()} {
		t.Run(name, func(t *testing.T) { trafficUsesEveryPort(t, sets, false) })
		t.Run(name+"-virtual", func(t *testing.T) { trafficUsesEveryPort(t, sets, true) })
	}
}

func trafficUsesEveryPort(t *testing.T, sets []mapcalc.PortRange, virtual bool) {
	total := 0
	for _, s := range sets {
		total += s.Len()
	}
	r, s := trafficPair(t, sets, virtual)

	// Servers in S.
	var ln net.Listener
	var udp net.PacketConn
	var icmp net.PacketConn
	var lerr error
	s.Do(t, func() {
		if ln, lerr = net.Listen("tcp4", "198.51.100.1:8080"); lerr != nil {
			return
		}
		if udp, lerr = net.ListenPacket("udp4", "198.51.100.1:5353"); lerr != nil {
			return
		}
		if lerr = udp.(*net.UDPConn).SetReadBuffer(4 << 20); lerr != nil {
			return
		}
		icmp, lerr = net.ListenPacket("ip4:icmp", "198.51.100.1")
	})
	if lerr != nil {
		t.Fatal(lerr)
	}
	defer ln.Close()
	defer udp.Close()
	defer icmp.Close()
	var mu sync.Mutex
	var tcpPorts []uint16
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			tcpPorts = append(tcpPorts, uint16(c.RemoteAddr().(*net.TCPAddr).Port))
			mu.Unlock()
			t.Cleanup(func() { c.Close() })
		}
	}()

	// TCP from R: `total` connections kept open, then one too many. The
	// virtual range may miss the last few: the kernel probes at most 240
	// ports of a range per attempt (nf_nat_l4proto_unique_tuple), so a
	// SYN, retransmitted twice in 3 s, can miss the last free ones; it
	// must get all but 2 %.
	need, perSet := total, 16
	if virtual {
		need, perSet = total-total/50, -16
	}
	var conns []net.Conn
	var derr error
	var extraErr error
	r.Do(t, func() {
		d := net.Dialer{Timeout: 3 * time.Second}
		for i := 0; i < total; i++ {
			c, err := d.Dial("tcp4", "198.51.100.1:8080")
			if err != nil && (!virtual || i+1-len(conns) > total-need) {
				derr = fmt.Errorf("connection %d of %d (%d failed): %w", i+1, total, i+1-len(conns), err)
				return
			}
			if err == nil {
				conns = append(conns, c)
			}
		}
		d.Timeout = time.Second
		var c net.Conn
		if c, extraErr = d.Dial("tcp4", "198.51.100.1:8080"); extraErr == nil {
			c.Close()
		}
	})
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if derr != nil {
		t.Fatal(derr)
	}
	if extraErr == nil && len(conns) == total {
		t.Errorf("connection %d succeeded although every port to that destination is in use", total+1)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		n := len(tcpPorts)
		mu.Unlock()
		if n >= len(conns) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	checkPorts(t, "tcp", tcpPorts, sets, perSet)
	// A dial given up by the client may still reach the server later (a
	// retransmitted SYN that found a port after all).
	if len(tcpPorts) != len(conns) && !(virtual && len(tcpPorts) > len(conns)) {
		t.Errorf("tcp: the server saw %d connections, %d were made", len(tcpPorts), len(conns))
	}
	mu.Unlock()
	t.Logf("tcp: %d of %d connections to one destination succeeded, %d distinct ports", len(conns), total, len(tcpPorts))
	if len(conns) < need {
		t.Errorf("tcp: %d of %d connections, want at least %d", len(conns), total, need)
	}

	// UDP: one datagram from each of `total` sockets (read while sending,
	// or the server's socket buffer overflows).
	udpGot := collect(udp, total, func(b []byte, a net.Addr) (uint16, bool) {
		return uint16(a.(*net.UDPAddr).Port), true
	})
	// The virtual range: a datagram whose NAT finds no port is dropped
	// (EPERM to the sender, as the same miss above). Like the SYN above
	// (sent three times in 3 s) it is sent up to three times, each a new
	// NAT attempt from a new random offset; a flow counts as missed only
	// when all three fail, and 2 % may.
	var uerr error
	sent, firstMiss := 0, 0
	missed := func(err error) bool { return virtual && errors.Is(err, syscall.EPERM) }
	r.Do(t, func() {
		for i := 0; i < total && uerr == nil; i++ {
			var c net.Conn
			if c, uerr = net.Dial("udp4", "198.51.100.1:5353"); uerr != nil {
				break
			}
			t.Cleanup(func() { c.Close() })
			for try := 0; try < 3; try++ {
				_, uerr = c.Write([]byte("x"))
				if !missed(uerr) {
					break
				}
				if try == 0 {
					firstMiss++
				}
			}
			if missed(uerr) && i+1-sent <= total-need {
				uerr = nil
				continue
			}
			if uerr == nil {
				sent++
			}
		}
	})
	if uerr != nil {
		t.Fatalf("udp flow %d of %d: %v", sent+1, total, uerr)
	}
	udpPorts := wait(t, udpGot, sent)
	checkPorts(t, "udp", udpPorts, sets, perSet)

	// ICMP: echo requests with identifiers 1…n (each its own flow), 2 per set.
	n := 2 * len(sets)
	icmpGot := collect(icmp, n, func(b []byte, _ net.Addr) (uint16, bool) {
		if len(b) < 8 || b[0] != 8 { // echo requests only
			return 0, false
		}
		return binary.BigEndian.Uint16(b[4:6]), true
	})
	var ierr error
	r.Do(t, func() {
		var c net.PacketConn
		if c, ierr = net.ListenPacket("ip4:icmp", "0.0.0.0"); ierr != nil {
			return
		}
		defer c.Close()
		for id := 1; id <= n && ierr == nil; id++ {
			_, ierr = c.WriteTo(echo(uint16(id)), &net.IPAddr{IP: net.ParseIP("198.51.100.1")})
		}
	})
	if ierr != nil {
		t.Fatal(ierr)
	}
	ids := wait(t, icmpGot, n)
	checkPorts(t, "icmp id", ids, sets, 2)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	t.Logf("udp: %d of %d flows (first datagram missed %d times), %d distinct ports in the sets; icmp: %d echo ids, all in the sets", sent, total, firstMiss, len(udpPorts), len(ids))
}

type collected struct {
	vals []uint16
	err  error
}

// collect reads from c in the background until want values were
// extracted or 5 s pass.
func collect(c net.PacketConn, want int, get func([]byte, net.Addr) (uint16, bool)) <-chan collected {
	ch := make(chan collected, 1)
	go func() {
		var out []uint16
		buf := make([]byte, 1500)
		err := c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for err == nil && len(out) < want {
			var n int
			var a net.Addr
			if n, a, err = c.ReadFrom(buf); err == nil {
				if v, ok := get(buf[:n], a); ok {
					out = append(out, v)
				}
			}
		}
		ch <- collected{out, err}
	}()
	return ch
}

// wait returns what collect got; fewer than collect was asked for is
// fine when want of them arrived before its deadline.
func wait(t *testing.T, ch <-chan collected, want int) []uint16 {
	t.Helper()
	c := <-ch
	if c.err != nil && len(c.vals) < want {
		t.Fatalf("received %d of %d: %v", len(c.vals), want, c.err)
	}
	return c.vals
}

// echo is an ICMP echo request with identifier id.
func echo(id uint16) []byte {
	b := []byte{8, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'm', 'a', 'p', 'e'}
	var sum uint32
	for i := 0; i < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[2:], ^uint16(sum))
	return b
}

// TestTrafficHighOccupancy is issue 6's occupancy test in the kernel:
// every port of the v6plus sets is taken towards one destination, a random
// tenth of those connections is reset, and as many new ones must all
// connect on their first SYN (timeout below the 1 s retransmission), each
// on one of the freed ports. Without the per-set counts, numgen sends about
// one in ten new connections to a set with no port free and its SYN is
// dropped.
func TestTrafficHighOccupancy(t *testing.T) {
	t.Run("counts", func(t *testing.T) { trafficHighOccupancy(t, false) })
	t.Run("virtual", func(t *testing.T) { trafficHighOccupancy(t, true) })
}

func trafficHighOccupancy(t *testing.T, virtual bool) {
	sets := seedSets()
	total := 0
	for _, s := range sets {
		total += s.Len()
	}
	r, s := trafficPair(t, sets, virtual)
	// Reset flows must leave conntrack (and free their port) within the
	// test: 1 s instead of 10.
	r.Run(t, "sh", "-c", "echo 1 >/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close")

	var ln net.Listener
	var lerr error
	s.Do(t, func() { ln, lerr = net.Listen("tcp4", "198.51.100.1:8081") })
	if lerr != nil {
		t.Fatal(lerr)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()

	// dial opens n connections from R, each allowed timeout; up to miss
	// of them may fail.
	dial := func(n, miss int, timeout time.Duration) ([]*net.TCPConn, error) {
		var conns []*net.TCPConn
		var err error
		r.Do(t, func() {
			d := net.Dialer{Timeout: timeout}
			for i := 0; i < n; i++ {
				var c net.Conn
				if c, err = d.Dial("tcp4", "198.51.100.1:8081"); err != nil {
					if i+1-len(conns) <= miss {
						continue
					}
					err = fmt.Errorf("connection %d of %d: %w", i+1, n, err)
					return
				}
				conns = append(conns, c.(*net.TCPConn))
			}
			err = nil
		})
		return conns, err
	}
	// The virtual range may miss a few of the last free ports when it
	// fills the pool (see trafficUsesEveryPort): the pool is what it got.
	miss := 0
	if virtual {
		miss = total / 50
	}
	held, err := dial(total, miss, 3*time.Second)
	total = len(held)
	defer func() {
		for _, c := range held {
			if c != nil {
				c.Close()
			}
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	churn := total / 10
	for _, i := range rand.Perm(total)[:churn] {
		_ = held[i].SetLinger(0) // RST
		held[i].Close()
		held[i] = nil
	}
	time.Sleep(2500 * time.Millisecond)
	// The virtual range: within 3 s (issue 14's goal): the kernel's NAT
	// probes a random part of the 240 ports, and a SYN that missed the
	// free ones finds them on a retransmission. Two of the 24 may still
	// miss (in about 1 of 100 runs here 1 to 3 did, never in the
	// forwarded traffic of bench-vrange); the rate over rounds is what
	// bench-vrange measures, this test guards the mechanism.
	timeout, what, late := 900*time.Millisecond, "on the first SYN", 0
	if virtual {
		timeout, what, late = 3*time.Second, "within 3 s", churn/12
	}
	again, err := dial(churn, late, timeout)
	t.Logf("%d of %d new connections at 90 %% occupancy made it %s", len(again), churn, what)
	for _, c := range again {
		c.Close()
	}
	if err != nil {
		t.Fatalf("%d of %d new connections at 90 %% occupancy made it %s: %v", len(again), churn, what, err)
	}
}

// TestTrafficGuard: a packet that leaves the tunnel without our SNAT (here
// one conntrack does not track, as it does not track a LAN host's stray
// RST) is dropped by the guard instead of carrying its private source to
// the ISP; a tracked packet from the same source leaves translated. The
// control run without the guard chain shows the stray packet would leave.
func TestTrafficGuard(t *testing.T) {
	r, s := trafficPair(t, seedSets(), false)
	r.Run(t, "ip", "addr", "add", "192.168.1.1/32", "dev", "lo")
	r.Run(t, "nft", `add table ip rawtest; add chain ip rawtest out { type filter hook output priority raw; }; add rule ip rawtest out udp dport 5400 notrack`)
	var srv *net.UDPConn
	var err error
	s.Do(t, func() { srv, err = net.ListenUDP("udp4", &net.UDPAddr{Port: 0}) })
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// The notrack rule matches destination port 5400 only: listen there too.
	var stray *net.UDPConn
	s.Do(t, func() { stray, err = net.ListenUDP("udp4", &net.UDPAddr{Port: 5400}) })
	if err != nil {
		t.Fatal(err)
	}
	defer stray.Close()
	// send writes one datagram from 192.168.1.1; a drop on the router's
	// own output path shows as EPERM, which only the stray send may get.
	send := func(port int, mayDrop bool) {
		t.Helper()
		r.Do(t, func() {
			c, derr := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(192, 168, 1, 1)}, &net.UDPAddr{IP: net.IPv4(198, 51, 100, 1), Port: port})
			if derr != nil {
				err = derr
				return
			}
			defer c.Close()
			_, err = c.Write([]byte("x"))
		})
		if err != nil && !(mayDrop && errors.Is(err, syscall.EPERM)) {
			t.Fatal(err)
		}
	}
	recv := func(c *net.UDPConn) *net.UDPAddr {
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, from, rerr := c.ReadFromUDP(make([]byte, 16))
		if rerr != nil {
			return nil
		}
		return from
	}

	send(srv.LocalAddr().(*net.UDPAddr).Port, false)
	from := recv(srv)
	if from == nil || !from.IP.Equal(net.IPv4(14, 8, 52, 86)) || !inSets(uint16(from.Port)) {
		t.Fatalf("tracked datagram arrived from %v, want 14.8.52.86 with a port in the sets", from)
	}
	send(5400, true)
	if from := recv(stray); from != nil {
		t.Fatalf("untracked datagram left the tunnel from %v; the guard should drop it", from)
	}
	r.Run(t, "nft", "delete chain ip mapehelper_wan_mape guard")
	send(5400, false)
	if from := recv(stray); from == nil || !from.IP.Equal(net.IPv4(192, 168, 1, 1)) {
		t.Fatalf("control without the guard: untracked datagram arrived from %v, want 192.168.1.1 (else this test proves nothing)", from)
	}
}

// inSets reports whether port lies in one of the seed's port sets.
func inSets(port uint16) bool {
	for _, s := range seedSets() {
		if s.Contains(port) {
			return true
		}
	}
	return false
}

// lanHost adds a LAN host L (192.168.1.2) behind router R of trafficPair
// (192.168.1.1, forwarding): what R sends itself has R's shared address
// as its source, which the kernel's NAT treats differently from a LAN
// host's (it keeps an in-range source unless taken, and never looks up
// the source's other mappings).
func lanHost(t *testing.T, r *nstest.NS) *nstest.NS {
	t.Helper()
	l := nstest.New(t)
	r.Run(t, "ip", "link", "add", "lan0", "type", "veth", "peer", "name", "l0", "netns", l.Name)
	r.Run(t, "ip", "addr", "add", "192.168.1.1/24", "dev", "lan0")
	r.Run(t, "ip", "link", "set", "lan0", "up")
	r.Run(t, "sh", "-c", "echo 1 >/proc/sys/net/ipv4/ip_forward")
	l.Run(t, "ip", "addr", "add", "192.168.1.2/24", "dev", "l0")
	l.Run(t, "ip", "link", "set", "l0", "up")
	l.Run(t, "ip", "link", "set", "lo", "up")
	l.Run(t, "ip", "route", "add", "default", "via", "192.168.1.1")
	return l
}

// TestTrafficEndpointIndependentMapping is RFC 4787's mapping test (issue
// 13) in the kernel: UDP sockets of a LAN host each send to three server
// ports, and every socket must be seen with one external port by all three
// (REQ-1, endpoint-independent mapping); a socket bound to a port inside
// the sets must be seen with that very port (port preservation; those
// send first, so no other socket can have taken their port). With numgen
// picking the set per connection, almost every socket gets three ports.
// The virtual range keeps the mapping but not the port (a real port is
// outside the virtual range, so the kernel does not keep it).
func TestTrafficEndpointIndependentMapping(t *testing.T) {
	for name, sets := range map[string][]mapcalc.PortRange{"v6plus": seedSets(), "ocn": ocnSets()} {
		t.Run(name, func(t *testing.T) { trafficEndpointIndependentMapping(t, sets, false) })
		t.Run(name+"-virtual", func(t *testing.T) { trafficEndpointIndependentMapping(t, sets, true) })
	}
}

func trafficEndpointIndependentMapping(t *testing.T, sets []mapcalc.PortRange, virtual bool) {
	const preserved, random = 8, 40 // sockets on in-set ports, on ephemeral ports
	dports := []int{7001, 7002, 7003}
	r, s := trafficPair(t, sets, virtual)
	l := lanHost(t, r)

	// The servers record, per socket (its index is the payload), the
	// source port they saw.
	type seen struct{ sock, port int }
	ch := make(chan seen, 3*(random+preserved))
	var lerr error
	for _, dp := range dports {
		var pc net.PacketConn
		s.Do(t, func() { pc, lerr = net.ListenPacket("udp4", fmt.Sprintf("198.51.100.1:%d", dp)) })
		if lerr != nil {
			t.Fatal(lerr)
		}
		defer pc.Close()
		go func() {
			buf := make([]byte, 64)
			for {
				n, a, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				var i int
				if _, err := fmt.Sscan(string(buf[:n]), &i); err == nil {
					ch <- seen{i, a.(*net.UDPAddr).Port}
				}
			}
		}()
	}

	// Socket i < preserved is bound to the third port of the i-th set
	// from the end (not set i, which numgen's round robin would pick for
	// the i-th connection anyway), the others take an ephemeral port.
	inSet := func(i int) int { return int(sets[len(sets)-1-i].Lo) + 2 }
	var serr error
	l.Do(t, func() {
		for i := 0; i < preserved+random && serr == nil; i++ {
			var laddr *net.UDPAddr
			if i < preserved {
				laddr = &net.UDPAddr{Port: inSet(i)}
			}
			var c *net.UDPConn
			if c, serr = net.ListenUDP("udp4", laddr); serr != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			for _, dp := range dports {
				if _, serr = c.WriteToUDP([]byte(fmt.Sprint(i)), &net.UDPAddr{IP: net.ParseIP("198.51.100.1"), Port: dp}); serr != nil {
					return
				}
			}
		}
	})
	if serr != nil {
		t.Fatal(serr)
	}
	ports := make(map[int]map[int]bool) // socket -> external ports seen
	timeout := time.After(5 * time.Second)
	for got := 0; got < 3*(random+preserved); got++ {
		select {
		case o := <-ch:
			if ports[o.sock] == nil {
				ports[o.sock] = map[int]bool{}
			}
			ports[o.sock][o.port] = true
		case <-timeout:
			t.Fatalf("the servers received %d of %d datagrams", got, 3*(random+preserved))
		}
	}
	kept := 0
	for i := 0; i < preserved+random; i++ {
		if len(ports[i]) == 1 {
			kept++
		} else {
			t.Errorf("socket %d was seen with %d external ports towards %d destinations: %v", i, len(ports[i]), len(dports), ports[i])
		}
		if i < preserved && !virtual && (len(ports[i]) != 1 || !ports[i][inSet(i)]) {
			t.Errorf("socket %d bound to in-set port %d was seen with %v", i, inSet(i), ports[i])
		}
	}
	t.Logf("%d of %d sockets kept one external port towards %d destinations (%d of them their own in-set port)", kept, random+preserved, len(dports), preserved)
}

// TestTrafficVirtualInbound: with the virtual range, connections that
// start outside still reach a port forward (fw4's `dnat` on the real port)
// and a service on the router, and their replies leave from the real port
// they came to, for TCP and UDP. The control deletes the chains that give
// a new inbound connection its real port back: the forward is then missed.
func TestTrafficVirtualInbound(t *testing.T) {
	sets := seedSets()
	fwd, local := int(sets[2].Lo)+1, int(sets[4].Lo)+3
	for _, control := range []bool{false, true} {
		t.Run(map[bool]string{false: "virtual", true: "control"}[control], func(t *testing.T) {
			r, s := trafficPair(t, sets, true)
			l := lanHost(t, r)
			r.Run(t, "nft", fmt.Sprintf(`add chain inet fw4 dstnat { type nat hook prerouting priority dstnat; }
add rule inet fw4 dstnat iifname "map-wan_mape" meta nfproto ipv4 tcp dport %d dnat ip to 192.168.1.2:%d
add rule inet fw4 dstnat iifname "map-wan_mape" meta nfproto ipv4 udp dport %d dnat ip to 192.168.1.2:%d`, fwd, fwd, fwd, fwd))
			if control {
				r.Run(t, "nft", "delete chain ip mapehelper_wan_mape "+ChainUnsolicited+"; delete chain ip mapehelper_wan_mape "+ChainLocal)
			}
			// Each server answers with the address it saw and closes.
			serve := func(ns *nstest.NS, addr string) {
				var ln net.Listener
				var pc net.PacketConn
				var err error
				ns.Do(t, func() {
					if ln, err = net.Listen("tcp4", addr); err == nil {
						pc, err = net.ListenPacket("udp4", addr)
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close(); pc.Close() })
				answerTCP(ln, net.Conn.RemoteAddr)
				go func() {
					b := make([]byte, 64)
					for {
						_, a, err := pc.ReadFrom(b)
						if err != nil {
							return
						}
						_, _ = pc.WriteTo([]byte(a.String()), a)
					}
				}()
			}
			serve(l, fmt.Sprintf("192.168.1.2:%d", fwd))
			serve(r, fmt.Sprintf("14.8.52.86:%d", local))

			var got []string
			s.Do(t, func() {
				for _, c := range []struct {
					network string
					port    int
				}{{"tcp4", fwd}, {"udp4", fwd}, {"tcp4", local}, {"udp4", local}} {
					got = append(got, exchange(c.network, fmt.Sprintf("14.8.52.86:%d", c.port)))
				}
			})
			t.Logf("forward tcp, udp; router tcp, udp: %q", got)
			for i, g := range got {
				ok := strings.HasPrefix(g, "198.51.100.1:")
				if control && i < 2 && ok {
					t.Errorf("control: exchange %d worked without the unsolicited chain: %q", i, g)
				}
				if !control && !ok {
					t.Errorf("exchange %d (forward tcp, udp; router tcp, udp): %q", i, g)
				}
			}
		})
	}
}

// answerTCP answers every connection ln accepts with the address end picks
// (the peer's or its own) and closes it, until ln is closed.
func answerTCP(ln net.Listener, end func(net.Conn) net.Addr) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%v", end(c))
			c.Close()
		}
	}()
}

// exchange connects to addr (TCP) or sends one datagram from a connected
// UDP socket, so only an answer from addr itself counts, and returns the
// answer or the error.
func exchange(network, addr string) string {
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		return "error: " + err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if network == "udp4" {
		if _, err := c.Write([]byte("x")); err != nil {
			return "error: " + err.Error()
		}
	}
	b := make([]byte, 64)
	n, err := c.Read(b)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b[:n])
}

// TestTrafficRangeForward measures option vrange's limit with a forward of
// a port range: a DNAT that names an address and no port (the form of a
// redirect without a destination port) keeps the port conntrack tracks,
// and with vrange conntrack tracks the virtual port (our inbound chain
// rewrites before conntrack; the unsolicited chain gives the packet its
// real port back, not the tuple). So the LAN host is reached on the
// virtual port, where nothing listens for a range forward. The default
// rules (no inbound rewrite) deliver the real port: the control.
func TestTrafficRangeForward(t *testing.T) {
	sets := seedSets()
	rng := sets[3]
	real := int(rng.Lo) + 5
	virt := 0
	for v := 1; v <= int(mapcalc.VirtualRange(sets).Hi); v++ {
		if p, ok := mapcalc.RealPort(sets, uint16(v)); ok && int(p) == real {
			virt = v
			break
		}
	}
	if virt == 0 {
		t.Fatalf("no virtual port for %d", real)
	}
	for _, virtual := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "virtual"}[virtual], func(t *testing.T) {
			r, s := trafficPair(t, sets, virtual)
			l := lanHost(t, r)
			r.Run(t, "nft", fmt.Sprintf(`add chain inet fw4 dstnat { type nat hook prerouting priority dstnat; }
add rule inet fw4 dstnat iifname "map-wan_mape" meta nfproto ipv4 tcp dport %d-%d dnat ip to 192.168.1.2`, rng.Lo, rng.Hi))
			// The LAN host listens on the real and on the virtual port and
			// answers with the address it was reached on.
			for _, p := range []int{real, virt} {
				var ln net.Listener
				var err error
				l.Do(t, func() { ln, err = net.Listen("tcp4", fmt.Sprintf("192.168.1.2:%d", p)) })
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				answerTCP(ln, net.Conn.LocalAddr)
			}
			var got string
			s.Do(t, func() { got = exchange("tcp4", fmt.Sprintf("14.8.52.86:%d", real)) })
			want := real
			if virtual {
				want = virt
			}
			t.Logf("forward of %d-%d, connection to %d (virtual %d): LAN host reached on %q", rng.Lo, rng.Hi, real, virt, got)
			if got != fmt.Sprintf("192.168.1.2:%d", want) {
				t.Errorf("LAN host reached on %q, want 192.168.1.2:%d", got, want)
			}
		})
	}
}
