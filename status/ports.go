package status

import (
	"net/netip"
	"sort"

	"github.com/mapehelper/mapehelper/mapcalc"
)

// IP protocol numbers of the flows we count.
const (
	ProtoICMP = 1
	ProtoTCP  = 6
	ProtoUDP  = 17
)

// Flow is the part of one conntrack entry that tells which shared-IPv4
// port it occupies: after SNAT, the reply direction is addressed to the
// shared IPv4 and the NAT port. For ICMP the netlink library does not
// report the echo identifier, so ICMP flows are only counted. The
// original direction tells inbound flows (to ipv4:port, a forward) and
// the LAN host behind an SNATed one.
type Flow struct {
	Proto        uint8
	ReplyDst     netip.Addr
	ReplyDstPort uint16
	OrigSrc      netip.Addr
	OrigDst      netip.Addr
	OrigDstPort  uint16
}

// FlowLister reads the kernel's IPv4 conntrack table.
type FlowLister interface {
	Flows() ([]Flow, error)
}

// SetUsage is how many distinct NAT ports of one port set are in use.
type SetUsage struct {
	Set PortRange `json:"set"`
	TCP int       `json:"tcp"`
	UDP int       `json:"udp"`
}

// PortCount is a number of distinct ports per protocol.
type PortCount struct {
	TCP int `json:"tcp"`
	UDP int `json:"udp"`
}

// Usage is the port occupancy of one shared IPv4 address.
type Usage struct {
	Sets []SetUsage `json:"sets"`
	// Outside counts distinct ports in use on the shared IPv4 that lie in
	// no port set. Anything here is a bug or a leak: the BR drops it.
	Outside PortCount `json:"outside"`
	// Flows is the number of conntrack entries addressed to the IPv4.
	Flows int `json:"flows"`
	// ICMPFlows is the number of those that are ICMP (echo) flows.
	ICMPFlows int `json:"icmp_flows"`
}

// CountUsage counts, for each port set and protocol, the distinct NAT
// ports that flows addressed (in the reply direction) to ipv4 occupy.
// Distinct ports, not flows: one port serves many flows to different
// destinations, and what the user runs out of is ports. sets must be
// sorted and disjoint, as the calculator returns them.
func CountUsage(flows []Flow, ipv4 netip.Addr, sets []PortRange) Usage {
	u := Usage{Sets: make([]SetUsage, len(sets))}
	for i, s := range sets {
		u.Sets[i].Set = s
	}
	type key struct {
		proto uint8
		port  uint16
	}
	seen := make(map[key]bool)
	for _, f := range flows {
		if f.ReplyDst.Unmap() != ipv4 {
			continue
		}
		u.Flows++
		if f.Proto != ProtoTCP && f.Proto != ProtoUDP {
			if f.Proto == ProtoICMP {
				u.ICMPFlows++
			}
			continue
		}
		k := key{f.Proto, f.ReplyDstPort}
		if seen[k] {
			continue
		}
		seen[k] = true
		tcp, udp := &u.Outside.TCP, &u.Outside.UDP
		if i := findSet(sets, f.ReplyDstPort); i >= 0 {
			tcp, udp = &u.Sets[i].TCP, &u.Sets[i].UDP
		}
		if f.Proto == ProtoTCP {
			*tcp++
		} else {
			*udp++
		}
	}
	return u
}

// findSet returns the index of the set containing port, or -1.
func findSet(sets []PortRange, port uint16) int {
	i := sort.Search(len(sets), func(i int) bool { return sets[i].Hi >= port })
	if i < len(sets) && sets[i].Contains(port) {
		return i
	}
	return -1
}

// InUse is the total of distinct ports in use inside the sets, per
// protocol.
func (u Usage) InUse() (tcp, udp int) {
	for _, s := range u.Sets {
		tcp += s.TCP
		udp += s.UDP
	}
	return tcp, udp
}

// RealPorts returns flows with the virtual ports of the interface with
// shared address ipv4 and port sets sets turned into the real ports they
// stand for (mapcalc.RealPort): with option vrange, conntrack holds a TCP
// or UDP mapping to virtual port v, the v-th port of the sets, on the
// reply side of every outbound flow and on the original side of every
// inbound one. Other flows are copied as they are.
func RealPorts(flows []Flow, ipv4 string, sets []PortRange) []Flow {
	ip, err := netip.ParseAddr(ipv4)
	if err != nil {
		return flows
	}
	out := make([]Flow, len(flows))
	for i, f := range flows {
		if f.Proto == ProtoTCP || f.Proto == ProtoUDP {
			if f.ReplyDst.Unmap() == ip {
				if p, ok := mapcalc.RealPort(sets, f.ReplyDstPort); ok {
					f.ReplyDstPort = p
				}
			}
			if f.OrigDst.Unmap() == ip {
				if p, ok := mapcalc.RealPort(sets, f.OrigDstPort); ok {
					f.OrigDstPort = p
				}
			}
		}
		out[i] = f
	}
	return out
}
