//go:build linux

package status

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
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
			flow := &netlink.ConntrackFlow{
				FamilyType: unix.AF_INET,
				Forward: netlink.IPTuple{SrcIP: net.ParseIP("192.168.1.10").To4(), DstIP: remote, Protocol: f.proto,
					SrcPort: 40000 + uint16(i), DstPort: f.dport},
				Reverse: netlink.IPTuple{SrcIP: remote, DstIP: net.ParseIP(f.dst).To4(), Protocol: f.proto,
					SrcPort: f.dport, DstPort: f.rport},
				TimeOut: 120,
			}
			if f.proto == unix.IPPROTO_TCP {
				flow.ProtoInfo = &netlink.ProtoInfoTCP{State: 3} // ESTABLISHED
			}
			if err := netlink.ConntrackCreate(netlink.ConntrackTable, netlink.FAMILY_V4, flow); err != nil {
				t.Fatalf("create conntrack entry %d: %v", i, err)
			}
		}
		flows, err := NetlinkFlows{}.Flows()
		if err != nil {
			t.Fatal(err)
		}
		u := CountUsage(flows, ip, []PortRange{{Lo: 6016, Hi: 6031}, {Lo: 10112, Hi: 10127}})
		if u.Flows != 3 || u.Sets[0].TCP != 1 || u.Sets[0].UDP != 0 || u.Sets[1].UDP != 1 {
			t.Errorf("usage from the kernel = %+v (flows %+v)", u, flows)
		}
	})
}
