package options

import (
	"encoding/json"
	"errors"
	"flag"
	"testing"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/ruletable"
)

func TestParseInput(t *testing.T) {
	good := map[string]string{
		"240b:12:3456:7800::/56":       "240b:12:3456:7800::/56",
		" 240b:12:3456:7800:1234::1 ":  "240b:12:3456:7800::/64",
		"240b:12:3456:7800:1234::1/64": "240b:12:3456:7800::/64",
		"240b:12:3456:7800:ffff::/60":  "240b:12:3456:7800::/60",
		"2400:4050:9234:5600::/56":     "2400:4050:9234:5600::/56",
	}
	for in, want := range good {
		p, err := ParseInput(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseInput(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "garbage", "10.0.0.1", "10.0.0.0/8", "::ffff:10.0.0.1", "fe80::1%eth0", "240b:12::/96", "240b:12::/129"} {
		if _, err := ParseInput(in); !errors.Is(err, mapcalc.ErrBadPrefix) {
			t.Errorf("ParseInput(%q) err = %v, want ErrBadPrefix", in, err)
		}
	}
}

func TestResolvePrecedence(t *testing.T) {
	table := ruletable.Builtin()
	seed, _ := ParseInput("240b:12:3456:7800::/56")
	explicit := Interface{Peeraddr: "2404:9200:225:100::64", IPAddr: "14.8.0.0", IP4PrefLen: SetInt(16), IP6Prefix: "240b:12::", IP6PrefLen: SetInt(32), EALen: SetInt(24), PSIDLen: SetInt(8), Offset: SetInt(4), LegacyMap: Bool{Value: true, Set: true}}
	tests := []struct {
		name       string
		o          Interface
		isp, ipv4  string
		ce         string
		br         string
		wantOffset int
	}{
		{"auto from table", Interface{}, "v6plus", "14.8.52.86", "240b:12:3456:7800:e:834:5600:7800", "2404:9200:225:100::64", 4},
		{"stock explicit options", explicit, "", "14.8.52.86", "240b:12:3456:7800:e:834:5600:7800", "2404:9200:225:100::64", 4},
		{"explicit, RFC layout", func() Interface { o := explicit; o.LegacyMap = Bool{}; return o }(), "", "14.8.52.86", "240b:12:3456:7800:0:e08:3456:78", "2404:9200:225:100::64", 4},
		{"rule string wins", Interface{Rule: "ipv6prefix=240b:12::,prefix6len=32,ipv4prefix=14.8.0.0,prefix4len=16,ealen=24,psidlen=8,offset=4,br=2001:db8::1", IPAddr: "1.2.3.4"}, "", "14.8.52.86", "240b:12:3456:7800:0:e08:3456:78", "2001:db8::1", 4},
		{"peeraddr overrides table", Interface{Peeraddr: "2001:db8::64"}, "v6plus", "14.8.52.86", "240b:12:3456:7800:e:834:5600:7800", "2001:db8::64", 4},
		{"ip6prefix with length", Interface{IP6Prefix: "240b:12::/32", IPAddr: "14.8.0.0", IP4PrefLen: SetInt(16), EALen: SetInt(24), LegacyMap: Bool{Value: true, Set: true}, Offset: SetInt(4)}, "", "14.8.52.86", "240b:12:3456:7800:e:834:5600:7800", "", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Resolve(tt.o, table, seed)
			if err != nil {
				t.Fatal(err)
			}
			br := ""
			if res.Rule.BR.IsValid() {
				br = res.Rule.BR.String()
			}
			if res.Rule.ISP != tt.isp || res.IPv4.String() != tt.ipv4 || res.CE.String() != tt.ce || br != tt.br || res.Rule.Offset != tt.wantOffset {
				t.Errorf("got isp=%q ipv4=%s ce=%s br=%s offset=%d", res.Rule.ISP, res.IPv4, res.CE, br, res.Rule.Offset)
			}
		})
	}
}

func TestResolveErrorsNameTheOption(t *testing.T) {
	table := ruletable.Builtin()
	seed, _ := ParseInput("240b:12:3456:7800::/56")
	tests := []struct {
		name   string
		o      Interface
		option string
		kind   error
	}{
		{"ipaddr missing", Interface{IP6Prefix: "240b:12::", IP6PrefLen: SetInt(32)}, "ipaddr", mapcalc.ErrInvalidRule},
		{"ip6prefix missing", Interface{IPAddr: "14.8.0.0"}, "ip6prefix", mapcalc.ErrInvalidRule},
		{"ip6prefix garbage", Interface{IP6Prefix: "nope", IP6PrefLen: SetInt(32), IPAddr: "14.8.0.0"}, "ip6prefix", mapcalc.ErrInvalidRule},
		{"ipaddr v6", Interface{IP6Prefix: "240b:12::", IP6PrefLen: SetInt(32), IPAddr: "::1"}, "ipaddr", mapcalc.ErrInvalidRule},
		{"ip6prefixlen missing", Interface{IP6Prefix: "240b:12::", IPAddr: "14.8.0.0"}, "ip6prefixlen", mapcalc.ErrInvalidRule},
		{"ealen inconsistent", Interface{IP6Prefix: "240b:12::", IP6PrefLen: SetInt(32), IPAddr: "14.8.0.0", IP4PrefLen: SetInt(16), EALen: SetInt(24), PSIDLen: SetInt(6)}, "ealen", mapcalc.ErrInconsistentRule},
		{"peeraddr v4", Interface{Peeraddr: "192.0.2.1"}, "peeraddr", mapcalc.ErrInvalidRule},
		{"negative offset", Interface{Offset: SetInt(-3)}, "offset", mapcalc.ErrInvalidRule},
		{"bad rule string", Interface{Rule: "ipv6prefix=x"}, "rule", mapcalc.ErrInvalidRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tt.o, table, seed)
			var oe *mapcalc.OptionError
			if !errors.As(err, &oe) || oe.Option != tt.option || !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v; want %v naming %q", err, tt.kind, tt.option)
			}
		})
	}
}

