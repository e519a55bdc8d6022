package dataplane

import (
	"net"
	"net/netip"
	"os"
	"sort"
	"testing"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestFlushStaleNAT is known bug 3 of docs/reliability.md: after a prefix
// change the conntrack entries mapped by the previous rules (old IPv4, or a
// port outside the new sets) go, the others stay. Entries are created in a
// fresh namespace through ctnetlink.
func TestFlushStaleNAT(t *testing.T) {
	_, ns := testEnv(t)
	h, err := netlink.NewHandleAt(ns.Handle, unix.NETLINK_NETFILTER)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sets := []mapcalc.PortRange{{Lo: 6016, Hi: 6031}, {Lo: 10112, Hi: 10127}}
	for i, f := range []struct {
		proto uint8
		dst   string
		rport uint16
	}{
		{unix.IPPROTO_TCP, "14.8.52.86", 6020},  // 0 current, in set: kept
		{unix.IPPROTO_UDP, "14.8.52.86", 10127}, // 1 current, in set: kept
		{unix.IPPROTO_UDP, "14.8.52.86", 14208}, // 2 current, outside: deleted
		{unix.IPPROTO_TCP, "14.8.52.87", 6020},  // 3 previous address: deleted
		{unix.IPPROTO_UDP, "192.0.2.9", 14208},  // 4 not ours: kept
	} {
		remote := net.ParseIP("198.51.100.1").To4()
		remote[3] += byte(i)
		flow := &netlink.ConntrackFlow{
			FamilyType: unix.AF_INET,
			Forward: netlink.IPTuple{SrcIP: net.ParseIP("192.168.1.10").To4(), DstIP: remote, Protocol: f.proto,
				SrcPort: 40000 + uint16(i), DstPort: 53},
			Reverse: netlink.IPTuple{SrcIP: remote, DstIP: net.ParseIP(f.dst).To4(), Protocol: f.proto,
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
	n, err := flushStaleNAT(h, netip.MustParseAddr("14.8.52.87"), netip.MustParseAddr("14.8.52.86"), sets)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want 2", n, err)
	}
	flows, err := h.ConntrackTableList(netlink.ConntrackTable, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var left []int
	for _, f := range flows {
		left = append(left, int(f.Forward.SrcPort)-40000)
	}
	sort.Ints(left)
	if len(left) != 3 || left[0] != 0 || left[1] != 1 || left[2] != 4 {
		t.Fatalf("entries left %v, want [0 1 4]", left)
	}
}
