package status

import (
	"net/netip"
	"reflect"
	"testing"
)

// v6plusSets are the 15 port sets of the seed example (PSID 120, offset 4,
// psidlen 8): set i is (i<<12)|(120<<4) … +15.
func v6plusSets() []PortRange {
	var s []PortRange
	for i := 1; i <= 15; i++ {
		lo := uint16(i<<12 | 120<<4)
		s = append(s, PortRange{Lo: lo, Hi: lo + 15})
	}
	return s
}

var seedIPv4 = netip.MustParseAddr("14.8.52.86")

func tcp(port uint16) Flow { return Flow{Proto: ProtoTCP, ReplyDst: seedIPv4, ReplyDstPort: port} }
func udp(port uint16) Flow { return Flow{Proto: ProtoUDP, ReplyDst: seedIPv4, ReplyDstPort: port} }

func TestCountUsage(t *testing.T) {
	sets := v6plusSets()
	other := netip.MustParseAddr("192.168.1.10")
	tests := []struct {
		name      string
		flows     []Flow
		perSet    map[int][2]int // set index -> {tcp, udp}
		outside   [2]int
		flowCount int
		icmp      int
	}{
		{name: "no flows", perSet: map[int][2]int{}},
		{
			name:      "one tcp flow in first set",
			flows:     []Flow{tcp(6016)},
			perSet:    map[int][2]int{0: {1, 0}},
			flowCount: 1,
		},
		{
			name:      "two flows sharing one NAT port count one port",
			flows:     []Flow{tcp(6020), tcp(6020)},
			perSet:    map[int][2]int{0: {1, 0}},
			flowCount: 2,
		},
		{
			name:      "same port number tcp and udp count in each protocol",
			flows:     []Flow{tcp(63375), udp(63375)},
			perSet:    map[int][2]int{14: {1, 1}},
			flowCount: 2,
		},
		{
			name:      "set boundaries",
			flows:     []Flow{udp(10112), udp(10127), udp(10128), udp(10111)},
			perSet:    map[int][2]int{1: {0, 2}},
			outside:   [2]int{0, 2},
			flowCount: 4,
		},
		{
			name: "flows of other addresses are ignored",
			flows: []Flow{
				{Proto: ProtoTCP, ReplyDst: other, ReplyDstPort: 6016},
				{Proto: ProtoUDP, ReplyDst: netip.MustParseAddr("::ffff:14.8.52.86"), ReplyDstPort: 6017},
			},
			perSet:    map[int][2]int{0: {0, 1}},
			flowCount: 1,
		},
		{
			name:      "icmp is counted as flows only",
			flows:     []Flow{{Proto: ProtoICMP, ReplyDst: seedIPv4}, {Proto: 47, ReplyDst: seedIPv4}},
			perSet:    map[int][2]int{},
			flowCount: 2,
			icmp:      1,
		},
		{
			name:      "port below every set is outside",
			flows:     []Flow{tcp(1024), tcp(65535)},
			perSet:    map[int][2]int{},
			outside:   [2]int{2, 0},
			flowCount: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := CountUsage(tt.flows, seedIPv4, sets)
			if len(u.Sets) != len(sets) {
				t.Fatalf("got %d sets, want %d", len(u.Sets), len(sets))
			}
			for i, s := range u.Sets {
				want := tt.perSet[i]
				if s.Set != sets[i] || s.TCP != want[0] || s.UDP != want[1] {
					t.Errorf("set %d = %+v, want %v tcp %d udp %d", i, s, sets[i], want[0], want[1])
				}
			}
			if got := [2]int{u.Outside.TCP, u.Outside.UDP}; got != tt.outside {
				t.Errorf("outside = %v, want %v", got, tt.outside)
			}
			if u.Flows != tt.flowCount || u.ICMPFlows != tt.icmp {
				t.Errorf("flows = %d icmp %d, want %d icmp %d", u.Flows, u.ICMPFlows, tt.flowCount, tt.icmp)
			}
		})
	}
}

func TestCountUsageFullSet(t *testing.T) {
	sets := v6plusSets()
	var flows []Flow
	for p := sets[3].Lo; p <= sets[3].Hi; p++ {
		flows = append(flows, tcp(p), tcp(p)) // every port twice
	}
	u := CountUsage(flows, seedIPv4, sets)
	if u.Sets[3].TCP != 16 {
		t.Fatalf("set 3 tcp = %d, want 16", u.Sets[3].TCP)
	}
	if tcpN, udpN := u.InUse(); tcpN != 16 || udpN != 0 {
		t.Fatalf("InUse = %d/%d, want 16/0", tcpN, udpN)
	}
}

