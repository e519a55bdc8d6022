// Package mapcalc does the MAP arithmetic of RFC 7597 (MAP-E) and of the
// pre-RFC draft layout that every Japanese IPoE service still uses: from a
// basic mapping rule and the user's IPv6 prefix it derives the shared IPv4
// address, the PSID, the CE's IPv6 address and every port set.
//
// The package is pure: no I/O, no globals, no OS dependencies, so it runs
// and is tested identically on every target architecture.
package mapcalc

import (
	"fmt"
	"net/netip"
)

// Rule types, named as in the stock OpenWrt map package's `type` option.
const (
	TypeMAPE  = "map-e"
	TypeMAPT  = "map-t"
	TypeLW4O6 = "lw4o6"
)

// Rule is one basic mapping rule (BMR), plus the BR address and the
// interface-id layout that go with it.
type Rule struct {
	Type      string       // TypeMAPE (default when ""), TypeMAPT or TypeLW4O6
	ISP       string       // table name ("v6plus", "ocn", "ipv6option"); "" for explicit rules
	IP6Prefix netip.Prefix // rule IPv6 prefix
	IP4Prefix netip.Prefix // rule IPv4 prefix (the lw4o6 address as a /32)
	EALen     int          // embedded-address bits
	PSIDLen   int          // k; -1 means derive it as EALen-(32-ip4prefixlen)
	Offset    int          // a; -1 means the default (6, 4 when Legacy, 0 for lw4o6)
	PSID      int          // explicit PSID, or -1 to take it from the EA bits
	BR        netip.Addr   // border relay (MAP-E) or AFTR (lw4o6)
	Legacy    bool         // legacy (draft) interface-id layout
}

// Result is everything a CE needs to bring MAP up.
type Result struct {
	Rule     Rule         // the rule with every default resolved
	EndUser  netip.Prefix // the user's prefix the EA bits were read from
	CE       netip.Addr   // CE IPv6 address: tunnel local end, /128 on the link
	IPv4     netip.Addr   // the (shared) public IPv4 address
	PSID     uint16       // port-set identifier (0 when PSIDLen is 0)
	PortSets []PortRange  // usable ports, ascending, contiguous runs merged
}

// Ports is the number of usable ports.
func (r *Result) Ports() int {
	n := 0
	for _, p := range r.PortSets {
		n += p.Len()
	}
	return n
}

// ContainsPort reports whether port is one of the CE's ports.
func (r *Result) ContainsPort(port uint16) bool {
	for _, p := range r.PortSets {
		if p.Contains(port) {
			return true
		}
	}
	return false
}

// DefaultOffset is the PSID offset used when a rule does not give one: 6
// (RFC 7597), 4 for the legacy layout (the draft's and the Japanese
// services' value), 0 for lw4o6 (RFC 7596), as the stock mapcalc does.
func DefaultOffset(typ string, legacy bool) int {
	switch {
	case typ == TypeLW4O6:
		return 0
	case legacy:
		return 4
	default:
		return 6
	}
}

