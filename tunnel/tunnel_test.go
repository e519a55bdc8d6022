package tunnel

import (
	_ "embed"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

func seed() Config {
	return Config{Name: "map-wan_mape", Owner: "wan_mape", Link: "wan0",
		Local:      netip.MustParseAddr("240b:12:3456:7800:e:834:5600:7800"),
		Remote:     netip.MustParseAddr("2404:9200:225:100::64"),
		EncapLimit: EncapIgnore, TTL: DefaultTTL, MTU: DefaultMTU,
		IPv4: netip.MustParseAddr("14.8.52.86"), Route: true}
}

// namesJSON is embedded so the test binaries cross-built for qemu-user and
// the VMs carry it.
//
//go:embed testdata/names.json
var namesJSON []byte

// TestDeviceName checks the naming rule against vectors computed outside
// Go (testdata/names.json, which LuCI's test reads too): names that fit
// keep map-<iface>, longer ones get a hash suffix, and the two OCN
// interfaces of the bug no longer share a device.
func TestDeviceName(t *testing.T) {
	var v struct{ Names map[string]string }
	if err := json.Unmarshal(namesJSON, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Names) < 8 {
		t.Fatalf("only %d vectors", len(v.Names))
	}
	seen := map[string]string{}
	for in, want := range v.Names {
		got := DeviceName(in)
		if got != want || len(got) > 15 {
			t.Errorf("DeviceName(%q) = %q, want %q", in, got, want)
		}
		if o, dup := seen[got]; dup {
			t.Errorf("%q and %q share the device %s", in, o, got)
		}
		seen[got] = in
	}
	if DeviceName("wan_mape_ocn1") == DeviceName("wan_mape_ocn2") {
		t.Error("wan_mape_ocn1 and wan_mape_ocn2 share a tunnel device")
	}
}

func TestOwner(t *testing.T) {
	for alias, want := range map[string]string{
		OwnerAlias("wan_mape"): "wan_mape", "": "", "uplink to the ISP": "", "mapehelper:": "",
	} {
		if got := OwnerOf(alias); got != want {
			t.Errorf("OwnerOf(%q) = %q, want %q", alias, got, want)
		}
	}
}

func TestParseEncapLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"", EncapIgnore, false}, {"ignore", EncapIgnore, false}, {"None", EncapIgnore, false},
		{"4", 4, false}, {"0", 0, false}, {"255", 255, false},
		{"256", 0, true}, {"-1", 0, true}, {"four", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseEncapLimit(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("ParseEncapLimit(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"seed", func(*Config) {}, ""},
		{"netifd mode", func(c *Config) { c.Route = false; c.IPv4 = netip.Addr{} }, ""},
		{"long name", func(c *Config) { c.Name = "map-0123456789ab" }, "tunnel name"},
		{"no link", func(c *Config) { c.Link = "" }, "link device"},
		{"ipv4 BR", func(c *Config) { c.Remote = netip.MustParseAddr("192.0.2.1") }, "BR address"},
		{"mapped BR", func(c *Config) { c.Remote = netip.MustParseAddr("::ffff:192.0.2.1") }, "BR address"},
		{"no CE", func(c *Config) { c.Local = netip.Addr{} }, "CE address"},
		{"ttl 0", func(c *Config) { c.TTL = 0 }, "ttl"},
		{"mtu small", func(c *Config) { c.MTU = 1000 }, "mtu"},
		{"encap", func(c *Config) { c.EncapLimit = 300 }, "encaplimit"},
		{"route without v4", func(c *Config) { c.IPv4 = netip.Addr{} }, "default route"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := seed()
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	got := seed().Describe()
	for _, want := range []string{
		"ip -6 tunnel add map-wan_mape mode ip4ip6 local 240b:12:3456:7800:e:834:5600:7800 remote 2404:9200:225:100::64 dev wan0 encaplimit none hoplimit 64\n",
		"ip link set map-wan_mape mtu 1460 up\n",
		"ip addr replace 14.8.52.86/32 dev map-wan_mape\n",
		"ip route replace default dev map-wan_mape src 14.8.52.86\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe lacks %q:\n%s", want, got)
		}
	}
}

// FuzzParseEncapLimit: the option parser never panics and accepts only
// EncapIgnore or 0-255.
func FuzzParseEncapLimit(f *testing.F) {
	for _, s := range []string{"", "ignore", "4", "255", "256", "-1", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseEncapLimit(s)
		if err == nil && (n < EncapIgnore || n > 255) {
			t.Fatalf("ParseEncapLimit(%q) = %d", s, n)
		}
	})
}
