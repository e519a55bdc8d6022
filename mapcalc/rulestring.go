package mapcalc

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MaxRuleString bounds the S46 rule string accepted from DHCPv6 or a user.
const MaxRuleString = 8192

// ParseRuleString parses the S46 rule string that odhcp6c hands to netifd
// and the stock handler passes to mapcalc: rules separated by whitespace,
// each a comma-separated list of key=value (keys type, fmr, ealen,
// prefix4len, prefix6len, ipv4prefix, ipv6prefix, offset, psidlen, psid,
// br, dmr). As in the stock mapcalc, prefix4len defaults to 32, and a
// missing ealen is taken from the user's prefix length at Compute time
// (EALen = -1). Unlike the stock tool, an unknown key or a bad value is an
// error rather than a warning: a silently skipped option yields a wrong
// IPv4 address that only the BR notices.
func ParseRuleString(s string) ([]Rule, error) {
	if len(s) > MaxRuleString {
		return nil, optErr(ErrInvalidRule, "rule", fmt.Sprintf("rule string is %d bytes long", len(s)), fmt.Sprintf("keep it under %d bytes", MaxRuleString))
	}
	var rules []Rule
	for _, one := range strings.Fields(s) {
		r, err := parseOneRule(one)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		return nil, optErr(ErrInvalidRule, "rule", "the rule string is empty", "give e.g. type=map-e,ipv6prefix=240b:12::,prefix6len=32,ipv4prefix=14.8.0.0,prefix4len=16,ealen=24,psidlen=8,offset=4,br=2404:9200:225:100::64")
	}
	return rules, nil
}

func parseOneRule(s string) (Rule, error) {
	r := Rule{Type: TypeMAPE, PSIDLen: -1, Offset: -1, PSID: -1, EALen: -1}
	var v6, v4 netip.Addr
	p6len, p4len := -1, 32
	for _, kv := range strings.Split(s, ",") {
		if kv == "" {
			continue
		}
		key, val, _ := strings.Cut(kv, "=")
		bad := func(fix string) error {
			return optErr(ErrInvalidRule, "rule", fmt.Sprintf("%s=%q is not valid", key, val), fix)
		}
		num := func(max int) (int, bool) {
			n, err := strconv.ParseUint(val, 0, 32)
			if err != nil || n > uint64(max) {
				return 0, false
			}
			return int(n), true
		}
		var ok bool
		switch key {
		case "type":
			r.Type = val
			ok = val == TypeMAPE || val == TypeMAPT || val == TypeLW4O6
			if !ok {
				return r, optErr(ErrUnsupportedType, "rule", fmt.Sprintf("type=%q", val), "use type=map-e, map-t or lw4o6")
			}
		case "fmr", "dmr":
			ok = true // forwarding-rule flag and MAP-T DMR: not needed for the BMR
		case "ealen":
			r.EALen, ok = num(48)
		case "prefix4len":
			p4len, ok = num(32)
		case "prefix6len":
			p6len, ok = num(128)
		case "offset":
			r.Offset, ok = num(15)
		case "psidlen":
			r.PSIDLen, ok = num(16)
		case "psid":
			r.PSID, ok = num(65535)
		case "ipv4prefix":
			a, err := netip.ParseAddr(val)
			v4, ok = a, err == nil && a.Is4()
		case "ipv6prefix":
			a, err := netip.ParseAddr(val)
			v6, ok = a, err == nil && a.Is6() && !a.Is4In6() && a.Zone() == ""
		case "br":
			a, err := netip.ParseAddr(val)
			r.BR, ok = a, err == nil && a.Is6() && !a.Is4In6() && a.Zone() == ""
		default:
			return r, optErr(ErrInvalidRule, "rule", fmt.Sprintf("unknown key %q", key), "use only type, fmr, ealen, prefix4len, prefix6len, ipv4prefix, ipv6prefix, offset, psidlen, psid, br, dmr")
		}
		if !ok {
			return r, bad("check the value's syntax and range")
		}
	}
	if !v6.IsValid() || p6len < 0 {
		return r, optErr(ErrInvalidRule, "rule", fmt.Sprintf("%q lacks ipv6prefix or prefix6len", s), "add ipv6prefix=…,prefix6len=…")
	}
	if !v4.IsValid() {
		return r, optErr(ErrInvalidRule, "rule", fmt.Sprintf("%q lacks ipv4prefix", s), "add ipv4prefix=…,prefix4len=…")
	}
	r.IP6Prefix = netip.PrefixFrom(v6, p6len).Masked()
	r.IP4Prefix = netip.PrefixFrom(v4, p4len).Masked()
	if r.PSIDLen == 0 && r.PSID < 0 {
		r.PSIDLen = -1 // stock: psidlen 0 means "derive"
	}
	return r, nil
}

// String renders r in the rule-string grammar ParseRuleString reads.
func (r Rule) String() string {
	var b strings.Builder
	typ := r.Type
	if typ == "" {
		typ = TypeMAPE
	}
	fmt.Fprintf(&b, "type=%s,ipv6prefix=%s,prefix6len=%d,ipv4prefix=%s,prefix4len=%d", typ, r.IP6Prefix.Addr(), r.IP6Prefix.Bits(), r.IP4Prefix.Addr(), r.IP4Prefix.Bits())
	if r.EALen >= 0 {
		fmt.Fprintf(&b, ",ealen=%d", r.EALen)
	}
	if r.PSIDLen >= 0 {
		fmt.Fprintf(&b, ",psidlen=%d", r.PSIDLen)
	}
	if r.Offset >= 0 {
		fmt.Fprintf(&b, ",offset=%d", r.Offset)
	}
	if r.PSID >= 0 {
		fmt.Fprintf(&b, ",psid=%d", r.PSID)
	}
	if r.BR.IsValid() {
		fmt.Fprintf(&b, ",br=%s", r.BR)
	}
	return b.String()
}
