package mapcalc

import (
	"errors"
	"net/netip"
	"testing"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

// Vectors worked out by hand from the rule definitions (bit positions
// written out in the comments), not by running this code.
func TestComputeVectors(t *testing.T) {
	v6plus12 := Rule{ISP: "v6plus", IP6Prefix: pfx("240b:12::/32"), IP4Prefix: pfx("14.8.0.0/16"), EALen: 24, PSIDLen: 8, Offset: 4, PSID: -1, BR: addr("2404:9200:225:100::64"), Legacy: true}
	tests := []struct {
		name        string
		rule        Rule
		in          string
		ce, ipv4    string
		psid        uint16
		sets        int
		ports       int
		first, last PortRange
	}{
		{
			// RFC 7597 Appendix A, example 1: EA bits 0x1234 → 192.0.2.18, PSID 0x34.
			name: "rfc7597-A1",
			rule: Rule{IP6Prefix: pfx("2001:db8::/40"), IP4Prefix: pfx("192.0.2.0/24"), EALen: 16, PSIDLen: 8, Offset: 6, PSID: -1},
			in:   "2001:db8:12:3400::/56", ce: "2001:db8:12:3400:0:c000:212:34", ipv4: "192.0.2.18", psid: 0x34,
			sets: 63, ports: 252, first: PortRange{1232, 1235}, last: PortRange{64720, 64723}, // 63<<10|0x34<<2
		},
		{
			// The seed from the NixOS write-up: EA 0x345678 → 14.8.52.86, PSID 0x78.
			name: "v6plus-seed", rule: v6plus12, in: "240b:12:3456:7800::/56",
			ce: "240b:12:3456:7800:e:834:5600:7800", ipv4: "14.8.52.86", psid: 120,
			sets: 15, ports: 240, first: PortRange{6016, 6031}, last: PortRange{63360, 63375},
		},
		{
			// A bare WAN address stands for its /64; same EA bits, same answer.
			name: "v6plus-/64-only", rule: v6plus12, in: "240b:12:3456:7801::/64",
			ce: "240b:12:3456:7801:e:834:5600:7800", ipv4: "14.8.52.86", psid: 120,
			sets: 15, ports: 240, first: PortRange{6016, 6031}, last: PortRange{63360, 63375},
		},
		{
			// v6plus 240b:10::/32 → 106.72.0.0/16: EA 0xabcdef → .171.205, PSID 0xef;
			// ports 1<<12|239<<4 = 7920 … 15<<12|239<<4 = 65264.
			name: "v6plus-240b:10", rule: Rule{ISP: "v6plus", IP6Prefix: pfx("240b:10::/32"), IP4Prefix: pfx("106.72.0.0/16"), EALen: 24, PSIDLen: 8, Offset: 4, PSID: -1, Legacy: true},
			in: "240b:10:abcd:ef00::/56", ce: "240b:10:abcd:ef00:6a:48ab:cd00:ef00", ipv4: "106.72.171.205", psid: 239,
			sets: 15, ports: 240, first: PortRange{7920, 7935}, last: PortRange{65264, 65279},
		},
		{
			// BIGLOBE /31: bit 31 = 1 (from 7a81), then 0x2345, 0x67 → EA 0x1234567;
			// IPv4 suffix (17 bits) 0x12345 → 133.201.35.69, PSID 0x67 = 103.
			name: "ipv6option-/31", rule: Rule{ISP: "ipv6option", IP6Prefix: pfx("2404:7a80::/31"), IP4Prefix: pfx("133.200.0.0/15"), EALen: 25, PSIDLen: 8, Offset: 4, PSID: -1, Legacy: true},
			in: "2404:7a81:2345:6700::/56", ce: "2404:7a81:2345:6700:85:c923:4500:6700", ipv4: "133.201.35.69", psid: 103,
			sets: 15, ports: 240, first: PortRange{5744, 5759}, last: PortRange{63088, 63103},
		},
		{
			// BIGLOBE /38: bits 38..47 of 0x0456 = 0x056, then 0x78 → EA 0x5678;
			// suffix (10 bits) 0x56 → 125.196.212.86, PSID 0x78.
			name: "ipv6option-/38", rule: Rule{ISP: "ipv6option", IP6Prefix: pfx("2404:7a82:400::/38"), IP4Prefix: pfx("125.196.212.0/22"), EALen: 18, PSIDLen: 8, Offset: 4, PSID: -1, Legacy: true},
			in: "2404:7a82:456:7800::/56", ce: "2404:7a82:456:7800:7d:c4d4:5600:7800", ipv4: "125.196.212.86", psid: 120,
			sets: 15, ports: 240, first: PortRange{6016, 6031}, last: PortRange{63360, 63375},
		},
		{
			// OCN /33: bits 33..47 of 0x9234 = 0x1234, then 0x56 → EA 0x123456;
			// suffix (17 bits) 0x48d1 → 153.242.72.209, PSID 0x16 = 22; a=6,k=6 → 63 sets of 16:
			// 1<<10|22<<4 = 1376 … 63<<10|22<<4 = 64864.
			name: "ocn-/33", rule: Rule{ISP: "ocn", IP6Prefix: pfx("2400:4050:8000::/33"), IP4Prefix: pfx("153.242.0.0/15"), EALen: 23, PSIDLen: 6, Offset: 6, PSID: -1, Legacy: true},
			in: "2400:4050:9234:5600::/56", ce: "2400:4050:9234:5600:99:f248:d100:1600", ipv4: "153.242.72.209", psid: 22,
			sets: 63, ports: 1008, first: PortRange{1376, 1391}, last: PortRange{64864, 64879},
		},
		{
			// ip4prefixlen 32: the EA bits carry only the PSID (0xab); a=6, m=2.
			name: "ip4-/32-psid-only", rule: Rule{IP6Prefix: pfx("2001:db8::/48"), IP4Prefix: pfx("198.51.100.7/32"), EALen: 8, PSIDLen: -1, Offset: -1, PSID: -1},
			in: "2001:db8:0:ab00::/56", ce: "2001:db8:0:ab00:0:c633:6407:ab", ipv4: "198.51.100.7", psid: 0xab,
			sets: 63, ports: 252, first: PortRange{1708, 1711}, last: PortRange{65196, 65199},
		},
		{
			// lw4o6: explicit address and PSID, no EA bits, offset 0: one range 0x34<<8 … +255.
			name: "lw4o6", rule: Rule{Type: TypeLW4O6, IP6Prefix: pfx("2001:db8::/32"), IP4Prefix: pfx("192.0.2.1/32"), EALen: 0, PSIDLen: 8, Offset: -1, PSID: 0x34},
			in: "2001:db8:1:2::/64", ce: "2001:db8:1:2:0:c000:201:34", ipv4: "192.0.2.1", psid: 0x34,
			sets: 1, ports: 256, first: PortRange{13312, 13567}, last: PortRange{13312, 13567},
		},
		{
			// EA length 0, no sharing: every port but the well-known block (a=6).
			name: "ealen-0-no-sharing", rule: Rule{IP6Prefix: pfx("2001:db8::/32"), IP4Prefix: pfx("192.0.2.1/32"), EALen: 0, PSIDLen: -1, Offset: -1, PSID: -1},
			in: "2001:db8:1:2::/64", ce: "2001:db8:1:2:0:c000:201:0", ipv4: "192.0.2.1", psid: 0,
			sets: 1, ports: 64512, first: PortRange{1024, 65535}, last: PortRange{1024, 65535},
		},
		{
			// Explicit PSID with EA bits carrying only the IPv4 suffix (ealen 16).
			name: "explicit-psid", rule: Rule{IP6Prefix: pfx("2001:db8::/40"), IP4Prefix: pfx("192.0.2.0/24"), EALen: 8, PSIDLen: 8, Offset: 6, PSID: 0x34},
			in: "2001:db8:12::/48", ce: "2001:db8:12::c000:212:34", ipv4: "192.0.2.18", psid: 0x34,
			sets: 63, ports: 252, first: PortRange{1232, 1235}, last: PortRange{64720, 64723},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Compute(tt.rule, pfx(tt.in))
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			if got := res.CE.String(); got != tt.ce {
				t.Errorf("CE = %s, want %s", got, tt.ce)
			}
			if got := res.IPv4.String(); got != tt.ipv4 {
				t.Errorf("IPv4 = %s, want %s", got, tt.ipv4)
			}
			if res.PSID != tt.psid {
				t.Errorf("PSID = %d, want %d", res.PSID, tt.psid)
			}
			if len(res.PortSets) != tt.sets || res.Ports() != tt.ports {
				t.Errorf("%d sets / %d ports, want %d / %d", len(res.PortSets), res.Ports(), tt.sets, tt.ports)
			}
			if len(res.PortSets) > 0 && (res.PortSets[0] != tt.first || res.PortSets[len(res.PortSets)-1] != tt.last) {
				t.Errorf("first/last set = %v/%v, want %v/%v", res.PortSets[0], res.PortSets[len(res.PortSets)-1], tt.first, tt.last)
			}
			t.Logf("%s: %s → CE %s IPv4 %s PSID %d, %d ports in %d sets (%v … %v)", tt.name, tt.in, res.CE, res.IPv4, res.PSID, res.Ports(), len(res.PortSets), tt.first, tt.last)
		})
	}
}

