package firewall4

import (
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
		"\tchain set_0 {\n\t\tmeta l4proto { icmp, tcp, udp } snat to 14.8.52.86:6016-6031\n\t}\n",
		"\tchain set_14 {\n\t\tmeta l4proto { icmp, tcp, udp } snat to 14.8.52.86:63360-63375\n\t}\n",
		"type nat hook postrouting priority srcnat - 1; policy accept;",
		`oifname "map-wan_mape" numgen inc mod 15 vmap { 0 : jump set_0, 1 : jump set_1,`,
		"14 : jump set_14 }\n",
		"type filter hook forward priority mangle; policy accept;",
		`iifname "map-wan_mape" tcp flags syn / syn,rst tcp option maxseg size > 1420 tcp option maxseg size set 1420`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("render lacks %q\n%s", want, got)
		}
	}
	if n := strings.Count(got, "snat to"); n != 15 {
		t.Errorf("%d snat rules, want one per port set (15)", n)
	}
	if want := []string{"set_0", "set_14", "srcnat", "mss"}; rs.Chains()[0] != want[0] || rs.Chains()[14] != want[1] || rs.Chains()[15] != want[2] || rs.Chains()[16] != want[3] {
		t.Errorf("chains %v", rs.Chains())
	}
	inc := rs.Include()
	if !strings.Contains(inc, "table ip mapehelper_wan_mape\ndelete table ip mapehelper_wan_mape\ntable ip mapehelper_wan_mape {\n") {
		t.Errorf("include lacks the add-delete-add preamble:\n%s", inc)
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
		{"single port", func(c *Config) { c.PortSets = []mapcalc.PortRange{{Lo: 5000, Hi: 5000}} },
			[]string{"snat to 14.8.52.86:5000\n", "numgen inc mod 1 vmap { 0 : jump set_0 }"}, nil},
		{"no port sets", func(c *Config) { c.PortSets = nil },
			[]string{"snat to 14.8.52.86\n", "numgen inc mod 1 vmap { 0 : jump set_0 }"}, []string{"14.8.52.86:"}},
		{"ocn", func(c *Config) { c.PortSets = ocnSets() }, []string{"mod 63 vmap", "62 : jump set_62 }"}, nil},
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
// vmap entry per set, every range ascending and inside 1-65535.
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
		if n := strings.Count(out, ": jump set_"); n != max(len(sets), 1) {
			t.Fatalf("%d vmap entries for %d sets", n, len(sets))
		}
		if (rs.MSS != 0) != strings.Contains(out, "maxseg") {
			t.Fatalf("mss %d but render %v", rs.MSS, strings.Contains(out, "maxseg"))
		}
	})
}
