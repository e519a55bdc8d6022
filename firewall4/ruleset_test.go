package firewall4

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/mapcalc"
)

// seedSets are the 15 port sets of the v6plus seed (PSID 120):
// set i = (i<<12)|(120<<4) … +15, i = 1..15.
func seedSets() []mapcalc.PortRange {
	var s []mapcalc.PortRange
	for i := 1; i <= 15; i++ {
		lo := uint16(i<<12 | 120<<4)
		s = append(s, mapcalc.PortRange{Lo: lo, Hi: lo + 15})
	}
	return s
}

// ocnSets are 63 sets of 16 (offset 6, psidlen 6, PSID 5).
func ocnSets() []mapcalc.PortRange {
	var s []mapcalc.PortRange
	for i := 1; i <= 63; i++ {
		lo := uint16(i<<10 | 5<<4)
		s = append(s, mapcalc.PortRange{Lo: lo, Hi: lo + 15})
	}
	return s
}

func seedConfig() Config {
	return Config{Interface: "wan_mape", Tunnel: "map-wan_mape", IPv4: netip.MustParseAddr("14.8.52.86"), PortSets: seedSets(), MTU: 1460}
}

func TestRenderSeed(t *testing.T) {
	rs, err := New(seedConfig())
	if err != nil {
		t.Fatal(err)
	}
	got := rs.Render()
	for _, want := range []string{
		"table ip mapehelper_wan_mape {\n",
		"\tset occ_0 {\n\t\ttype inet_proto . ipv4_addr . inet_service\n\t\tsize 65535\n\t\tflags dynamic\n\t}\n",
		"\t\tmeta l4proto { icmp, tcp, udp } snat to 14.8.52.86:6016-6031\n\t}\n",
		"\tchain set_14 {\n\t\tadd @eim_14 { meta l4proto . ip saddr . udp sport ct count over 0 }\n\t\tmeta l4proto { icmp, tcp, udp } snat to 14.8.52.86:63360-63375\n\t}\n",
		"\tchain try_3 {\n" +
			"\t\tmeta l4proto != icmp add @occ_3 { meta l4proto . ip daddr . th dport ct count over 16 } return\n" +
			"\t\tmeta l4proto icmp add @occ_3 { meta l4proto . ip daddr . 0 ct count over 16 } return\n" +
			"\t\tgoto set_3\n\t}\n",
		"\tchain walk {\n\t\tjump try_0\n\t\tjump try_1\n",
		"\t\tjump try_14\n\t}\n",
		"type nat hook postrouting priority srcnat - 1; policy accept;",
		// Endpoint-independent mapping (issue 13): a UDP flow tries first
		// the sets its LAN endpoint already has a flow in, then its source
		// port's set, then the set numgen picks (TCP: numgen's set).
		"\tset eim_14 {\n\t\ttype inet_proto . ipv4_addr . inet_service\n\t\tsize 65535\n\t\tflags dynamic\n\t}\n",
		"\tchain set_0 {\n\t\tadd @eim_0 { meta l4proto . ip saddr . udp sport ct count over 0 }\n",
		"\tchain eim {\n\t\tmeta l4proto . ip saddr . udp sport @eim_0 jump try_0\n",
		"\t\tmeta l4proto . ip saddr . udp sport @eim_14 jump try_14\n\t}\n",
		"\t\toifname \"map-wan_mape\" meta l4proto udp jump eim\n" +
			"\t\toifname \"map-wan_mape\" udp sport vmap { 6016-6031 : jump try_0, 10112-10127 : jump try_1,",
		"63360-63375 : jump try_14 }\n\t\toifname \"map-wan_mape\" meta l4proto { icmp, tcp, udp } numgen inc mod 15 vmap { 0 : jump try_0, 1 : jump try_1,",
		"14 : jump try_14 }\n\t\toifname \"map-wan_mape\" meta l4proto { icmp, tcp, udp } jump walk\n" +
			"\t\toifname \"map-wan_mape\" meta l4proto { icmp, tcp, udp } numgen inc mod 15 vmap { 0 : jump set_0,",
		"14 : jump set_14 }\n\t}\n",
		"type filter hook forward priority mangle; policy accept;",
		`iifname "map-wan_mape" tcp flags syn / syn,rst tcp option maxseg size > 1420 tcp option maxseg size set 1420`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("render lacks %q\n%s", want, got)
		}
	}
	for what, want := range map[string]int{"snat to": 15, "set occ_": 15, "set eim_": 15, "ct count over 0 }": 15, "chain try_": 15, "} return": 30, "goto set_": 15, "jump walk": 1,
		"\tchain guard {\n\t\ttype filter hook postrouting priority srcnat + 1; policy accept;\n\t\toifname \"map-wan_mape\" ip saddr != 14.8.52.86 drop\n\t}\n": 1} {
		if n := strings.Count(got, what); n != want {
			t.Errorf("%d × %q, want %d", n, what, want)
		}
	}
	chains := rs.Chains()
	for i, want := range map[int]string{0: "set_0", 14: "set_14", 15: "try_0", 29: "try_14", 30: "walk", 31: "eim", 32: "srcnat", 33: "mss", 34: "guard"} { // the order nft lists
		if len(chains) != 35 || chains[i] != want {
			t.Errorf("chains %v: want %s at %d of 35", chains, want, i)
		}
	}
	inc := rs.Include()
	if !strings.Contains(inc, "table ip mapehelper_wan_mape\nflush table ip mapehelper_wan_mape\ntable ip mapehelper_wan_mape {\n") {
		t.Errorf("include lacks the add-flush-declare preamble:\n%s", inc)
	}
}

func TestRenderEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
		not  []string
	}{
		{"no mss", func(c *Config) { c.MTU = 0 }, []string{"srcnat"}, []string{"chain mss", "maxseg"}},
		// One set: nowhere else to send a connection, so nothing is counted.
		{"single port", func(c *Config) { c.PortSets = []mapcalc.PortRange{{Lo: 5000, Hi: 5000}} },
			[]string{"snat to 14.8.52.86:5000\n", `"map-wan_mape" numgen inc mod 1 vmap { 0 : jump set_0 }`}, []string{"occ_", "walk", "try_", "eim"}},
		{"no port sets", func(c *Config) { c.PortSets = nil },
			[]string{"snat to 14.8.52.86\n", `"map-wan_mape" numgen inc mod 1 vmap { 0 : jump set_0 }`}, []string{"14.8.52.86:", "occ_", "walk"}},
		// Each set is full at its own size.
		{"uneven sets", func(c *Config) { c.PortSets = []mapcalc.PortRange{{Lo: 5000, Hi: 5000}, {Lo: 6000, Hi: 6003}} },
			[]string{"@occ_0 { meta l4proto . ip daddr . th dport ct count over 1 } return", "@occ_1 { meta l4proto . ip daddr . 0 ct count over 4 } return",
				"snat to 14.8.52.86:5000\n", "snat to 14.8.52.86:6000-6003\n", "udp sport vmap { 5000 : jump try_0, 6000-6003 : jump try_1 }",
				"numgen inc mod 2 vmap { 0 : jump try_0, 1 : jump try_1 }",
				"numgen inc mod 2 vmap { 0 : jump set_0, 1 : jump set_1 }"}, nil},
		{"ocn", func(c *Config) { c.PortSets = ocnSets() }, []string{"mod 63 vmap", "62 : jump try_62 }", "64592-64607 : jump try_62 }", "62 : jump set_62 }", "set occ_62 {", "goto set_62\n\t}\n", "jump try_62\n\t}\n"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := seedConfig()
			tc.mod(&c)
			rs, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			got := rs.Render()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("has %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"empty interface", func(c *Config) { c.Interface = "" }, "interface name"},
		{"quote in interface", func(c *Config) { c.Interface = `a"b` }, "interface name"},
		{"long tunnel", func(c *Config) { c.Tunnel = "map-0123456789ab" }, "tunnel name"},
		{"space in tunnel", func(c *Config) { c.Tunnel = "map wan" }, "tunnel name"},
		{"ipv6 address", func(c *Config) { c.IPv4 = netip.MustParseAddr("2001:db8::1") }, "not IPv4"},
		{"no address", func(c *Config) { c.IPv4 = netip.Addr{} }, "not IPv4"},
		{"reversed set", func(c *Config) { c.PortSets = []mapcalc.PortRange{{Lo: 10, Hi: 5}} }, "empty"},
		{"port zero", func(c *Config) { c.PortSets = []mapcalc.PortRange{{Lo: 0, Hi: 5}} }, "port 0"},
		{"overlap", func(c *Config) { c.PortSets = []mapcalc.PortRange{{Lo: 10, Hi: 20}, {Lo: 20, Hi: 30}} }, "overlap"},
		{"tiny mtu", func(c *Config) { c.MTU = 100 }, "mtu"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := seedConfig()
			tc.mod(&c)
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// FuzzNew: any port-set list New accepts renders one SNAT rule and one
// vmap entry per set, every range ascending and inside 1-65535, and with
// two sets or more a count, a try chain and a walk step per set.
func FuzzNew(f *testing.F) {
	f.Add([]byte{0x17, 0x80, 0x17, 0x8f, 0x27, 0x80, 0x27, 0x8f}, uint16(1460))
	f.Add([]byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, mtu uint16) {
		var sets []mapcalc.PortRange
		for i := 0; i+3 < len(b) && len(sets) < 256; i += 4 {
			sets = append(sets, mapcalc.PortRange{Lo: uint16(b[i])<<8 | uint16(b[i+1]), Hi: uint16(b[i+2])<<8 | uint16(b[i+3])})
		}
		cfg := seedConfig()
		cfg.PortSets, cfg.MTU = sets, int(mtu)
		rs, err := New(cfg)
		if err != nil {
			return
		}
		out := rs.Render()
		if n := strings.Count(out, " snat to "); n != max(len(sets), 1) {
			t.Fatalf("%d snat rules for %d sets", n, len(sets))
		}
		entry := ": jump set_"
		if len(sets) > 1 {
			entry = ": jump try_"
			// Every set is counted, tried first by its own chain and
			// reachable from walk.
			for what, want := range map[string]int{"set occ_": len(sets), "set eim_": len(sets), "} return": 2 * len(sets), "\t\tjump try_": len(sets),
				"goto set_": len(sets), "@eim_": 2 * len(sets)} {
				if n := strings.Count(out, what); n != want {
					t.Fatalf("%d × %q for %d sets, want %d", n, what, len(sets), want)
				}
			}
		}
		entries := max(len(sets), 1) // numgen's
		if len(sets) > 1 {
			entries *= 2 // and the source port map's
		}
		if n := strings.Count(out, entry); n != entries {
			t.Fatalf("%d vmap entries for %d sets", n, len(sets))
		}
		if (rs.MSS != 0) != strings.Contains(out, "maxseg") {
			t.Fatalf("mss %d but render %v", rs.MSS, strings.Contains(out, "maxseg"))
		}
	})
}

// TestIncludeLeavesCountSetsUnsized guards kernel memory: a `size` on a
// dynamic set makes the kernel allocate its hash table for that many
// elements when the include is loaded (129 MB for OCN's 63 sets at 65535),
// so the loadable text must not carry one, while Render, which mirrors
// `nft list`, shows the element limit the kernel fills in.
func TestIncludeLeavesCountSetsUnsized(t *testing.T) {
	cfg := seedConfig()
	cfg.PortSets = ocnSets()
	rs, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inc := rs.Include()
	if n := strings.Count(inc, "set occ_"); n != len(cfg.PortSets) {
		t.Fatalf("include has %d count sets, want %d", n, len(cfg.PortSets))
	}
	if strings.Contains(inc, "\t\tsize ") {
		t.Fatalf("include sizes a count set (allocated up front on load):\n%s", inc)
	}
	if n := strings.Count(rs.Render(), "size 65535"); n != 2*len(cfg.PortSets) {
		t.Fatalf("Render shows %d element limits, want %d (one per count set occ_i and eim_i, as nft list prints)", n, 2*len(cfg.PortSets))
	}
}

// TestRenderVirtual: option vrange's table (Config.VirtualRange): the two
// port maps (virtual i → the i-th real port and back, five to a line as
// nft lists them), TCP/UDP SNAT into 1..240, ICMP per set, the rewrites on
// the way out and in, and none of the counting; with one port set there is
// nothing to make contiguous and the table is the plain one.
func TestRenderVirtual(t *testing.T) {
	cfg := seedConfig()
	cfg.VirtualRange = true
	rs, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := rs.Render()
	for _, want := range []string{
		"\tmap v2r {\n\t\ttype inet_service : inet_service\n\t\telements = { 1 : 6016, 2 : 6017, 3 : 6018, 4 : 6019, 5 : 6020,\n\t\t\t     6 : 6021,",
		"16 : 6031, 17 : 10112,", "240 : 63375 }\n\t}\n",
		"\tmap r2v {\n\t\ttype inet_service : inet_service\n\t\telements = { 6016 : 1, 6017 : 2,", "63375 : 240 }\n\t}\n",
		"\tchain set_0 {\n\t\tmeta l4proto icmp snat to 14.8.52.86:6016-6031\n\t}\n",
		"\tchain srcnat {\n\t\ttype nat hook postrouting priority srcnat - 1; policy accept;\n" +
			"\t\toifname \"map-wan_mape\" meta l4proto { tcp, udp } snat to 14.8.52.86:1-240\n" +
			"\t\toifname \"map-wan_mape\" meta l4proto icmp numgen inc mod 15 vmap { 0 : jump set_0,",
		"\tchain guard {\n\t\ttype filter hook postrouting priority srcnat + 1; policy accept;\n" +
			"\t\toifname \"map-wan_mape\" ip saddr != 14.8.52.86 drop\n" +
			"\t\toifname \"map-wan_mape\" tcp sport set tcp sport map @v2r\n" +
			"\t\toifname \"map-wan_mape\" udp sport set udp sport map @v2r\n\t}\n",
		"\tchain inbound {\n\t\ttype filter hook prerouting priority raw - 1; policy accept;\n" +
			"\t\tiifname \"map-wan_mape\" tcp dport set tcp dport map @r2v\n" +
			"\t\tiifname \"map-wan_mape\" udp dport set udp dport map @r2v\n\t}\n",
		"\tchain unsolicited {\n\t\ttype filter hook prerouting priority dstnat - 1; policy accept;\n" +
			"\t\tiifname \"map-wan_mape\" ct state new tcp dport set tcp dport map @v2r\n" +
			"\t\tiifname \"map-wan_mape\" ct state new udp dport set udp dport map @v2r\n\t}\n",
		"\tchain local {\n\t\ttype nat hook prerouting priority dstnat + 1; policy accept;\n" +
			"\t\tiifname \"map-wan_mape\" meta l4proto tcp dnat to 14.8.52.86:tcp dport\n" +
			"\t\tiifname \"map-wan_mape\" meta l4proto udp dnat to 14.8.52.86:udp dport\n\t}\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Render lacks %q", want)
		}
	}
	for _, not := range []string{"occ_", "eim", "try_", "walk", "ct count"} {
		if strings.Contains(got, not) {
			t.Errorf("Render has %q", not)
		}
	}
	// 240 pairs in each map, 15 vmap entries, the maps' two type lines.
	if n := strings.Count(got, " : "); n != 2*240+15+2 {
		t.Errorf("%d \" : \" (map pairs, vmap entries, map types), want %d", n, 2*240+15+2)
	}

	cfg.PortSets = cfg.PortSets[:1]
	one, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain := seedConfig()
	plain.PortSets = plain.PortSets[:1]
	want, err := New(plain)
	if err != nil {
		t.Fatal(err)
	}
	if one.Render() != want.Render() {
		t.Errorf("one port set with VirtualRange:\n%s\nwant the plain table:\n%s", one.Render(), want.Render())
	}
}

// FuzzNewVirtual: for any valid port sets, option vrange's maps pair
// virtual port i with the i-th real port (mapcalc.RealPort) and back, the
// TCP/UDP SNAT covers exactly 1..N, and every set keeps its ICMP SNAT.
func FuzzNewVirtual(f *testing.F) {
	f.Add([]byte{0x17, 0x80, 0x17, 0x8f, 0x27, 0x80, 0x27, 0x8f})
	f.Add([]byte{0x00, 0x01, 0x00, 0x01, 0xff, 0xf0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var sets []mapcalc.PortRange
		for i := 0; i+3 < len(b) && len(sets) < 64; i += 4 {
			sets = append(sets, mapcalc.PortRange{Lo: uint16(b[i])<<8 | uint16(b[i+1]), Hi: uint16(b[i+2])<<8 | uint16(b[i+3])})
		}
		cfg := seedConfig()
		cfg.PortSets, cfg.VirtualRange = sets, true
		rs, err := New(cfg)
		if err != nil || len(sets) < 2 {
			return
		}
		m := rs.built()
		if len(m.maps) != 2 {
			t.Fatalf("%d maps", len(m.maps))
		}
		n := int(mapcalc.VirtualRange(sets).Hi)
		v2r, r2v := m.maps[0], m.maps[1]
		if len(v2r.pairs) != n || len(r2v.pairs) != n {
			t.Fatalf("maps of %d and %d pairs for %d ports", len(v2r.pairs), len(r2v.pairs), n)
		}
		for i, kv := range v2r.pairs {
			if p, ok := mapcalc.RealPort(sets, kv[0]); !ok || p != kv[1] || int(kv[0]) != i+1 {
				t.Fatalf("v2r pair %d is %v, RealPort says %d, %v", i, kv, p, ok)
			}
			if back := r2v.pairs[i]; back != [2]uint16{kv[1], kv[0]} {
				t.Fatalf("r2v pair %d is %v, want %v", i, back, [2]uint16{kv[1], kv[0]})
			}
		}
		out := rs.Render()
		if !strings.Contains(out, fmt.Sprintf("snat to 14.8.52.86:1-%d\n", n)) && !(n == 1 && strings.Contains(out, "snat to 14.8.52.86:1\n")) {
			t.Fatalf("no SNAT into 1-%d", n)
		}
		if got := strings.Count(out, "meta l4proto icmp snat to "); got != len(sets) {
			t.Fatalf("%d ICMP SNAT rules for %d sets", got, len(sets))
		}
	})
}