// RFC 7597 Appendix A, example 2: which PSID owns destination port 1232.
func TestPSIDOf(t *testing.T) {
	tests := []struct {
		a, k  int
		port  uint16
		psid  uint16
		owned bool
	}{
		{6, 8, 1232, 0x34, true},
		{4, 8, 6016, 120, true},
		{4, 8, 63375, 120, true},
		{4, 8, 4095, 0, false}, // A = 0 block
		{0, 8, 0, 0, false},    // port 0
		{6, 6, 64864, 22, true},
	}
	for _, tt := range tests {
		psid, ok := PSIDOf(tt.a, tt.k, tt.port)
		if psid != tt.psid || ok != tt.owned {
			t.Errorf("PSIDOf(%d,%d,%d) = %d,%v want %d,%v", tt.a, tt.k, tt.port, psid, ok, tt.psid, tt.owned)
		}
	}
}

// Properties over whole parameter spaces: every listed port maps back to
// its PSID; different PSIDs never share a port; all PSIDs together cover
// exactly the non-excluded port space.
func TestPortSetProperties(t *testing.T) {
	for _, a := range []int{0, 1, 4, 6, 8} {
		for _, k := range []int{0, 1, 4, 6, 8} {
			if a+k > 16 {
				continue
			}
			owner := make([]int, 65536)
			for i := range owner {
				owner[i] = -1
			}
			for psid := 0; psid < 1<<k; psid++ {
				for _, r := range PortSets(a, k, uint16(psid)) {
					for p := int(r.Lo); p <= int(r.Hi); p++ {
						if owner[p] >= 0 {
							t.Fatalf("a=%d k=%d: port %d in PSID %d and %d", a, k, p, owner[p], psid)
						}
						owner[p] = psid
						if got, ok := PSIDOf(a, k, uint16(p)); !ok || int(got) != psid {
							t.Fatalf("a=%d k=%d: port %d listed for PSID %d maps back to %d,%v", a, k, p, psid, got, ok)
						}
					}
				}
			}
			for p, o := range owner {
				_, owned := PSIDOf(a, k, uint16(p))
				if owned != (o >= 0) {
					t.Fatalf("a=%d k=%d: port %d owned=%v but listed=%v", a, k, p, owned, o >= 0)
				}
			}
		}
	}
}

