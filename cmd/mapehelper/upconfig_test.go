package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const uciNetwork = `
config interface 'wan6'
	option device 'eth1'
	option proto 'dhcpv6'

config interface 'wanmap'
	option proto 'mape'
	option tunlink 'wan6'

config interface 'stock'
	option proto 'map'
	option maptype 'map-e'
	option peeraddr '2404:9200:225:100::64'
	option ipaddr '14.8.0.0'
	option ip4prefixlen '16'
	option ip6prefix '240b:12::'
	option ip6prefixlen '32'
	option ealen '24'
	option psidlen '8'
	option offset '4'
	option legacymap '1'
	option tunlink 'wan6'
	option mtu '1452'

config interface 'broken'
	option proto 'mape'
	option tunlink 'wan6'
	option ealen 'twenty'
`

// up --config reads the interface from a UCI file, finds the tunlink's
// device, and lets flags override UCI.
func TestUpConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "network")
	if err := os.WriteFile(path, []byte(uciNetwork), 0o644); err != nil {
		t.Fatal(err)
	}
	const seed = "240b:12:3456:7800::/56"
	tests := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"minimal mape", []string{"--interface", "wanmap"}, 0, []string{"map-wanmap mode ip4ip6 local 240b:12:3456:7800:e:834:5600:7800 remote 2404:9200:225:100::64 dev eth1", "mtu 1460", "snat to 14.8.52.86:6016-6031"}},
		{"stock map section", []string{"--interface", "stock"}, 0, []string{"map-stock", "dev eth1", "mtu 1452", "snat to 14.8.52.86:63360-63375"}},
		{"flags win over UCI", []string{"--interface", "stock", "--mtu", "1400", "--link", "eth9"}, 0, []string{"mtu 1400", "dev eth9"}},
		{"bad option names it", []string{"--interface", "broken"}, 1, []string{"ealen"}},
		{"unknown section", []string{"--interface", "nope"}, 1, []string{"nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"up", "--dry-run", "--config", path, "--prefix", seed}, tt.args...)
			code, out, errs := runCLI(t, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errs)
			}
			for _, w := range tt.wants {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errs)
				}
			}
		})
	}
	if code, _, errs := runCLI(t, "up", "--dry-run", "--config", filepath.Join(t.TempDir(), "missing")); code != 2 || !strings.Contains(errs, "--interface") {
		t.Errorf("--config without --interface: exit %d %s", code, errs)
	}
}