// normalize fills the defaults of r and checks that its lengths agree.
func normalize(r Rule) (Rule, error) {
	if r.Type == "" {
		r.Type = TypeMAPE
	}
	switch r.Type {
	case TypeMAPE, TypeMAPT, TypeLW4O6:
	default:
		return r, optErr(ErrUnsupportedType, "type", fmt.Sprintf("%q is not a MAP type", r.Type), "use map-e, map-t or lw4o6")
	}
	if !r.IP6Prefix.IsValid() || !r.IP6Prefix.Addr().Is6() || r.IP6Prefix.Addr().Is4In6() {
		return r, optErr(ErrInvalidRule, "ip6prefix", "the rule has no IPv6 prefix", "set ip6prefix and ip6prefixlen (e.g. 240b:12:: and 32)")
	}
	if !r.IP4Prefix.IsValid() || !r.IP4Prefix.Addr().Is4() {
		return r, optErr(ErrInvalidRule, "ipaddr", "the rule has no IPv4 prefix", "set ipaddr and ip4prefixlen (e.g. 14.8.0.0 and 16)")
	}
	r.IP6Prefix = r.IP6Prefix.Masked()
	r.IP4Prefix = r.IP4Prefix.Masked()
	if r.EALen < 0 || r.EALen > 48 {
		return r, optErr(ErrInvalidRule, "ealen", fmt.Sprintf("%d is out of range", r.EALen), "set ealen between 0 and 48")
	}
	if r.IP6Prefix.Bits()+r.EALen > 64 {
		return r, optErr(ErrInconsistentRule, "ealen", fmt.Sprintf("ip6prefixlen %d + ealen %d exceeds 64 bits", r.IP6Prefix.Bits(), r.EALen), "check ip6prefixlen and ealen against your ISP's rule")
	}
	suffix := 32 - r.IP4Prefix.Bits() // IPv4 bits the EA bits must carry
	if r.EALen > 0 && r.EALen < suffix {
		return r, optErr(ErrInconsistentRule, "ealen", fmt.Sprintf("ealen %d cannot carry the %d IPv4 bits that ip4prefixlen %d leaves", r.EALen, suffix, r.IP4Prefix.Bits()), "set ealen to (32-ip4prefixlen)+psidlen")
	}
	if r.PSIDLen < 0 {
		if r.EALen == 0 && r.PSID >= 0 {
			return r, optErr(ErrInvalidRule, "psidlen", "an explicit psid needs psidlen", "set psidlen to the PSID length")
		}
		r.PSIDLen = r.EALen - suffix
		if r.EALen == 0 {
			r.PSIDLen = 0
		}
	}
	if r.PSIDLen < 0 || r.PSIDLen > 16 {
		return r, optErr(ErrInconsistentRule, "psidlen", fmt.Sprintf("psidlen %d is out of range", r.PSIDLen), "psidlen must be 0…16 and equal ealen-(32-ip4prefixlen)")
	}
	if r.Offset < 0 {
		r.Offset = DefaultOffset(r.Type, r.Legacy)
	}
	if r.Offset > 15 {
		return r, optErr(ErrInconsistentRule, "offset", fmt.Sprintf("offset %d is out of range", r.Offset), "set offset between 0 and 15")
	}
	if r.Offset+r.PSIDLen > 16 {
		return r, optErr(ErrInconsistentRule, "offset", fmt.Sprintf("offset %d + psidlen %d exceeds the 16 port bits", r.Offset, r.PSIDLen), "lower offset or psidlen so that offset+psidlen ≤ 16")
	}
	if r.PSID >= 0 && r.PSID >= 1<<r.PSIDLen {
		return r, optErr(ErrInconsistentRule, "psid", fmt.Sprintf("psid %d does not fit in psidlen %d bits", r.PSID, r.PSIDLen), "use a psid below 2^psidlen")
	}
	switch {
	case r.EALen == 0:
		// lw4o6 or a MAP rule with everything explicit: the IPv4 address
		// must be complete and the PSID given (or no sharing at all).
		if suffix != 0 {
			return r, optErr(ErrInconsistentRule, "ip4prefixlen", fmt.Sprintf("ealen 0 needs a full IPv4 address but ip4prefixlen is %d", r.IP4Prefix.Bits()), "set ip4prefixlen 32 or give ealen")
		}
		if r.PSIDLen > 0 && r.PSID < 0 {
			return r, optErr(ErrInvalidRule, "psid", "ealen 0 with psidlen > 0 needs an explicit psid", "set psid (lw4o6 and explicit rules)")
		}
	case r.PSID >= 0:
		// Explicit PSID overrides the EA bits' PSID; the EA bits then carry
		// the IPv4 suffix, optionally followed by ignored PSID bits.
		if r.EALen != suffix && r.EALen != suffix+r.PSIDLen {
			return r, optErr(ErrInconsistentRule, "ealen", fmt.Sprintf("ealen %d ≠ (32-ip4prefixlen %d)+psidlen %d", r.EALen, r.IP4Prefix.Bits(), r.PSIDLen), "set ealen to (32-ip4prefixlen)+psidlen")
		}
	default:
		if r.EALen != suffix+r.PSIDLen {
			return r, optErr(ErrInconsistentRule, "ealen", fmt.Sprintf("ealen %d ≠ (32-ip4prefixlen %d)+psidlen %d = %d", r.EALen, r.IP4Prefix.Bits(), r.PSIDLen, suffix+r.PSIDLen), "set ealen to (32-ip4prefixlen)+psidlen, or fix ip4prefixlen/psidlen")
		}
	}
	if r.BR.IsValid() && (!r.BR.Is6() || r.BR.Is4In6()) {
		return r, optErr(ErrInvalidRule, "peeraddr", fmt.Sprintf("BR %s is not an IPv6 address", r.BR), "set peeraddr to the BR's IPv6 address")
	}
	return r, nil
}

