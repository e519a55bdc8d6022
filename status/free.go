package status

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
)

// FreeSuggestions is how many free ports the report suggests for a new
// port forward, and TopHosts how many LAN hosts it lists: enough to pick
// from at a glance, short enough for a LuCI row.
const (
	FreeSuggestions = 8
	TopHosts        = 10
)

// SetFree is how many ports of one port set nothing uses.
type SetFree struct {
	Set  PortRange `json:"set"`
	Free int       `json:"free"`
}

// FreePorts are the external ports a new port forward can take: in our
// sets (the BR delivers no other), and used by no conntrack flow of our
// IPv4 in either protocol, no fw4 port forward and no UPnP mapping.
type FreePorts struct {
	Sets  []SetFree `json:"sets"`
	Total int       `json:"total"`
	// Suggestions are the first free port of each set in turn (then the
	// second of each, …): spread over the sets, so one busy set does not
	// decide the list.
	Suggestions []uint16 `json:"suggestions"`
}

// PortBits is a set of port numbers, one bit each.
type PortBits [1 << 16 / 64]uint64

// Add puts port p in the set.
func (b *PortBits) Add(p uint16) { b[p/64] |= 1 << (p % 64) }

// Has reports whether port p is in the set.
func (b *PortBits) Has(p uint16) bool { return b[p/64]&(1<<(p%64)) != 0 }

// AddRange puts every port of r in the set.
func (b *PortBits) AddRange(r PortRange) {
	for p := int(r.Lo); p <= int(r.Hi); p++ {
		b.Add(uint16(p))
	}
}

// UsedPorts returns the ports of ipv4 that any flow occupies, whatever
// its protocol: the NAT port of outbound flows (the reply goes to
// ipv4:port) and the external port of inbound ones (a DNAT forward, a
// UPnP mapping or a service of the router itself: the original packet
// went to ipv4:port). Either protocol counts because a forward is
// usually set up for both, and a port the kernel picked for a TCP flow
// now is the first it may pick for UDP later.
func UsedPorts(flows []Flow, ipv4 netip.Addr) *PortBits {
	used := new(PortBits)
	for _, f := range flows {
		if f.Proto != ProtoTCP && f.Proto != ProtoUDP {
			continue
		}
		if f.ReplyDst.Unmap() == ipv4 {
			used.Add(f.ReplyDstPort)
		}
		if f.OrigDst.Unmap() == ipv4 {
			used.Add(f.OrigDstPort)
		}
	}
	return used
}

// ComputeFree counts the ports of each set that are not taken, and picks
// up to n suggestions spread over the sets: the first free port of each
// set, then the second of each, and so on. sets must be sorted and
// disjoint.
func ComputeFree(sets []PortRange, taken *PortBits, n int) FreePorts {
	fp := FreePorts{Sets: make([]SetFree, len(sets)), Suggestions: []uint16{}}
	free := make([][]uint16, len(sets))
	for i, s := range sets {
		fp.Sets[i].Set = s
		for p := int(s.Lo); p <= int(s.Hi); p++ {
			if !taken.Has(uint16(p)) {
				fp.Sets[i].Free++
				if len(free[i]) < n {
					free[i] = append(free[i], uint16(p))
				}
			}
		}
		fp.Total += fp.Sets[i].Free
	}
	for k := 0; k < n; k++ {
		for i := range free {
			if k < len(free[i]) && len(fp.Suggestions) < n {
				fp.Suggestions = append(fp.Suggestions, free[i][k])
			}
		}
	}
	return fp
}

// HostPorts is how many external ports of our IPv4 one LAN host holds
// through SNAT: distinct (protocol, port) pairs, since the same number in
// TCP and UDP are two ports the kernel hands out separately.
type HostPorts struct {
	Address string `json:"address"`
	TCP     int    `json:"tcp"`
	UDP     int    `json:"udp"`
	Flows   int    `json:"flows"`

	addr uint32 // for sorting: the IPv4 address as a number
}

// LANHosts is the per-host tally: every host counted, the busiest listed.
type LANHosts struct {
	Total int         `json:"total"`
	Top   []HostPorts `json:"top"`
}

// CountHosts tallies, per original source address, the external ports
// of ipv4 its outbound flows hold (the reply goes to ipv4:port), busiest
// first, at most top listed. This is what tells a user which device eats
// the port sets. The router's own flows are listed under ipv4 itself:
// they take ports from the same sets.
func CountHosts(flows []Flow, ipv4 netip.Addr, top int) LANHosts {
	seen := make(map[uint64]bool) // host<<32 | proto<<16 | port
	byHost := make(map[uint32]*HostPorts)
	for _, f := range flows {
		src := f.OrigSrc.Unmap()
		if f.ReplyDst.Unmap() != ipv4 || !src.Is4() {
			continue
		}
		if f.Proto != ProtoTCP && f.Proto != ProtoUDP {
			continue
		}
		a4 := src.As4()
		host := uint32(a4[0])<<24 | uint32(a4[1])<<16 | uint32(a4[2])<<8 | uint32(a4[3])
		h := byHost[host]
		if h == nil {
			h = &HostPorts{Address: src.String(), addr: host}
			byHost[host] = h
		}
		h.Flows++
		k := uint64(host)<<32 | uint64(f.Proto)<<16 | uint64(f.ReplyDstPort)
		if seen[k] {
			continue
		}
		seen[k] = true
		if f.Proto == ProtoTCP {
			h.TCP++
		} else {
			h.UDP++
		}
	}
	all := make([]HostPorts, 0, len(byHost))
	for _, h := range byHost {
		all = append(all, *h)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.TCP+a.UDP != b.TCP+b.UDP {
			return a.TCP+a.UDP > b.TCP+b.UDP
		}
		if a.Flows != b.Flows {
			return a.Flows > b.Flows
		}
		return a.addr < b.addr
	})
	return LANHosts{Total: len(all), Top: all[:min(top, len(all))]}
}

// ParseUPnPLeases reads miniupnpd's lease file (`upnp_lease_file` in
// /etc/config/upnpd; one mapping a line, "PROTO:EXTPORT:ADDR:PORT:…")
// and returns the external ports it has granted. Lines it cannot read
// are skipped: the file belongs to miniupnpd, and a port we miss here is
// only a suggestion that a forward would then collide with.
func ParseUPnPLeases(leases string) []PortRange {
	var out []PortRange
	for _, line := range strings.Split(leases, "\n") {
		f := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(f) < 3 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "TCP", "UDP":
		default:
			continue
		}
		p, err := strconv.ParseUint(f[1], 10, 16)
		if err != nil || p == 0 {
			continue
		}
		out = append(out, PortRange{Lo: uint16(p), Hi: uint16(p)})
	}
	return out
}

// DefaultUPnPLeases is where OpenWrt's miniupnpd keeps its mappings
// (`option upnp_lease_file` in the upnpd package's default config).
const DefaultUPnPLeases = "/var/run/miniupnpd.leases"

// UPnPLeaseFile reads miniupnpd's lease file; a missing file is no
// mapping (miniupnpd not installed or not running).
type UPnPLeaseFile struct{ Path string }

// Ports returns the external ports of every lease.
func (l UPnPLeaseFile) Ports() ([]PortRange, error) {
	b, err := os.ReadFile(l.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseUPnPLeases(string(b)), nil
}
