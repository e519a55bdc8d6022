package ruletable

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/mapcalc"
)

func TestBuiltin(t *testing.T) {
	rules := Builtin()
	count := map[string]int{}
	for _, r := range rules {
		count[r.ISP]++
		if !r.Legacy || r.IP6Prefix.Bits()+r.EALen != 56 {
			t.Errorf("%s %s: legacy=%v, ip6prefixlen+ealen=%d (all tables delegate /56)", r.ISP, r.IP6Prefix, r.Legacy, r.IP6Prefix.Bits()+r.EALen)
		}
	}
	// Row counts of ../shared/context/jp-map-rules.csv.
	if count["v6plus"] != 8 || count["ipv6option"] != 64 || count["ocn"] != 155 {
		t.Errorf("rows per ISP = %v, want v6plus 8, ipv6option 64, ocn 155", count)
	}
}

// One prefix per table, resolved through the built-in table: the answers
// are the hand-computed vectors of mapcalc's tests.
func TestBuiltinLookup(t *testing.T) {
	tests := []struct{ in, isp, ipv4, ce, br string }{
		{"240b:12:3456:7800::/56", "v6plus", "14.8.52.86", "240b:12:3456:7800:e:834:5600:7800", "2404:9200:225:100::64"},
		{"240b:10:abcd:ef00::/56", "v6plus", "106.72.171.205", "240b:10:abcd:ef00:6a:48ab:cd00:ef00", "2404:9200:225:100::64"},
		{"2404:7a81:2345:6700::/56", "ipv6option", "133.201.35.69", "2404:7a81:2345:6700:85:c923:4500:6700", "2001:260:700:1::1:275"},
		{"2404:7a82:456:7800::/56", "ipv6option", "125.196.212.86", "2404:7a82:456:7800:7d:c4d4:5600:7800", "2001:260:700:1::1:275"},
		{"2400:4050:9234:5600::/56", "ocn", "153.242.72.209", "2400:4050:9234:5600:99:f248:d100:1600", "2001:380:a120::9"},
	}
	rules := Builtin()
	for _, tt := range tests {
		in := netip.MustParsePrefix(tt.in)
		r, err := mapcalc.Select(rules, in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		res, err := mapcalc.Compute(r, in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if r.ISP != tt.isp || res.IPv4.String() != tt.ipv4 || res.CE.String() != tt.ce || r.BR.String() != tt.br {
			t.Errorf("%s: %s %s %s %s, want %s %s %s %s", tt.in, r.ISP, res.IPv4, res.CE, r.BR, tt.isp, tt.ipv4, tt.ce, tt.br)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const hdr = "isp,br,ip6prefix,ip6prefixlen,ip4prefix,ip4prefixlen,ealen,psidlen,offset\n"
	for name, in := range map[string]string{
		"empty":         "",
		"bad header":    "isp,br\n",
		"no rows":       hdr,
		"bad br":        hdr + "x,1.2.3.4,240b:12::,32,14.8.0.0,16,24,8,4\n",
		"bad length":    hdr + "x,2001:db8::1,240b:12::,abc,14.8.0.0,16,24,8,4\n",
		"inconsistent":  hdr + "x,2001:db8::1,240b:12::,32,14.8.0.0,16,20,8,4\n",
		"short row":     hdr + "x,2001:db8::1,240b:12::,32\n",
		"v4 in v6 col":  hdr + "x,2001:db8::1,14.8.0.0,32,14.8.0.0,16,24,8,4\n",
		"empty isp":     hdr + ",2001:db8::1,240b:12::,32,14.8.0.0,16,24,8,4\n",
		"offset+k > 16": hdr + "x,2001:db8::1,240b:12::,32,14.8.0.0,16,24,8,12\n",
	} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !errors.Is(err, ErrTable) {
			t.Errorf("%s: error %v does not wrap ErrTable", name, err)
		}
	}
	_, err := Parse(strings.NewReader(hdr + "x,2001:db8::1,240b:12::,32,14.8.0.0,16,24,8,4\nx,bad,240b:12::,32,14.8.0.0,16,24,8,4\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error should name line 3: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(builtinCSV)
	f.Add("isp,br,ip6prefix,ip6prefixlen,ip4prefix,ip4prefixlen,ealen,psidlen,offset\nx,2001:db8::1,240b:12::,32,14.8.0.0,16,24,8,4\n")
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range rules {
			if err := mapcalc.Check(r); err != nil {
				t.Fatalf("accepted an invalid rule %+v: %v", r, err)
			}
		}
	})
}

func BenchmarkLookupAndCompute(b *testing.B) {
	rules := Builtin()
	in := netip.MustParsePrefix("2400:4050:9234:5600::/56")
	for b.Loop() {
		r, err := mapcalc.Select(rules, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mapcalc.Compute(r, in); err != nil {
			b.Fatal(err)
		}
	}
}
