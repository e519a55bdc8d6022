package status

import (
	"net/netip"
	"reflect"
	"testing"
)

// snat is an outbound flow of host through our SNAT: it holds NAT port
// port of the shared IPv4.
func snat(proto uint8, host string, port uint16) Flow {
	return Flow{Proto: proto, OrigSrc: netip.MustParseAddr(host), OrigDst: netip.MustParseAddr("198.51.100.1"), OrigDstPort: 443,
		ReplyDst: seedIPv4, ReplyDstPort: port}
}

// dnat is an inbound flow to external port port, forwarded to a LAN host:
// its reply goes to the remote end, not to our IPv4.
func dnat(proto uint8, port uint16) Flow {
	return Flow{Proto: proto, OrigSrc: netip.MustParseAddr("198.51.100.7"), OrigDst: seedIPv4, OrigDstPort: port,
		ReplyDst: netip.MustParseAddr("198.51.100.7"), ReplyDstPort: 50000}
}

func TestComputeFree(t *testing.T) {
	two := []PortRange{{Lo: 6016, Hi: 6031}, {Lo: 10112, Hi: 10127}}
	tests := []struct {
		name     string
		sets     []PortRange
		flows    []Flow
		reserved []PortRange
		n        int
		perSet   []int
		total    int
		suggest  []uint16
	}{
		{name: "nothing used: first port of each set, then the second", sets: two, n: 4,
			perSet: []int{16, 16}, total: 32, suggest: []uint16{6016, 10112, 6017, 10113}},
		{name: "a TCP flow and a UDP flow each take their port for both protocols", sets: two, n: 2,
			flows:  []Flow{snat(ProtoTCP, "192.168.1.10", 6016), snat(ProtoUDP, "192.168.1.11", 10112)},
			perSet: []int{15, 15}, total: 30, suggest: []uint16{6017, 10113}},
		{name: "an inbound forward's port is taken; its reply port on the remote side is not ours", sets: two, n: 3,
			flows:  []Flow{dnat(ProtoTCP, 6016), dnat(ProtoUDP, 6017)},
			perSet: []int{14, 16}, total: 30, suggest: []uint16{6018, 10112, 6019}},
		{name: "flows of another address and ICMP take nothing", sets: two, n: 2,
			flows: []Flow{{Proto: ProtoTCP, ReplyDst: netip.MustParseAddr("14.8.52.87"), ReplyDstPort: 6016},
				{Proto: ProtoICMP, ReplyDst: seedIPv4}},
			perSet: []int{16, 16}, total: 32, suggest: []uint16{6016, 10112}},
		{name: "fw4 forwards and UPnP leases are reserved", sets: two, n: 2,
			reserved: []PortRange{{Lo: 6016, Hi: 6020}, {Lo: 10112, Hi: 10112}},
			perSet:   []int{11, 15}, total: 26, suggest: []uint16{6021, 10113}},
		{name: "a full set is skipped, the others still suggest", sets: two, n: 3,
			reserved: []PortRange{{Lo: 6016, Hi: 6031}},
			perSet:   []int{0, 16}, total: 16, suggest: []uint16{10112, 10113, 10114}},
		{name: "more suggestions asked than free", sets: []PortRange{{Lo: 100, Hi: 101}}, n: 8,
			perSet: []int{2}, total: 2, suggest: []uint16{100, 101}},
		{name: "every port taken", sets: []PortRange{{Lo: 100, Hi: 100}}, n: 8, flows: []Flow{dnat(ProtoUDP, 100)},
			perSet: []int{0}, total: 0, suggest: []uint16{}},
		{name: "no sets", n: 8, perSet: []int{}, suggest: []uint16{}},
		{name: "the 15 v6plus sets: one suggestion from each of the first 8", sets: v6plusSets(), n: 8,
			flows:  []Flow{snat(ProtoTCP, "192.168.1.10", 6016)},
			perSet: []int{15, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16}, total: 239,
			suggest: []uint16{6017, 10112, 14208, 18304, 22400, 26496, 30592, 34688}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taken := UsedPorts(tt.flows, seedIPv4)
			for _, r := range tt.reserved {
				taken.AddRange(r)
			}
			fp := ComputeFree(tt.sets, taken, tt.n)
			per := make([]int, len(fp.Sets))
			for i, s := range fp.Sets {
				per[i] = s.Free
				if s.Set != tt.sets[i] {
					t.Errorf("set %d = %v, want %v", i, s.Set, tt.sets[i])
				}
			}
			if !reflect.DeepEqual(per, tt.perSet) || fp.Total != tt.total || !reflect.DeepEqual(fp.Suggestions, tt.suggest) {
				t.Errorf("free per set %v total %d suggestions %v; want %v %d %v", per, fp.Total, fp.Suggestions, tt.perSet, tt.total, tt.suggest)
			}
		})
	}
}

