package dataplane

import (
	"net"
	"net/netip"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// natFilter matches the conntrack entries up deletes because the current
// rules would not produce them. Only TCP, UDP and ICMP, the protocols our
// table translates:
//
//   - entries NATed to cur (the reply goes to it) whose mapped port (or
//     ICMP id) lies outside the port sets. netlink v1.3.1 does not parse
//     the ICMP id, so ICMP entries of cur count as outside the sets (they
//     are deleted; the next echo gets a new mapping);
//   - entries NATed to another address of ips (the previous IPv4 the state
//     file recorded);
//   - orphans: entries whose reply destination was translated (address or
//     port differs from the original source, i.e. source NAT) to an IPv4
//     address that is neither cur nor on any interface of this router
//     (local). Under netifd, down always runs before up and removes the
//     record, so up cannot know the previous IPv4 from the state file;
//     but a source-NAT mapping to an address the router no longer has can
//     only be a leftover of a mapping that is gone, ours or not, and its
//     flow would keep the dead address (and be dropped by the guard) until
//     it is silent for the conntrack timeout (UDP: 120-180 s, TCP: days).
//     A deterministic NAT elsewhere that maps to a non-local address (a
//     1:1 NAT of a routed block) loses its entries too; the next packet
//     gets the same mapping again from its rule. Entries that were not
//     source-NATed (plain forwarding) are never touched.
type natFilter struct {
	cur  net.IP
	ips  []net.IP
	sets []mapcalc.PortRange
	// local reports whether an IPv4 address is on an interface of this
	// router now; nil: no orphan check.
	local func(net.IP) bool
}

func (f natFilter) MatchConntrackFlow(fl *netlink.ConntrackFlow) bool {
	switch fl.Forward.Protocol {
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP, unix.IPPROTO_ICMP:
	default:
		return false
	}
	dst := fl.Reverse.DstIP
	if f.cur.Equal(dst) {
		return !inSets(f.sets, fl)
	}
	for _, ip := range f.ips {
		if ip.Equal(dst) {
			return true
		}
	}
	translated := !fl.Forward.SrcIP.Equal(dst) || fl.Forward.SrcPort != fl.Reverse.DstPort
	return f.local != nil && dst.To4() != nil && translated && !f.local(dst)
}

// inSets reports whether fl's mapped port lies in sets (no sets: the whole
// address is ours). ICMP entries never do, see natFilter.
func inSets(sets []mapcalc.PortRange, fl *netlink.ConntrackFlow) bool {
	if len(sets) == 0 {
		return true
	}
	if fl.Forward.Protocol == unix.IPPROTO_ICMP {
		return false
	}
	for _, s := range sets {
		if s.Contains(fl.Reverse.DstPort) {
			return true
		}
	}
	return false
}

// flushStaleNAT deletes the conntrack entries natFilter matches for the
// current IPv4 cur with port sets sets, the previous IPv4 prev (may be
// invalid or equal) and, when local is given, the orphans. Without it a
// flow that lives across a prefix change keeps its mapping to a port of
// the old set or to the old address, which the BR (or our guard) drops
// until the entry expires (known bug 3 of docs/reliability.md, issue 12).
// It returns how many entries were deleted.
func flushStaleNAT(h *netlink.Handle, prev, cur netip.Addr, sets []mapcalc.PortRange, local func(net.IP) bool) (uint, error) {
	f := natFilter{cur: net.IP(cur.AsSlice()), ips: []net.IP{net.IP(cur.AsSlice())}, sets: sets, local: local}
	if prev.Is4() && prev != cur {
		f.ips = append(f.ips, net.IP(prev.AsSlice()))
	}
	return h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, f)
}

// mappingFilter matches the entries NATed to ip inside sets (ICMP: every
// entry of ip, see natFilter): the mapping of one interface, and not that
// of another interface sharing the address with other port sets.
type mappingFilter struct {
	ip   net.IP
	sets []mapcalc.PortRange
}

func (f mappingFilter) MatchConntrackFlow(fl *netlink.ConntrackFlow) bool {
	switch fl.Forward.Protocol {
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP, unix.IPPROTO_ICMP:
	default:
		return false
	}
	return f.ip.Equal(fl.Reverse.DstIP) && (fl.Forward.Protocol == unix.IPPROTO_ICMP || inSets(f.sets, fl))
}

// flushMapping deletes the conntrack entries of the mapping ip/sets: down
// calls it, so that no flow keeps a mapping that is gone (netifd runs
// down before every up, and the up after it has no record of the old
// IPv4). Best effort, like flushStaleNAT.
func flushMapping(h *netlink.Handle, ip netip.Addr, sets []mapcalc.PortRange) (uint, error) {
	return h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, mappingFilter{ip: net.IP(ip.AsSlice()), sets: sets})
}

// localIPv4 returns a function reporting whether an IPv4 address is on an
// interface of h's namespace now, or nil when the addresses cannot be
// listed (then no orphan is deleted).
func localIPv4(h *netlink.Handle) func(net.IP) bool {
	if h == nil {
		return nil
	}
	addrs, err := h.AddrList(nil, unix.AF_INET)
	if err != nil {
		return nil
	}
	have := map[netip.Addr]bool{}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok {
			have[ip] = true
		}
	}
	return func(ip net.IP) bool {
		a, ok := netip.AddrFromSlice(ip.To4())
		return ok && have[a]
	}
}