func TestPortSetsMerged(t *testing.T) {
	sets := PortSets(6, 0, 0)
	if len(sets) != 1 || sets[0] != (PortRange{1024, 65535}) {
		t.Fatalf("no sharing: %v, want one range 1024-65535", sets)
	}
	sets = PortSets(0, 0, 0)
	if len(sets) != 1 || sets[0] != (PortRange{1, 65535}) {
		t.Fatalf("a=0 k=0: %v, want 1-65535", sets)
	}
}

func TestComputeErrors(t *testing.T) {
	good := Rule{IP6Prefix: pfx("240b:12::/32"), IP4Prefix: pfx("14.8.0.0/16"), EALen: 24, PSIDLen: 8, Offset: 4, PSID: -1, Legacy: true}
	with := func(f func(*Rule)) Rule { r := good; f(&r); return r }
	tests := []struct {
		name   string
		rule   Rule
		in     string
		kind   error
		option string
	}{
		{"ealen inconsistent", with(func(r *Rule) { r.EALen = 20 }), "240b:12:3456:7800::/56", ErrInconsistentRule, "ealen"},
		{"ealen too short for ipv4", with(func(r *Rule) { r.EALen = 12; r.PSIDLen = -1 }), "240b:12:3456:7800::/56", ErrInconsistentRule, "ealen"},
		{"offset+psidlen > 16", with(func(r *Rule) { r.Offset = 10 }), "240b:12:3456:7800::/56", ErrInconsistentRule, "offset"},
		{"psidlen > 16", with(func(r *Rule) { r.PSIDLen = 17 }), "240b:12:3456:7800::/56", ErrInconsistentRule, "psidlen"},
		{"psid too big", with(func(r *Rule) { r.PSID = 256 }), "240b:12:3456:7800::/56", ErrInconsistentRule, "psid"},
		{"prefix too short", good, "240b:12:3456::/48", ErrPrefixTooShort, "prefix"},
		{"prefix outside rule", good, "2001:db8::/56", ErrNoMatchingPrefix, "ip6prefix"},
		{"prefix longer than /64", good, "240b:12:3456:7800::/80", ErrBadPrefix, "prefix"},
		{"ipv4 as prefix", good, "10.0.0.0/8", ErrBadPrefix, "prefix"},
		{"unsupported type", with(func(r *Rule) { r.Type = "6rd" }), "240b:12:3456:7800::/56", ErrUnsupportedType, "type"},
		{"no ipv6 prefix", with(func(r *Rule) { r.IP6Prefix = netip.Prefix{} }), "240b:12:3456:7800::/56", ErrInvalidRule, "ip6prefix"},
		{"ipv4 br", with(func(r *Rule) { r.BR = addr("192.0.2.1") }), "240b:12:3456:7800::/56", ErrInvalidRule, "peeraddr"},
		{"ealen over 64 bits", with(func(r *Rule) { r.IP6Prefix = pfx("240b:12:3456::/48") }), "240b:12:3456:7800::/56", ErrInconsistentRule, "ealen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compute(tt.rule, pfx(tt.in))
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want kind %v", err, tt.kind)
			}
			var oe *OptionError
			if !errors.As(err, &oe) || oe.Option != tt.option || oe.Fix == "" {
				t.Fatalf("err = %#v, want OptionError naming %q with a fix", err, tt.option)
			}
		})
	}
}

