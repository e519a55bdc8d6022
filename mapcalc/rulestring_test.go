package mapcalc

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParseRuleString(t *testing.T) {
	const v6plus = "type=map-e,ipv6prefix=240b:12::,prefix6len=32,ipv4prefix=14.8.0.0,prefix4len=16,ealen=24,psidlen=8,offset=4,br=2404:9200:225:100::64"
	rules, err := ParseRuleString(v6plus + " fmr,type=map-e,ipv6prefix=2001:db8::,prefix6len=40,ipv4prefix=192.0.2.0,prefix4len=24,ealen=16,psidlen=8")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 {
		t.Fatalf("%d rules, want 2", len(rules))
	}
	want := Rule{Type: TypeMAPE, IP6Prefix: pfx("240b:12::/32"), IP4Prefix: pfx("14.8.0.0/16"), EALen: 24, PSIDLen: 8, Offset: 4, PSID: -1, BR: netip.MustParseAddr("2404:9200:225:100::64")}
	if rules[0] != want {
		t.Errorf("rule 0 = %+v\nwant %+v", rules[0], want)
	}
	if rules[1].Offset != -1 || rules[1].BR.IsValid() {
		t.Errorf("rule 1 defaults: %+v", rules[1])
	}
	if got := rules[0].String(); got != v6plus {
		t.Errorf("String() = %s\nwant       %s", got, v6plus)
	}
	// The parsed rule with the legacy layout computes the seed.
	r := rules[0]
	r.Legacy = true
	res, err := Compute(r, pfx("240b:12:3456:7800::/56"))
	if err != nil || res.IPv4.String() != "14.8.52.86" || res.PSID != 120 {
		t.Fatalf("compute from rule string: %v %v", res, err)
	}
	// Missing ealen: taken from the prefix length, as stock mapcalc does.
	rs, err := ParseRuleString("ipv6prefix=240b:12::,prefix6len=32,ipv4prefix=14.8.0.0,prefix4len=16,offset=4")
	if err != nil {
		t.Fatal(err)
	}
	res, err = Compute(rs[0], pfx("240b:12:3456:7800::/56"))
	if err != nil || res.Rule.EALen != 24 || res.Rule.PSIDLen != 8 {
		t.Fatalf("ealen from prefix: %+v %v", res, err)
	}
}

func TestParseRuleStringErrors(t *testing.T) {
	for _, s := range []string{
		"",
		"ipv6prefix=240b:12::,prefix6len=32", // no ipv4prefix
		"ipv4prefix=14.8.0.0,prefix4len=16",  // no ipv6prefix
		"ipv6prefix=240b:12::,prefix6len=32,ipv4prefix=14.8.0.0,bogus=1",  // unknown key
		"ipv6prefix=240b:12::,prefix6len=32,ipv4prefix=14.8.0.0,ealen=99", // out of range
		"ipv6prefix=14.8.0.0,prefix6len=32,ipv4prefix=14.8.0.0",           // wrong family
		"ipv6prefix=240b:12::,prefix6len=32,ipv4prefix=14.8.0.0,br=1.2.3.4",
		"type=6rd,ipv6prefix=240b:12::,prefix6len=32,ipv4prefix=14.8.0.0",
		string(make([]byte, MaxRuleString+1)),
	} {
		if _, err := ParseRuleString(s); err == nil {
			t.Errorf("ParseRuleString(%.60q) accepted", s)
		} else if !errors.Is(err, ErrInvalidRule) && !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("ParseRuleString(%.60q): untyped error %v", s, err)
		}
	}
}

// FuzzParseRuleString: no panic; accepted rules render to a string that
// parses back to the same rule; Compute on them never panics.
func FuzzParseRuleString(f *testing.F) {
	f.Add("type=map-e,ipv6prefix=240b:12::,prefix6len=32,ipv4prefix=14.8.0.0,prefix4len=16,ealen=24,psidlen=8,offset=4,br=2404:9200:225:100::64")
	f.Add("type=lw4o6,ipv6prefix=2001:db8::,prefix6len=32,ipv4prefix=192.0.2.1,psidlen=8,psid=52,ealen=0")
	f.Add("fmr,ipv6prefix=2001:db8::,prefix6len=40,ipv4prefix=192.0.2.0,prefix4len=24,ealen=16 x")
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := ParseRuleString(s)
		if err != nil {
			return
		}
		for _, r := range rules {
			back, err := ParseRuleString(r.String())
			if err != nil || len(back) != 1 || back[0] != r {
				t.Fatalf("round trip of %+v via %q: %+v, %v", r, r.String(), back, err)
			}
			_, _ = Compute(r, pfx("240b:12:3456:7800::/56"))
			_, _ = Compute(r, r.IP6Prefix)
		}
	})
}

// FuzzCompute: arbitrary rules and prefixes never panic, and every result
// is self-consistent (ports belong to the PSID, CE inside the prefix).
func FuzzCompute(f *testing.F) {
	f.Add([]byte{0x24, 0x0b, 0, 0x12, 0x34, 0x56, 0x78, 0}, uint8(32), uint8(16), uint8(24), int8(8), int8(4), int16(-1), uint8(56), true)
	f.Fuzz(func(t *testing.T, a6 []byte, p6, p4, ea uint8, k, off int8, psid int16, inLen uint8, legacy bool) {
		var b [16]byte
		copy(b[:], a6)
		in := netip.PrefixFrom(netip.AddrFrom16(b), int(inLen%129))
		rule := Rule{
			IP6Prefix: netip.PrefixFrom(netip.AddrFrom16(b), int(p6%129)),
			IP4Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{14, 8, 0, 0}), int(p4%33)),
			EALen:     int(ea % 60), PSIDLen: int(k), Offset: int(off), PSID: int(psid), Legacy: legacy,
		}
		res, err := Compute(rule, in)
		if err != nil {
			return
		}
		if !res.EndUser.Contains(res.CE) && res.EndUser.Bits() <= 64 {
			t.Fatalf("CE %s outside %s", res.CE, res.EndUser)
		}
		for _, pr := range res.PortSets {
			for _, p := range []uint16{pr.Lo, pr.Hi} {
				got, ok := PSIDOf(res.Rule.Offset, res.Rule.PSIDLen, p)
				if !ok || got != res.PSID {
					t.Fatalf("port %d maps to PSID %d,%v not %d (rule %+v)", p, got, ok, res.PSID, res.Rule)
				}
			}
		}
	})
}
