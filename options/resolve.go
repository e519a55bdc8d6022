package options

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/mapehelper/mapehelper/mapcalc"
)

// ParseInput reads the user's IPv6 prefix: a delegated prefix such as
// 240b:12:3456:7800::/56, or a bare WAN address, which stands for its /64
// (so a line with a /64 and no prefix delegation works, where the stock
// package fails with "MAP rule invalid").
func ParseInput(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	bad := func(problem string) error {
		return &mapcalc.OptionError{Kind: mapcalc.ErrBadPrefix, Option: "prefix", Problem: problem,
			Fix: "give the delegated IPv6 prefix (e.g. 240b:12:3456:7800::/56) or the WAN IPv6 address"}
	}
	if s == "" {
		return netip.Prefix{}, bad("no prefix given")
	}
	if len(s) > 64 {
		return netip.Prefix{}, bad(fmt.Sprintf("%.20q… is too long for an IPv6 prefix", s))
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, bad(fmt.Sprintf("%q is not a prefix", s))
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, bad(fmt.Sprintf("%q is not an IPv6 address or prefix", s))
		}
		if a.Zone() != "" {
			return p, bad(fmt.Sprintf("%q has a zone; give a global address", s))
		}
		p = netip.PrefixFrom(a, 64)
		if a.Is4() {
			p = netip.PrefixFrom(a, 32)
		}
	}
	if !p.Addr().Is6() || p.Addr().Is4In6() {
		return p, bad(fmt.Sprintf("%s is IPv4; MAP needs the IPv6 prefix", s))
	}
	if p.Bits() > 64 {
		return p, bad(fmt.Sprintf("%s is longer than /64", s))
	}
	return p.Masked(), nil
}

// Resolve finds the basic mapping rule for the user's prefix in and
// computes the result. Precedence: the `rule` string (DHCPv6 or by hand),
// then explicit rule options (ip6prefix, ipaddr, …), then the table (the
// built-in ISP tables or the user's). Single options — peeraddr,
// legacymap, offset, psidlen, psid, type — override whatever rule was
// found, so a user can fix one value without writing the whole rule.
func Resolve(o Interface, table []mapcalc.Rule, in netip.Prefix) (*mapcalc.Result, error) {
	var rules []mapcalc.Rule
	switch {
	case strings.TrimSpace(o.Rule) != "":
		rs, err := mapcalc.ParseRuleString(o.Rule)
		if err != nil {
			return nil, err
		}
		rules = rs
	case o.explicit():
		r, err := o.explicitRule()
		if err != nil {
			return nil, err
		}
		rules = []mapcalc.Rule{r}
	default:
		rules = table
	}
	rule, err := mapcalc.Select(rules, in)
	if err != nil {
		return nil, err
	}
	if rule, err = o.override(rule); err != nil {
		return nil, err
	}
	return mapcalc.Compute(rule, in)
}

// explicit reports whether the options describe a rule themselves.
func (o Interface) explicit() bool {
	return o.IP6Prefix != "" || o.IPAddr != "" || o.IP6PrefLen.Set || o.IP4PrefLen.Set || o.EALen.Set
}

func optErr(kind error, opt, problem, fix string) error {
	return &mapcalc.OptionError{Kind: kind, Option: opt, Problem: problem, Fix: fix}
}

// explicitRule builds a rule from the stock option set.
func (o Interface) explicitRule() (mapcalc.Rule, error) {
	r := mapcalc.Rule{EALen: -1, PSIDLen: -1, Offset: -1, PSID: -1, Type: o.Type}
	if o.IP6Prefix == "" {
		return r, optErr(mapcalc.ErrInvalidRule, "ip6prefix", "rule options are set but ip6prefix is missing", "set ip6prefix and ip6prefixlen, or remove the rule options to detect the rule automatically")
	}
	a6s, len6s, hasLen := strings.Cut(o.IP6Prefix, "/")
	a6, err := netip.ParseAddr(a6s)
	if err != nil || !a6.Is6() || a6.Is4In6() || a6.Zone() != "" {
		return r, optErr(mapcalc.ErrInvalidRule, "ip6prefix", fmt.Sprintf("%q is not an IPv6 prefix", o.IP6Prefix), "set ip6prefix to the rule's IPv6 prefix, e.g. 240b:12::")
	}
	p6 := -1
	if hasLen {
		var l Int
		if l.Parse(len6s) != nil {
			return r, optErr(mapcalc.ErrInvalidRule, "ip6prefix", fmt.Sprintf("%q has a bad length", o.IP6Prefix), "write the length in ip6prefixlen")
		}
		p6 = l.Value
	}
	if o.IP6PrefLen.Set {
		p6 = o.IP6PrefLen.Value
	}
	if p6 < 0 || p6 > 64 {
		return r, optErr(mapcalc.ErrInvalidRule, "ip6prefixlen", fmt.Sprintf("ip6prefixlen %d is missing or out of range", p6), "set ip6prefixlen between 0 and 64")
	}
	if o.IPAddr == "" {
		return r, optErr(mapcalc.ErrInvalidRule, "ipaddr", "rule options are set but ipaddr is missing", "set ipaddr and ip4prefixlen to the rule's IPv4 prefix")
	}
	a4, err := netip.ParseAddr(o.IPAddr)
	if err != nil || !a4.Is4() {
		return r, optErr(mapcalc.ErrInvalidRule, "ipaddr", fmt.Sprintf("%q is not an IPv4 address", o.IPAddr), "set ipaddr to the rule's IPv4 prefix, e.g. 14.8.0.0")
	}
	p4 := 32
	if o.IP4PrefLen.Set {
		p4 = o.IP4PrefLen.Value
	}
	if p4 < 0 || p4 > 32 {
		return r, optErr(mapcalc.ErrInvalidRule, "ip4prefixlen", fmt.Sprintf("ip4prefixlen %d is out of range", p4), "set ip4prefixlen between 0 and 32")
	}
	r.IP6Prefix = netip.PrefixFrom(a6, p6).Masked()
	r.IP4Prefix = netip.PrefixFrom(a4, p4).Masked()
	if o.EALen.Set {
		r.EALen = o.EALen.Value
	}
	return r, nil
}

// override applies the single-value options on top of a found rule.
func (o Interface) override(r mapcalc.Rule) (mapcalc.Rule, error) {
	if o.Type != "" {
		r.Type = o.Type
	}
	if o.Peeraddr != "" {
		br, err := netip.ParseAddr(o.Peeraddr)
		if err != nil || !br.Is6() || br.Is4In6() {
			return r, optErr(mapcalc.ErrInvalidRule, "peeraddr", fmt.Sprintf("%q is not an IPv6 address", o.Peeraddr), "set peeraddr to the BR's IPv6 address, e.g. 2404:9200:225:100::64")
		}
		r.BR = br
	}
	if o.LegacyMap.Set {
		r.Legacy = o.LegacyMap.Value
	}
	if o.Offset.Set {
		r.Offset = o.Offset.Value
	}
	if o.PSIDLen.Set {
		r.PSIDLen = o.PSIDLen.Value
	}
	if o.PSID.Set {
		r.PSID = o.PSID.Value
	}
	for name, v := range map[string]Int{"offset": o.Offset, "psidlen": o.PSIDLen, "psid": o.PSID} {
		if v.Set && v.Value < 0 {
			return r, optErr(mapcalc.ErrInvalidRule, name, fmt.Sprintf("%d is negative", v.Value), "use a value ≥ 0 or remove the option")
		}
	}
	return r, nil
}
