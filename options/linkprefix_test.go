package options

import (
	"errors"
	"testing"
)

// TestLinkPrefix: the hotplug script re-runs setup only when LinkPrefix's
// answer differs from the prefix in use, so reordered lists, a new
// address in the same /64 or a second prefix must give back the one in
// use, and a prefix that left (or was deprecated) must not.
func TestLinkPrefix(t *testing.T) {
	const (
		pd     = `{"address":"240b:12:3456:7800::","mask":56,"preferred":3600,"valid":7200}`
		pdDep  = `{"address":"240b:12:3456:7800::","mask":56,"preferred":0,"valid":7200}`
		pd2    = `{"address":"240b:12:abcd:ef00::","mask":56,"preferred":3600,"valid":7200}`
		addr   = `{"address":"240b:12:3456:7800:1234:5678:9abc:def0","mask":64,"preferred":3600,"valid":7200}`
		addr2  = `{"address":"240b:12:3456:7800::99","mask":64,"preferred":3600,"valid":7200}`
		other  = `{"address":"240b:12:3456:7801::1","mask":64}`
		ula    = `{"address":"fd00:1::1","mask":64}`
		noPref = `{"address":"240b:12:3456:7800::","mask":56}`
	)
	status := func(prefixes, addrs string) []byte {
		return []byte(`{"up":true,"ipv6-prefix":[` + prefixes + `],"ipv6-address":[` + addrs + `]}`)
	}
	for _, tc := range []struct {
		name, prefixes, addrs, used, want string
	}{
		{"first delegated prefix", pd + "," + pd2, addr, "", "240b:12:3456:7800::/56"},
		{"no delegation: the address's /64", "", addr, "", "240b:12:3456:7800::/64"},
		{"ULA skipped", "", ula + "," + addr, "", "240b:12:3456:7800::/64"},
		{"static, no lifetimes", noPref, "", "", "240b:12:3456:7800::/56"},
		{"in use, still first", pd, addr, "240b:12:3456:7800::/56", "240b:12:3456:7800::/56"},
		{"in use, lists reordered", pd2 + "," + pd, addr, "240b:12:3456:7800::/56", "240b:12:3456:7800::/56"},
		{"in use: a new address in the same /64 comes first", "", addr2 + "," + addr, "240b:12:3456:7800::/64", "240b:12:3456:7800::/64"},
		{"in use as a bare address (earlier versions)", "", addr2 + "," + addr, "240b:12:3456:7800:1234:5678:9abc:def0",
			"240b:12:3456:7800:1234:5678:9abc:def0"},
		{"in use, gone: the new one", pd2, addr, "240b:12:3456:7800::/56", "240b:12:abcd:ef00::/56"},
		{"in use, deprecated: the fresh one", pdDep + "," + pd2, "", "240b:12:3456:7800::/56", "240b:12:abcd:ef00::/56"},
		{"only a deprecated one", pdDep, "", "", "240b:12:3456:7800::/56"},
		{"another /64", "", other, "240b:12:3456:7800::/64", "240b:12:3456:7801::/64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LinkPrefix(status(tc.prefixes, tc.addrs), tc.used)
			if err != nil || got != tc.want {
				t.Fatalf("LinkPrefix = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := LinkPrefix(status(ula, ""), ""); !errors.Is(err, ErrNoLinkPrefix) {
		t.Errorf("no global prefix: %v", err)
	}
	if _, err := LinkPrefix([]byte(`{`), ""); err == nil {
		t.Error("broken JSON accepted")
	}
}