func TestCountHosts(t *testing.T) {
	tests := []struct {
		name  string
		flows []Flow
		top   int
		want  LANHosts
	}{
		{name: "no flows", top: 10, want: LANHosts{Top: []HostPorts{}}},
		{name: "flows sharing a NAT port hold one port; the same number in TCP and UDP two", top: 10,
			flows: []Flow{snat(ProtoTCP, "192.168.1.10", 6016), snat(ProtoTCP, "192.168.1.10", 6016),
				snat(ProtoUDP, "192.168.1.10", 6016), snat(ProtoTCP, "192.168.1.10", 6017)},
			want: LANHosts{Total: 1, Top: []HostPorts{{Address: "192.168.1.10", TCP: 2, UDP: 1, Flows: 4}}}},
		{name: "busiest first; ties by flows, then by address as a number", top: 10,
			flows: []Flow{snat(ProtoUDP, "192.168.1.9", 6016), snat(ProtoUDP, "192.168.1.10", 6017),
				snat(ProtoTCP, "192.168.1.2", 6018), snat(ProtoTCP, "192.168.1.2", 6018),
				snat(ProtoTCP, "192.168.1.3", 6019), snat(ProtoTCP, "192.168.1.3", 6020)},
			want: LANHosts{Total: 4, Top: []HostPorts{{Address: "192.168.1.3", TCP: 2, Flows: 2},
				{Address: "192.168.1.2", TCP: 1, Flows: 2}, {Address: "192.168.1.9", UDP: 1, Flows: 1},
				{Address: "192.168.1.10", UDP: 1, Flows: 1}}}},
		{name: "top N cuts the list, Total counts every host", top: 1,
			flows: []Flow{snat(ProtoTCP, "192.168.1.2", 6018), snat(ProtoTCP, "192.168.1.3", 6019), snat(ProtoTCP, "192.168.1.3", 6020)},
			want:  LANHosts{Total: 2, Top: []HostPorts{{Address: "192.168.1.3", TCP: 2, Flows: 2}}}},
		{name: "the router's own flows are listed under our IPv4", top: 10,
			flows: []Flow{snat(ProtoTCP, "14.8.52.86", 6017)},
			want:  LANHosts{Total: 1, Top: []HostPorts{{Address: "14.8.52.86", TCP: 1, Flows: 1}}}},
		{name: "not held: inbound forwards, other addresses, ICMP", top: 10,
			flows: []Flow{dnat(ProtoTCP, 6016),
				{Proto: ProtoTCP, OrigSrc: netip.MustParseAddr("192.168.1.10"), ReplyDst: netip.MustParseAddr("14.8.52.87"), ReplyDstPort: 6018},
				{Proto: ProtoICMP, OrigSrc: netip.MustParseAddr("192.168.1.10"), ReplyDst: seedIPv4}},
			want: LANHosts{Top: []HostPorts{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CountHosts(tt.flows, seedIPv4, tt.top)
			for i := range got.Top {
				got.Top[i].addr = 0
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CountHosts = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseUPnPLeases(t *testing.T) {
	in := "TCP:6020:192.168.1.10:6020:1764800000:Xbox\nUDP:10115:192.168.1.10:3074:0:game:with:colons\n" +
		"ICMP:1:192.168.1.2:1:0:x\nTCP:notaport:1.2.3.4:5:0:x\nTCP:0:1.2.3.4:5:0:x\n\ngarbage\n"
	want := []PortRange{{Lo: 6020, Hi: 6020}, {Lo: 10115, Hi: 10115}}
	if got := ParseUPnPLeases(in); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseUPnPLeases = %v, want %v", got, want)
	}
}
