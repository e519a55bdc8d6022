//go:build linux

package status

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/dataplane/nstest"
	"github.com/mapehelper/mapehelper/state"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// inNS runs f on a thread switched into ns, so netlink sockets f opens
// belong to the namespace.
func inNS(t *testing.T, ns *nstest.NS, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	if err := netns.Set(ns.Handle); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			t.Fatalf("back to the original namespace: %v", err)
		}
	}()
	f()
}

// TestKernelProbes checks the netlink readers against real kernel objects
// in a fresh namespace: a link standing in for the tunnel, an nft table
// with our chains, and conntrack entries of the shared IPv4.
func TestKernelProbes(t *testing.T) {
	nstest.Require(t, "ip", "nft")
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "map-wan_mape", "type", "veth", "peer", "name", "mhpeer")
	rules := filepath.Join(t.TempDir(), "rules.nft")
	if err := os.WriteFile(rules, []byte(`table ip mh_wan_mape {
	chain set_0 {
		meta l4proto { tcp, udp } snat ip to 14.8.52.86:6016-6031
	}
	chain set_1 {
	}
	chain postrouting_snat {
		type nat hook postrouting priority srcnat - 1; policy accept;
		oifname "map-wan_mape" numgen inc mod 2 vmap { 0 : jump set_0, 1 : jump set_1 }
	}
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ns.Run(t, "nft", "-f", rules)

	st := state.Record{Tunnel: "map-wan_mape", NFTTable: "ip mh_wan_mape", NFTChains: []string{"set_0", "postrouting_snat"}}
	ip := netip.MustParseAddr("14.8.52.86")
	inNS(t, ns, func() {
		p := NetlinkProbe{}
		if up, err := p.TunnelUp("map-wan_mape"); err != nil || up {
			t.Errorf("down link: up=%v err=%v", up, err)
		}
		l, err := netlink.LinkByName("map-wan_mape")
		if err != nil {
			t.Fatal(err)
		}
		if err := netlink.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
		if up, err := p.TunnelUp("map-wan_mape"); err != nil || !up {
			t.Errorf("up link: up=%v err=%v", up, err)
		}
		if up, err := p.TunnelUp("map-absent"); err != nil || up {
			t.Errorf("absent link: up=%v err=%v", up, err)
		}

		if ok, err := p.RulesPresent(st); err != nil || !ok {
			t.Errorf("rules present: %v %v", ok, err)
		}
		empty := st
		empty.NFTChains = []string{"set_0", "set_1"}
		if ok, err := p.RulesPresent(empty); err != nil || ok {
			t.Errorf("empty chain set_1 counted as present: %v %v", ok, err)
		}
		gone := st
		gone.NFTTable = "ip mh_other"
		if ok, err := p.RulesPresent(gone); err != nil || ok {
			t.Errorf("missing table: %v %v", ok, err)
		}

		// Two TCP flows sharing NAT port 6020, one UDP flow on 10112, one
		// flow of another address.
		for i, f := range []struct {
			proto        uint8
			dst          string
			dport, rport uint16
		}{
			{unix.IPPROTO_TCP, "14.8.52.86", 443, 6020},
			{unix.IPPROTO_TCP, "14.8.52.86", 80, 6020},
			{unix.IPPROTO_UDP, "14.8.52.86", 53, 10112},
			{unix.IPPROTO_UDP, "192.0.2.9", 53, 6021},
		} {
			remote := net.ParseIP("198.51.100.1").To4()
			remote[3] += byte(i)
			createEntry(t, tuple(f.proto, "192.168.1.10", 40000+uint16(i), remote.String(), f.dport),
				tuple(f.proto, remote.String(), f.dport, f.dst, f.rport))
		}
		flows, err := NetlinkFlows{}.Flows()
		if err != nil {
			t.Fatal(err)
		}
		u := CountUsage(flows, ip, []PortRange{{Lo: 6016, Hi: 6031}, {Lo: 10112, Hi: 10127}})
		if u.Flows != 3 || u.Sets[0].TCP != 1 || u.Sets[0].UDP != 0 || u.Sets[1].UDP != 1 {
			t.Errorf("usage from the kernel = %+v (flows %+v)", u, flows)
		}

		// A forwarded inbound flow: 203.0.113.5 -> 14.8.52.86:6025,
		// DNATed to 192.168.1.20:22. Its external port is taken; its
		// LAN host holds no SNAT port.
		createEntry(t, tuple(unix.IPPROTO_TCP, "203.0.113.5", 5555, "14.8.52.86", 6025),
			tuple(unix.IPPROTO_TCP, "192.168.1.20", 22, "203.0.113.5", 5555))
		if flows, err = (NetlinkFlows{}).Flows(); err != nil {
			t.Fatal(err)
		}
		used := UsedPorts(flows, ip)
		for p, want := range map[uint16]bool{6020: true, 10112: true, 6025: true, 6021: false, 5555: false} {
			if used.Has(p) != want {
				t.Errorf("port %d used = %v, want %v (flows %+v)", p, !want, want, flows)
			}
		}
		hosts := CountHosts(flows, ip, TopHosts)
		if hosts.Total != 1 || hosts.Top[0].Address != "192.168.1.10" || hosts.Top[0].TCP != 1 || hosts.Top[0].UDP != 1 || hosts.Top[0].Flows != 3 {
			t.Errorf("hosts from the kernel = %+v", hosts)
		}
	})
}

// procStat sums /proc/net/stat/nf_conntrack of the calling thread's
// namespace (the kernel's other view of the same counters) by its header:
// the cross-check of the ctnetlink reader.
func procStat(t *testing.T) Pressure {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/net/stat/nf_conntrack")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	col := map[string]int{}
	for i, name := range strings.Fields(lines[0]) {
		col[name] = i
	}
	var p Pressure
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		v := func(name string) uint64 {
			n, err := strconv.ParseUint(f[col[name]], 16, 64)
			if err != nil {
				t.Fatalf("%s in %q: %v", name, l, err)
			}
			return n
		}
		p.Count = v("entries") // the table's count, on every CPU's line
		p.InsertFailed += v("insert_failed")
		p.Drop += v("drop")
		p.EarlyDrop += v("early_drop")
	}
	m, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_max")
	if err != nil {
		t.Fatal(err)
	}
	if p.Max, err = strconv.ParseUint(strings.TrimSpace(string(m)), 10, 64); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKernelPressure reads the NAT pressure counters through ctnetlink in
// a fresh namespace and provokes insert_failed the way a NAT without a
// free port does: a new TCP flow whose reply tuple is already taken by
// another entry. The counts must match /proc/net/stat/nf_conntrack.
func TestKernelPressure(t *testing.T) {
	nstest.Require(t, "ip", "nft")
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "set", "lo", "up")
	// Any ct expression turns conntrack on in the namespace; no NAT hook,
	// which would move the new flow to another port instead of failing.
	ns.Run(t, "nft", "add table inet cton { chain out { type filter hook output priority 0; ct state new counter; }; }")
	inNS(t, ns, func() {
		// An entry whose reply tuple is what 127.0.0.1:40000 ->
		// 127.0.0.1:80 would have as its reply.
		createEntry(t, tuple(unix.IPPROTO_TCP, "10.9.9.9", 1111, "10.9.9.8", 2222),
			tuple(unix.IPPROTO_TCP, "127.0.0.1", 80, "127.0.0.1", 40000))
		before, err := NetlinkPressure{}.Pressure()
		if err != nil {
			t.Fatal(err)
		}
		if want := procStat(t); before != want || before.Count != 1 || before.Max == 0 {
			t.Errorf("ctnetlink %+v, procfs %+v; want count 1", before, want)
		}

		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			t.Fatal(err)
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: 40000, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
		// The SYN is dropped at confirmation; connect only starts it.
		if err := unix.Connect(fd, &unix.SockaddrInet4{Port: 80, Addr: [4]byte{127, 0, 0, 1}}); err != nil && err != unix.EINPROGRESS {
			t.Fatalf("connect: %v", err)
		}
		// Closed at once: no SYN retransmission adds a second failure.
		unix.Close(fd)
		after, err := NetlinkPressure{}.Pressure()
		if err != nil {
			t.Fatal(err)
		}
		if want := procStat(t); after != want || after.InsertFailed != before.InsertFailed+1 {
			t.Errorf("after the clash: ctnetlink %+v, procfs %+v; want insert_failed %d", after, want, before.InsertFailed+1)
		}
		t.Logf("before %+v, after %+v", before, after)
	})
}

// tuple is one direction of a conntrack entry.
func tuple(proto uint8, src string, sport uint16, dst string, dport uint16) netlink.IPTuple {
	return netlink.IPTuple{SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4(), Protocol: proto, SrcPort: sport, DstPort: dport}
}

// createEntry adds a conntrack entry with these directions (TCP ones
// ESTABLISHED, 120 s) in the namespace the caller runs in.
func createEntry(t *testing.T, fwd, rev netlink.IPTuple) {
	t.Helper()
	flow := &netlink.ConntrackFlow{FamilyType: unix.AF_INET, Forward: fwd, Reverse: rev, TimeOut: 120}
	if fwd.Protocol == unix.IPPROTO_TCP {
		flow.ProtoInfo = &netlink.ProtoInfoTCP{State: 3} // ESTABLISHED
	}
	if err := netlink.ConntrackCreate(netlink.ConntrackTable, netlink.FAMILY_V4, flow); err != nil {
		t.Fatalf("create conntrack entry %v -> %v: %v", fwd, rev, err)
	}
}