func TestFindSet(t *testing.T) {
	sets := []PortRange{{Lo: 1, Hi: 10}, {Lo: 20, Hi: 30}, {Lo: 40, Hi: 40}}
	for port, want := range map[uint16]int{0: -1, 1: 0, 10: 0, 11: -1, 20: 1, 30: 1, 35: -1, 40: 2, 41: -1, 65535: -1} {
		if got := findSet(sets, port); got != want {
			t.Errorf("findSet(%d) = %d, want %d", port, got, want)
		}
	}
	if got := findSet(nil, 5); got != -1 {
		t.Errorf("findSet(nil) = %d", got)
	}
	if !reflect.DeepEqual(intersect(PortRange{Lo: 5, Hi: 25}, sets), []PortRange{{Lo: 5, Hi: 10}, {Lo: 20, Hi: 25}}) {
		t.Errorf("intersect = %v", intersect(PortRange{Lo: 5, Hi: 25}, sets))
	}
}

// BenchmarkCountUsage: 20,000 conntrack entries (a busy home router) over
// the 63 port sets of an OCN rule.
func BenchmarkCountUsage(b *testing.B) {
	var sets []PortRange
	for i := 1; i <= 63; i++ {
		lo := uint16(i<<10 | 5<<4)
		sets = append(sets, PortRange{Lo: lo, Hi: lo + 15})
	}
	flows := make([]Flow, 20000)
	for i := range flows {
		s := sets[i%len(sets)]
		flows[i] = Flow{Proto: []uint8{ProtoTCP, ProtoUDP}[i%2], ReplyDst: seedIPv4, ReplyDstPort: s.Lo + uint16(i%16)}
	}
	b.ResetTimer()
	for b.Loop() {
		CountUsage(flows, seedIPv4, sets)
	}
}

// TestRealPorts: with option vrange, virtual ports of the interface's
// address become the real ports they stand for, on the reply side
// (outbound) and the original side (inbound); other addresses, ICMP and
// ports beyond the virtual range stay as they are.
func TestRealPorts(t *testing.T) {
	sets := []PortRange{{Lo: 4112, Hi: 4127}, {Lo: 8208, Hi: 8223}}
	a, other, lan := netip.MustParseAddr("14.8.52.86"), netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.168.1.2")
	in := []Flow{
		{Proto: ProtoTCP, ReplyDst: a, ReplyDstPort: 1, OrigSrc: lan, OrigDst: other, OrigDstPort: 443},
		{Proto: ProtoUDP, ReplyDst: a, ReplyDstPort: 17, OrigSrc: lan, OrigDst: other, OrigDstPort: 53},
		{Proto: ProtoTCP, ReplyDst: lan, ReplyDstPort: 4113, OrigSrc: other, OrigDst: a, OrigDstPort: 2},
		{Proto: ProtoICMP, ReplyDst: a, ReplyDstPort: 3},
		{Proto: ProtoTCP, ReplyDst: a, ReplyDstPort: 33},
		{Proto: ProtoTCP, ReplyDst: other, ReplyDstPort: 1},
	}
	want := []Flow{
		{Proto: ProtoTCP, ReplyDst: a, ReplyDstPort: 4112, OrigSrc: lan, OrigDst: other, OrigDstPort: 443},
		{Proto: ProtoUDP, ReplyDst: a, ReplyDstPort: 8208, OrigSrc: lan, OrigDst: other, OrigDstPort: 53},
		{Proto: ProtoTCP, ReplyDst: lan, ReplyDstPort: 4113, OrigSrc: other, OrigDst: a, OrigDstPort: 4113},
		{Proto: ProtoICMP, ReplyDst: a, ReplyDstPort: 3},
		{Proto: ProtoTCP, ReplyDst: a, ReplyDstPort: 33},
		{Proto: ProtoTCP, ReplyDst: other, ReplyDstPort: 1},
	}
	got := RealPorts(in, "14.8.52.86", sets)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RealPorts =\n%v\nwant\n%v", got, want)
	}
	if in[0].ReplyDstPort != 1 {
		t.Error("RealPorts changed its input")
	}
	u := CountUsage(got, a, sets)
	if u.Sets[0].TCP != 1 || u.Sets[1].UDP != 1 {
		t.Errorf("usage after RealPorts: %+v", u.Sets)
	}
}
