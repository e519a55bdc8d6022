package status

import (
	"fmt"
	"strings"

	"github.com/mapehelper/mapehelper/mapcalc"
)

// Redirect is the part of one fw4 `config redirect` section that decides
// whether inbound traffic can ever reach it through the MAP tunnel.
type Redirect struct {
	Name     string `json:"name"`
	Src      string `json:"src"`       // source zone, e.g. "wan"
	SrcDPort string `json:"src_dport"` // external port or range; "" = every port
	Proto    string `json:"proto"`     // "tcp udp" (fw4's default), "tcp", "udp", "all", …
	DestIP   string `json:"dest_ip"`
	DestPort string `json:"dest_port"`
	Target   string `json:"target"` // "DNAT" (default) or "SNAT"
	Enabled  bool   `json:"enabled"`
}

// RedirectSource lists the firewall's redirects.
type RedirectSource interface {
	Redirects() ([]Redirect, error)
}

// Redirect verdicts.
const (
	Usable    = "usable"     // every external port lies in our port sets
	Partly    = "partly"     // some external ports do
	NotUsable = "not-usable" // none does: the ISP never delivers them to us
	Invalid   = "invalid"    // src_dport cannot be parsed
)

// RedirectCheck is the verdict on one port forward of our zone.
type RedirectCheck struct {
	Redirect
	Verdict string      `json:"verdict"`
	Usable  []PortRange `json:"usable_ports,omitempty"`
	Message string      `json:"message"`
}

// CheckRedirects judges every enabled DNAT redirect from zone against the
// port sets: with MAP-E the BR only forwards to this CE the ports of its
// own sets, so a forward of any other external port can never receive a
// packet, however correct the firewall rule is. sets must be sorted and
// disjoint.
func CheckRedirects(redirects []Redirect, zone string, sets []PortRange) []RedirectCheck {
	if zone == "" {
		zone = "wan"
	}
	var out []RedirectCheck
	for _, r := range redirects {
		if !r.Enabled || r.Src != zone {
			continue
		}
		if t := strings.ToUpper(r.Target); t != "" && t != "DNAT" {
			continue
		}
		if !carriesPorts(r.Proto) {
			continue // icmp-only and similar forwards have no port to check
		}
		out = append(out, checkOne(r, sets))
	}
	return out
}

func carriesPorts(proto string) bool {
	if strings.TrimSpace(proto) == "" {
		return true // fw4 defaults to tcp udp
	}
	for _, p := range strings.Fields(strings.ToLower(proto)) {
		switch p {
		case "tcp", "udp", "tcpudp", "all", "any", "*", "6", "17":
			return true
		}
	}
	return false
}

func checkOne(r Redirect, sets []PortRange) RedirectCheck {
	c := RedirectCheck{Redirect: r}
	want := PortRange{Lo: 1, Hi: 65535}
	if strings.TrimSpace(r.SrcDPort) != "" {
		p, err := mapcalc.ParsePortRange(r.SrcDPort)
		if err != nil {
			c.Verdict = Invalid
			c.Message = fmt.Sprintf("external port: %v", err)
			return c
		}
		want = p
	}
	c.Usable = intersect(want, sets)
	n := 0
	for _, u := range c.Usable {
		n += u.Len()
	}
	switch {
	case n == want.Len():
		c.Verdict = Usable
		c.Message = fmt.Sprintf("external port %s is in our port sets", want)
	case n == 0:
		c.Verdict = NotUsable
		c.Message = fmt.Sprintf("external port %s is outside our port sets: the ISP never delivers it to this router; pick an external port from the usable ports", want)
	default:
		c.Verdict = Partly
		c.Message = fmt.Sprintf("only %d of the %d external ports %s are in our port sets; the others never arrive", n, want.Len(), want)
	}
	return c
}

// intersect returns the parts of want that lie in sets.
func intersect(want PortRange, sets []PortRange) []PortRange {
	var out []PortRange
	for _, s := range sets {
		lo, hi := max(s.Lo, want.Lo), min(s.Hi, want.Hi)
		if lo <= hi {
			out = append(out, PortRange{Lo: lo, Hi: hi})
		}
	}
	return out
}

// RedirectList is a fixed list of redirects, for callers that read the
// firewall configuration themselves.
type RedirectList []Redirect

// Redirects returns the list.
func (l RedirectList) Redirects() ([]Redirect, error) { return l, nil }
