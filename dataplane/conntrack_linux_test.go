package dataplane

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/state"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ctEntry is one conntrack entry of a test: a flow from fsrc:40000+i (i
// its index) to 198.51.100.1+i:53, whose reply goes to rdst:rport.
type ctEntry struct {
	proto uint8
	fsrc  string
	rdst  string
	rport uint16
}

// makeEntries creates the entries in the namespace of h through ctnetlink.
func makeEntries(t *testing.T, h *netlink.Handle, entries []ctEntry) {
	t.Helper()
	for i, f := range entries {
		remote := net.ParseIP("198.51.100.1").To4()
		remote[3] += byte(i)
		flow := &netlink.ConntrackFlow{
			FamilyType: unix.AF_INET,
			Forward: netlink.IPTuple{SrcIP: net.ParseIP(f.fsrc).To4(), DstIP: remote, Protocol: f.proto,
				SrcPort: 40000 + uint16(i), DstPort: 53},
			Reverse: netlink.IPTuple{SrcIP: remote, DstIP: net.ParseIP(f.rdst).To4(), Protocol: f.proto,
				SrcPort: 53, DstPort: f.rport},
			TimeOut: 120,
		}
		if f.proto == unix.IPPROTO_TCP {
			flow.ProtoInfo = &netlink.ProtoInfoTCP{State: 3} // ESTABLISHED
		}
		if err := h.ConntrackCreate(netlink.ConntrackTable, netlink.FAMILY_V4, flow); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("create conntrack entry: %v", err)
			}
			t.Skipf("cannot create conntrack entries here (nf_conntrack_netlink?): %v", err)
		}
	}
}

// entriesLeft is the indexes of the entries still in the table.
func entriesLeft(t *testing.T, h *netlink.Handle) []int {
	t.Helper()
	flows, err := h.ConntrackTableList(netlink.ConntrackTable, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var left []int
	for _, f := range flows {
		left = append(left, int(f.Forward.SrcPort)-40000)
	}
	slices.Sort(left)
	return left
}

func ctHandle(t *testing.T) (*Env, *netlink.Handle) {
	t.Helper()
	env, ns := testEnv(t)
	h, err := netlink.NewHandleAt(ns.Handle, unix.NETLINK_NETFILTER)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return env, h
}

// TestFlushStaleNAT is known bug 3 of docs/reliability.md and issue 12
// item 1: after a prefix change the conntrack entries mapped by the
// previous rules (old IPv4, or a port outside the new sets) go, and so do
// source-NAT entries to an address the router no longer has (the old IPv4
// when no record names it: netifd ran down first); the others stay.
func TestFlushStaleNAT(t *testing.T) {
	_, h := ctHandle(t)
	sets := []mapcalc.PortRange{{Lo: 6016, Hi: 6031}, {Lo: 10112, Hi: 10127}}
	lan := "192.168.1.10"
	makeEntries(t, h, []ctEntry{
		{unix.IPPROTO_TCP, lan, "14.8.52.86", 6020},   // 0 current, in set: kept
		{unix.IPPROTO_UDP, lan, "14.8.52.86", 10127},  // 1 current, in set: kept
		{unix.IPPROTO_UDP, lan, "14.8.52.86", 14208},  // 2 current, outside: deleted
		{unix.IPPROTO_TCP, lan, "14.8.52.87", 6020},   // 3 previous address: deleted
		{unix.IPPROTO_UDP, lan, "192.0.2.9", 14208},   // 4 masqueraded to a local address (another WAN): kept
		{unix.IPPROTO_UDP, lan, "14.8.52.99", 6020},   // 5 SNAT to an address the router lost: deleted
		{unix.IPPROTO_UDP, lan, lan, 40006},           // 6 forwarded without NAT: kept
		{unix.IPPROTO_UDP, "10.0.0.2", "10.0.0.2", 5}, // 7 port-translated to a non-local address: deleted
	})
	local := func(ip net.IP) bool { return ip.Equal(net.ParseIP("192.0.2.9")) }
	n, err := flushStaleNAT(h, netip.MustParseAddr("14.8.52.87"), netip.MustParseAddr("14.8.52.86"), sets, local)
	if err != nil || n != 4 {
		t.Errorf("deleted %d, %v; want 4", n, err)
	}
	if left := entriesLeft(t, h); !slices.Equal(left, []int{0, 1, 4, 6}) {
		t.Fatalf("entries left %v, want [0 1 4 6]", left)
	}
}

// TestDownFlushesMapping (issue 12 item 1): down deletes the conntrack
// entries of the mapping its record names, so that the up after it (which
// has no record) does not leave a flow on the old address; entries of
// other port sets of the same address (another CE sharing it) and of other
// addresses stay.
func TestDownFlushesMapping(t *testing.T) {
	env, h := ctHandle(t)
	lan := "192.168.1.10"
	makeEntries(t, h, []ctEntry{
		{unix.IPPROTO_UDP, lan, "14.8.52.86", 6020},  // 0 ours: deleted
		{unix.IPPROTO_TCP, lan, "14.8.52.86", 10112}, // 1 ours: deleted
		{unix.IPPROTO_UDP, lan, "14.8.52.86", 6032},  // 2 the same address, another PSID's port: kept
		{unix.IPPROTO_UDP, lan, "14.8.52.87", 6020},  // 3 another address: kept
	})
	rec := &state.Record{Version: state.Version, Interface: "wan_mape", State: state.Up}
	rec.IPv4, rec.PortSets = "14.8.52.86", []mapcalc.PortRange{{Lo: 6016, Hi: 6031}, {Lo: 10112, Hi: 10127}}
	if err := os.MkdirAll(env.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := state.Write(env.StateDir, rec); err != nil {
		t.Fatal(err)
	}
	if err := Down(context.Background(), env, "wan_mape"); err != nil {
		t.Fatal(err)
	}
	if left := entriesLeft(t, h); !slices.Equal(left, []int{2, 3}) {
		t.Fatalf("entries left %v, want [2 3]", left)
	}
}