// Compute applies rule to the user's prefix in (a delegated /56, /60, a
// /64, or a /64 made from a bare WAN address).
//
// A rule with EALen -1 (a rule string without ealen) takes its EA length
// from the prefix: in.Bits()-ip6prefixlen, as the stock mapcalc does.
func Compute(rule Rule, in netip.Prefix) (*Result, error) {
	if rule.EALen < 0 && in.IsValid() && rule.IP6Prefix.IsValid() {
		rule.EALen = in.Bits() - rule.IP6Prefix.Bits()
	}
	r, err := normalize(rule)
	if err != nil {
		return nil, err
	}
	if !in.IsValid() || !in.Addr().Is6() || in.Addr().Is4In6() {
		return nil, optErr(ErrBadPrefix, "prefix", fmt.Sprintf("%v is not an IPv6 prefix", in), "give the delegated IPv6 prefix, e.g. 240b:12:3456:7800::/56")
	}
	in = in.Masked()
	if in.Bits() > 64 {
		return nil, optErr(ErrBadPrefix, "prefix", fmt.Sprintf("%s is longer than /64", in), "give the delegated prefix or the /64 of the WAN address")
	}
	if !r.IP6Prefix.Contains(in.Addr()) || in.Bits() < r.IP6Prefix.Bits() {
		return nil, optErr(ErrNoMatchingPrefix, "ip6prefix", fmt.Sprintf("prefix %s is not inside the rule's %s", in, r.IP6Prefix), "use the rule of your ISP for this prefix")
	}
	if need := r.IP6Prefix.Bits() + r.EALen; in.Bits() < need {
		return nil, optErr(ErrPrefixTooShort, "prefix", fmt.Sprintf("%s is shorter than ip6prefixlen+ealen = /%d, so the EA bits are not all known", in, need), fmt.Sprintf("give a prefix of /%d or longer (the delegated prefix, or the WAN address's /64)", need))
	}

	hi, lo := u128(in.Addr())
	ea := bits(hi, lo, r.IP6Prefix.Bits(), r.EALen)

	suffixLen := 32 - r.IP4Prefix.Bits()
	psid := uint64(0)
	var v4suffix uint64
	switch {
	case r.EALen == 0:
		psid = uint64(max(r.PSID, 0))
	case r.PSID >= 0:
		v4suffix = ea >> (r.EALen - suffixLen)
		psid = uint64(r.PSID)
	default:
		v4suffix = ea >> r.PSIDLen
		psid = ea & (1<<r.PSIDLen - 1)
	}
	p4 := r.IP4Prefix.Addr().As4()
	v4 := uint32(p4[0])<<24 | uint32(p4[1])<<16 | uint32(p4[2])<<8 | uint32(p4[3])
	v4 |= uint32(v4suffix)
	ipv4 := netip.AddrFrom4([4]byte{byte(v4 >> 24), byte(v4 >> 16), byte(v4 >> 8), byte(v4)})

	res := &Result{
		Rule:     r,
		EndUser:  in,
		IPv4:     ipv4,
		PSID:     uint16(psid),
		CE:       ceAddress(in, ipv4, uint16(psid), r.Legacy),
		PortSets: PortSets(r.Offset, r.PSIDLen, uint16(psid)),
	}
	return res, nil
}

// ceAddress builds the MAP CE address: the end-user prefix (at most 64
// bits; subnet id 0) followed by the interface identifier.
//
//	RFC 7597 §6:   16 zero bits | IPv4 (32) | PSID (16, right-aligned)
//	legacy draft:   8 zero bits | IPv4 (32) | PSID (16) | 8 zero bits
func ceAddress(in netip.Prefix, ipv4 netip.Addr, psid uint16, legacy bool) netip.Addr {
	b := in.Masked().Addr().As16()
	clear(b[8:])
	v4 := ipv4.As4()
	at := 10
	if legacy {
		at = 9
	}
	copy(b[at:at+4], v4[:])
	b[at+4] = byte(psid >> 8)
	b[at+5] = byte(psid)
	return netip.AddrFrom16(b)
}

// PortSets lists the ports of PSID psid for PSID offset a and length k:
// A<<(16-a) | psid<<(16-a-k) | j for every A in 1…2^a-1 (A = 0, the
// well-known ports, excluded when a > 0) and j in 0…2^(16-a-k)-1, with
// contiguous runs merged. Port 0 is never usable.
func PortSets(a, k int, psid uint16) []PortRange {
	m := 16 - a - k
	first := 1
	if a == 0 {
		first = 0
	}
	var out []PortRange
	for A := first; A < 1<<a; A++ {
		lo := A<<(16-a) | int(psid)<<m
		hi := lo + 1<<m - 1
		if lo == 0 {
			lo = 1
		}
		if lo > hi {
			continue
		}
		if n := len(out); n > 0 && int(out[n-1].Hi)+1 == lo {
			out[n-1].Hi = uint16(hi)
			continue
		}
		out = append(out, PortRange{Lo: uint16(lo), Hi: uint16(hi)})
	}
	return out
}

// PSIDOf returns the PSID that owns port under offset a and length k, and
// false for ports no PSID owns (the excluded A = 0 block, port 0).
func PSIDOf(a, k int, port uint16) (uint16, bool) {
	if port == 0 || (a > 0 && int(port)>>(16-a) == 0) {
		return 0, false
	}
	m := 16 - a - k
	return uint16((int(port) >> m) & (1<<k - 1)), true
}

// u128 splits an IPv6 address into its high and low 64 bits.
func u128(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[i+8])
	}
	return hi, lo
}

// bits returns n (≤ 64) bits of the 128-bit value hi:lo starting at bit
// offset from the most significant end.
func bits(hi, lo uint64, offset, n int) uint64 {
	if n == 0 {
		return 0
	}
	// Shift the 128-bit value left by offset, then take the top n bits.
	var top uint64
	switch {
	case offset == 0:
		top = hi
	case offset < 64:
		top = hi<<offset | lo>>(64-offset)
	default:
		top = lo << (offset - 64)
	}
	return top >> (64 - n)
}

// Check validates a rule on its own (without a prefix): lengths agree,
// addresses are of the right family.
func Check(r Rule) error {
	_, err := normalize(r)
	return err
}
