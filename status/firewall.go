package status

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/mapehelper/mapehelper/ucibridge"
)

// DefaultFirewallConfig is where fw4 keeps its redirects.
const DefaultFirewallConfig = "/etc/config/firewall"

// FirewallFile reads the `config redirect` sections of a UCI firewall
// file. A missing file means no redirects, not an error.
type FirewallFile struct{ Path string }

// Redirects parses the file and returns its IPv4 redirects.
func (f FirewallFile) Redirects() ([]Redirect, error) {
	p, err := ucibridge.Load(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("firewall config: %w", err)
	}
	return RedirectsFromUCI(p), nil
}

// RedirectsFromUCI turns each `config redirect` section into a Redirect,
// with fw4's defaults: enabled unless `enabled` is false, target DNAT.
// Redirects limited to IPv6 are left out: MAP-E carries IPv4 only.
func RedirectsFromUCI(p *ucibridge.Package) []Redirect {
	var out []Redirect
	for _, s := range p.SectionsOfType("redirect") {
		get := func(name string) string { v, _ := s.Get(name); return v }
		if fam := strings.ToLower(get("family")); fam == "ipv6" || fam == "inet6" {
			continue
		}
		name := get("name")
		if name == "" {
			name = p.Ref(s)
		}
		out = append(out, Redirect{
			Name:     name,
			Src:      get("src"),
			SrcDPort: get("src_dport"),
			Proto:    get("proto"),
			DestIP:   get("dest_ip"),
			DestPort: get("dest_port"),
			Target:   get("target"),
			Enabled:  !isFalse(get("enabled")),
		})
	}
	return out
}

// isFalse is UCI's notion of a false boolean; anything else, including
// an absent option, is true for `enabled`.
func isFalse(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "0", "false", "no", "off", "disabled":
		return true
	}
	return false
}
