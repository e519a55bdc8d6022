package dataplane

import (
	"net"
	"net/netip"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// natFilter matches conntrack entries NATed to one of our IPv4 addresses
// (the reply goes to it) that the current rules would not produce: any
// entry of an address other than cur, and entries of cur whose mapped port
// (or ICMP id) lies outside the port sets. Only TCP, UDP and ICMP, the
// protocols our table translates. netlink v1.3.1 does not parse the ICMP
// id, so ICMP entries of cur count as outside the sets (they are deleted;
// the next echo gets a new mapping).
type natFilter struct {
	cur  net.IP
	ips  []net.IP
	sets []mapcalc.PortRange
}

func (f natFilter) MatchConntrackFlow(fl *netlink.ConntrackFlow) bool {
	switch fl.Forward.Protocol {
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP, unix.IPPROTO_ICMP:
	default:
		return false
	}
	dst := fl.Reverse.DstIP
	ours := false
	for _, ip := range f.ips {
		ours = ours || ip.Equal(dst)
	}
	if !ours {
		return false
	}
	if !f.cur.Equal(dst) {
		return true
	}
	if len(f.sets) == 0 {
		return false // no port sets: the whole address is ours
	}
	for _, s := range f.sets {
		if s.Contains(fl.Reverse.DstPort) {
			return false
		}
	}
	return true
}

// flushStaleNAT deletes the conntrack entries natFilter matches for the
// current IPv4 cur with port sets sets and the previous IPv4 prev (may be
// invalid or equal). Without it a flow that lives across a prefix change
// keeps its mapping to a port of the old set, which the BR drops until the
// entry expires (known bug 3 of docs/reliability.md). It returns how many
// entries were deleted.
func flushStaleNAT(h *netlink.Handle, prev, cur netip.Addr, sets []mapcalc.PortRange) (uint, error) {
	f := natFilter{cur: net.IP(cur.AsSlice()), ips: []net.IP{net.IP(cur.AsSlice())}, sets: sets}
	if prev.Is4() && prev != cur {
		f.ips = append(f.ips, net.IP(prev.AsSlice()))
	}
	return h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, f)
}
