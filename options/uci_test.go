package options

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/ucibridge"
)

// uciTestdata is the UCI reader's sample /etc/config/network: a real
// router's file with a stock map section and a minimal mape one.
const uciTestdata = "../ucibridge/testdata/network"

func TestFromUCIStockMap(t *testing.T) {
	p, err := ucibridge.Load(uciTestdata)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromUCI(p, "WAN6MAPE")
	if err != nil {
		t.Fatal(err)
	}
	want := Interface{
		Name: "WAN6MAPE", Proto: "map", Type: "map-e", Tunlink: "wan6",
		Peeraddr: "2001:380:a120::9", IPAddr: "153.240.0.0", IP4PrefLen: SetInt(16),
		IP6Prefix: "2400:4050::", IP6PrefLen: SetInt(34), EALen: SetInt(22),
		PSIDLen: SetInt(6), Offset: SetInt(6), LegacyMap: Bool{Value: true, Set: true},
		MTU: SetInt(1460), EncapLimit: "ignore",
	}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestFromUCIMinimalMape(t *testing.T) {
	p, err := ucibridge.Load(uciTestdata)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromUCI(p, "wan_mape")
	if err != nil {
		t.Fatal(err)
	}
	want := Interface{Name: "wan_mape", Proto: "mape", Tunlink: "wan6", Zone: "wan"}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestInterfaceResolves feeds the stock plala section through the
// calculator: the OCN rule on a 2400:4050:1234:5600::/64 gives 63 sets.
func TestFromUCIResolves(t *testing.T) {
	p, err := ucibridge.Load(uciTestdata)
	if err != nil {
		t.Fatal(err)
	}
	o, err := FromUCI(p, "WAN6MAPE")
	if err != nil {
		t.Fatal(err)
	}
	in, err := ParseInput("2400:4050:1234:5600::/64")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(o, nil, in)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(r.PortSets) != 63 || r.Ports() != 1008 || r.Rule.BR.String() != "2001:380:a120::9" {
		t.Errorf("%d sets, %d ports, BR %v; want 63, 1008, 2001:380:a120::9", len(r.PortSets), r.Ports(), r.Rule.BR)
	}
}

func TestFromUCIMaptypeWins(t *testing.T) {
	p := mustParse(t, "config interface m\n option proto map\n option type map-t\n option maptype lw4o6\n")
	o, err := FromUCI(p, "m")
	if err != nil || o.Type != "lw4o6" {
		t.Fatalf("Type %q, err %v; want lw4o6", o.Type, err)
	}
}

func mustParse(t *testing.T, s string) *ucibridge.Package {
	t.Helper()
	p, err := ucibridge.Parse("/etc/config/network", strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromUCIRejections(t *testing.T) {
	head := "config interface 'wan'\n\toption proto 'dhcp'\n\nconfig interface 'm'\n\toption proto 'mape'\n"
	tests := []struct {
		name, extra string // extra starts on line 6 of section m
		ref         string
		kind        error
		msg         string
	}{
		{"missing section", "", "nope", ErrNoSection, "/etc/config/network: interface 'nope': no such section: expected a config interface 'nope' section with proto 'mape'"},
		{"other proto", "", "wan", ErrNotMAP, "/etc/config/network:2: interface 'wan' has proto 'dhcp': not a MAP interface: set option proto 'mape' (or the stock 'map')"},
		{"ealen not a number", "\toption ealen 'x'\n", "m", mapcalc.ErrInvalidRule,
			`/etc/config/network:6: interface 'm': option ealen 'x': "x" is not a whole number; set ealen to the EA-bits length, e.g. 24`},
		{"ealen too long", "\toption ealen '49'\n", "m", mapcalc.ErrInvalidRule, "option ealen '49': 49 is outside 0-48; set ealen"},
		{"negative psidlen", "\toption psidlen '-1'\n", "m", mapcalc.ErrInvalidRule, "option psidlen '-1': -1 is outside 0-16"},
		{"psid too big", "\toption psid '65536'\n", "m", mapcalc.ErrInvalidRule, "option psid '65536': 65536 is outside 0-65535"},
		{"offset too big", "\toption offset 16\n", "m", mapcalc.ErrInvalidRule, "option offset '16': 16 is outside 0-15"},
		{"ip4prefixlen", "\toption ip4prefixlen 33\n", "m", mapcalc.ErrInvalidRule, "option ip4prefixlen '33'"},
		{"ip6prefixlen", "\toption ip6prefixlen abc\n", "m", mapcalc.ErrInvalidRule, `option ip6prefixlen 'abc': "abc" is not a whole number`},
		{"mtu too small", "\toption mtu 576\n", "m", mapcalc.ErrInvalidRule, "option mtu '576': 576 is outside 1280-65535; set mtu"},
		{"ttl zero", "\toption ttl 0\n", "m", mapcalc.ErrInvalidRule, "option ttl '0': 0 is outside 1-255"},
		{"legacymap", "\toption legacymap maybe\n", "m", mapcalc.ErrInvalidRule, `option legacymap 'maybe': "maybe" is not a boolean (use 0 or 1); set legacymap to 1`},
		{"type", "\toption type 'dslite'\n", "m", mapcalc.ErrUnsupportedType, "option type 'dslite': not a MAP type; set type to map-e (the default), map-t or lw4o6"},
		{"maptype", "\toption maptype 'MAP-E'\n", "m", mapcalc.ErrUnsupportedType, "option maptype 'MAP-E': not a MAP type; set maptype"},
		{"peeraddr IPv4", "\toption peeraddr '192.0.2.1'\n", "m", mapcalc.ErrInvalidRule, "option peeraddr '192.0.2.1': not an IPv6 address; set peeraddr to the BR's IPv6 address"},
		{"ipaddr IPv6", "\toption ipaddr '2001:db8::'\n", "m", mapcalc.ErrInvalidRule, "option ipaddr '2001:db8::': not an IPv4 address"},
		{"ip6prefix", "\toption ip6prefix '240b:zz::'\n", "m", mapcalc.ErrInvalidRule, "option ip6prefix '240b:zz::': not an IPv6 prefix"},
		{"vrange", "\toption vrange 'sometimes'\n", "m", mapcalc.ErrInvalidRule, `option vrange 'sometimes': "sometimes" is not a boolean (use 0 or 1); set vrange to 1`},
		{"encaplimit", "\toption encaplimit 'lots'\n", "m", mapcalc.ErrInvalidRule, "option encaplimit 'lots': not a number from 0 to 255; set encaplimit to ignore"},
		{"a list for a number", "\tlist mtu 1460\n\tlist mtu 1500\n", "m", mapcalc.ErrInvalidRule, `/etc/config/network:7: interface 'm': option mtu '1460 1500': "1460 1500" is not a whole number`},
		{"quote in the value is shown escaped", "\toption ealen \"2'4\"\n", "m", mapcalc.ErrInvalidRule, `option ealen '2'\''4'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, head+tc.extra)
			_, err := FromUCI(p, tc.ref)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want kind %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %q\nwant it to contain %q", err, tc.msg)
			}
		})
	}
}

func TestFromUCINotAnInterface(t *testing.T) {
	p := mustParse(t, "config device 'd'\n\toption proto 'mape'\nconfig interface 'np'\n")
	if _, err := FromUCI(p, "d"); !errors.Is(err, ErrNotMAP) || !strings.Contains(err.Error(), ":1: section 'd' is a config device") {
		t.Errorf("device section: %v", err)
	}
	if _, err := FromUCI(p, "np"); !errors.Is(err, ErrNotMAP) || !strings.Contains(err.Error(), ":3: interface 'np' has no proto") {
		t.Errorf("no proto: %v", err)
	}
}

func TestFromUCIOptionErrorFields(t *testing.T) {
	p := mustParse(t, "config interface m\n option proto mape\n\n option ttl 300\n")
	_, err := FromUCI(p, "m")
	var oe *UCIError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v, want *UCIError", err)
	}
	want := UCIError{File: "/etc/config/network", Line: 4, Section: "m", Option: "ttl", Value: "300",
		Problem: "300 is outside 1-255", Fix: "set ttl to the tunnel hop limit (1-255), e.g. 64", Kind: mapcalc.ErrInvalidRule}
	if *oe != want {
		t.Errorf("got  %+v\nwant %+v", *oe, want)
	}
}

func TestFromUCIAnonymousAndIgnoredOptions(t *testing.T) {
	p := mustParse(t, "config interface\n option proto mape\n option metric 10\n option auto 0\n list dns 1.1.1.1\n option encaplimit 4\n option mtu 1500\n")
	if got := MapInterfaces(p); len(got) != 1 || got[0] != "@interface[0]" {
		t.Fatalf("MapInterfaces = %q", got)
	}
	o, err := FromUCI(p, "@interface[0]")
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "@interface[0]" || o.EncapLimit != "4" || o.MTU != SetInt(1500) {
		t.Errorf("%+v", o)
	}
}

func TestLoadUCI(t *testing.T) {
	o, err := LoadUCI(uciTestdata, "wan_mape")
	if err != nil || o.Tunlink != "wan6" {
		t.Fatalf("%+v, %v", o, err)
	}
	if _, err := LoadUCI("testdata/absent", "wan_mape"); err == nil || !strings.Contains(err.Error(), "read UCI file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestLinkDevice(t *testing.T) {
	p := mustParse(t, `
config interface 'wan'
	option device 'eth1'
config interface 'wan6'
	option device '@wan'
config interface 'old'
	option ifname 'eth0.2'
config interface 'nodev'
	option proto 'dhcpv6'
config interface 'loop1'
	option device '@loop2'
config interface 'loop2'
	option device '@loop1'
config interface 'bridge'
	option device 'br-lan eth3'
config device 'dev'
	option name 'x'
config interface 'dangling'
	option device '@nothere'
`)
	tests := []struct{ tunlink, want, err string }{
		{"wan", "eth1", ""},
		{"wan6", "eth1", ""},
		{"old", "eth0.2", ""},
		{"", "", "no tunlink: set option tunlink"},
		{"nodev", "", ":8: interface 'nodev' has no device: set option device, or pass --link"},
		{"loop1", "", "nest too deep"},
		{"bridge", "", "is not one Linux device name"},
		{"dev", "", "tunlink 'dev': no such section: expected a config interface 'dev' section"},
		{"dangling", "", "tunlink 'nothere': no such section"},
		{"missing", "", "tunlink 'missing': no such section"},
	}
	for _, tc := range tests {
		got, err := LinkDevice(p, tc.tunlink)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("LinkDevice(%q) = %q, %v; want %q", tc.tunlink, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("LinkDevice(%q) err = %v, want %q", tc.tunlink, err, tc.err)
		}
	}
	full, err := ucibridge.Load(uciTestdata)
	if err != nil {
		t.Fatal(err)
	}
	if dev, err := LinkDevice(full, "wan6"); dev != "wan" || err != nil {
		t.Errorf("fixture wan6 device = %q, %v; want wan", dev, err)
	}
}

func TestMapInterfacesInFile(t *testing.T) {
	p, err := ucibridge.Load(uciTestdata)
	if err != nil {
		t.Fatal(err)
	}
	if got := MapInterfaces(p); strings.Join(got, " ") != "WAN6MAPE wan_mape" {
		t.Errorf("MapInterfaces = %q", got)
	}
}

// BenchmarkParseAndMap reads /etc/config/network and maps the stock
// section, as `up --config` does.
func BenchmarkParseAndMap(b *testing.B) {
	data, err := os.ReadFile(uciTestdata)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := ucibridge.Parse("network", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := FromUCI(p, "WAN6MAPE"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzFromUCI maps every section of any file the UCI reader accepts: the
// mapping never panics, and every rejection says something.
func FuzzFromUCI(f *testing.F) {
	seed, err := os.ReadFile(uciTestdata)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("config interface m\n\toption proto mape\n\toption ttl 300\n"))
	f.Add([]byte("config interface m\n\toption proto map\n\toption maptype x\n\toption encaplimit 4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ucibridge.Parse("network", bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, s := range p.Sections {
			if _, err := FromUCI(p, p.Ref(s)); err != nil && err.Error() == "" {
				t.Fatal("empty error")
			}
			if s.Type == "interface" {
				if _, err := LinkDevice(p, p.Ref(s)); err != nil && err.Error() == "" {
					t.Fatal("empty error")
				}
			}
		}
	})
}