func TestSelectLongestMatch(t *testing.T) {
	rules := []Rule{
		{ISP: "short", IP6Prefix: pfx("2404:7a80::/29")},
		{ISP: "long", IP6Prefix: pfx("2404:7a82:400::/38")},
		{ISP: "mid", IP6Prefix: pfx("2404:7a82::/32")},
	}
	for in, want := range map[string]string{
		"2404:7a82:456:7800::/56": "long",
		"2404:7a82:856:7800::/56": "mid",
		"2404:7a84::/56":          "short",
	} {
		r, err := Select(rules, pfx(in))
		if err != nil || r.ISP != want {
			t.Errorf("Select(%s) = %q, %v; want %q", in, r.ISP, err, want)
		}
	}
	if _, err := Select(rules, pfx("2001:db8::/56")); !errors.Is(err, ErrNoMatchingPrefix) {
		t.Errorf("no match: err = %v", err)
	}
	// A /30 user prefix cannot use a /38 rule, nor the /32.
	if r, err := Select(rules, pfx("2404:7a80::/30")); err != nil || r.ISP != "short" {
		t.Errorf("short input: %q, %v", r.ISP, err)
	}
}

func BenchmarkCompute(b *testing.B) {
	rule := Rule{IP6Prefix: pfx("2400:4050:8000::/33"), IP4Prefix: pfx("153.242.0.0/15"), EALen: 23, PSIDLen: 6, Offset: 6, PSID: -1, Legacy: true}
	in := pfx("2400:4050:9234:5600::/56")
	for b.Loop() {
		if _, err := Compute(rule, in); err != nil {
			b.Fatal(err)
		}
	}
}