func TestNetifdJSONTypes(t *testing.T) {
	// netifd hands declared ints as numbers, others as strings; both work.
	var o Interface
	in := `{"proto":"map","peeraddr":"2404:9200:225:100::64","ipaddr":"14.8.0.0","ip4prefixlen":16,"ip6prefix":"240b:12::","ip6prefixlen":"32","ealen":24,"psidlen":"8","offset":4,"legacymap":"1","mtu":1460}`
	if err := json.Unmarshal([]byte(in), &o); err != nil {
		t.Fatal(err)
	}
	if o.IP4PrefLen != SetInt(16) || o.IP6PrefLen != SetInt(32) || !o.LegacyMap.Value || !o.LegacyMap.Set || o.MTU != SetInt(1460) || o.PSID.Set {
		t.Fatalf("decoded %+v", o)
	}
	for _, bad := range []string{`{"ealen":"x"}`, `{"legacymap":"maybe"}`, `{"mtu":1.5}`} {
		if err := json.Unmarshal([]byte(bad), &o); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestFlags(t *testing.T) {
	var o Interface
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	o.RegisterFlags(fs)
	if err := fs.Parse([]string{"--ealen", "24", "--legacymap", "--peeraddr", "2001:db8::1", "--ip4prefixlen=16"}); err != nil {
		t.Fatal(err)
	}
	if o.EALen != SetInt(24) || !o.LegacyMap.Value || o.Peeraddr != "2001:db8::1" || o.IP4PrefLen != SetInt(16) || o.PSIDLen.Set {
		t.Fatalf("parsed %+v", o)
	}
	if err := fs.Parse([]string{"--ealen", "x"}); err == nil {
		t.Fatal("--ealen x accepted")
	}
}

func BenchmarkResolveAuto(b *testing.B) {
	table := ruletable.Builtin()
	in, _ := ParseInput("2400:4050:9234:5600::/56")
	for b.Loop() {
		if _, err := Resolve(Interface{}, table, in); err != nil {
			b.Fatal(err)
		}
	}
}
