package mapcalc

import (
	"fmt"
	"net/netip"
)

// Select returns the rule whose IPv6 prefix is the longest match for the
// user's prefix in, as a CE picks its basic mapping rule among several
// (DHCPv6 may deliver many; the ISP tables hold hundreds).
func Select(rules []Rule, in netip.Prefix) (Rule, error) {
	best := -1
	for i, r := range rules {
		if !r.IP6Prefix.IsValid() || in.Bits() < r.IP6Prefix.Bits() || !r.IP6Prefix.Masked().Contains(in.Addr()) {
			continue
		}
		if best < 0 || r.IP6Prefix.Bits() > rules[best].IP6Prefix.Bits() {
			best = i
		}
	}
	if best < 0 {
		return Rule{}, optErr(ErrNoMatchingPrefix, "prefix",
			fmt.Sprintf("no MAP rule matches %s (%d rules checked)", in, len(rules)),
			"set the rule options (peeraddr, ipaddr, ip4prefixlen, ip6prefix, ip6prefixlen, ealen, psidlen, offset) or a rule table with --rules")
	}
	return rules[best], nil
}
