package mapcalc

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of ports: a port set of the calculator,
// a range in the state record and the status report, a redirect's ports.
// It is the one port-range type of the project. Its JSON form is the
// [lo, hi] pair the calculator has always written (a public contract);
// "lo-hi" strings are read too.
type PortRange struct{ Lo, Hi uint16 }

// Len is the number of ports in the range.
func (p PortRange) Len() int { return int(p.Hi) - int(p.Lo) + 1 }

// Contains reports whether port lies in the range.
func (p PortRange) Contains(port uint16) bool { return port >= p.Lo && port <= p.Hi }

// String is "lo-hi", or "p" for a single port; ParsePortRange reads it
// back.
func (p PortRange) String() string {
	if p.Lo == p.Hi {
		return strconv.Itoa(int(p.Lo))
	}
	return p.Span()
}

// Span is "lo-hi" even for a single port: the calculator's listing, like
// the stock map.sh's PORTSETS, always shows both ends.
func (p PortRange) Span() string { return fmt.Sprintf("%d-%d", p.Lo, p.Hi) }

// MarshalJSON writes [lo, hi].
func (p PortRange) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]uint16{p.Lo, p.Hi})
}

// UnmarshalJSON reads [lo, hi] or "lo-hi" (any form ParsePortRange
// reads); a reversed range is an error.
func (p *PortRange) UnmarshalJSON(b []byte) error {
	var pair [2]uint16
	if err := json.Unmarshal(b, &pair); err == nil {
		if pair[0] > pair[1] {
			return fmt.Errorf("port range [%d, %d] is reversed", pair[0], pair[1])
		}
		*p = PortRange{Lo: pair[0], Hi: pair[1]}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("port range must be [lo, hi] or \"lo-hi\": %s", b)
	}
	r, err := ParsePortRange(s)
	if err != nil {
		return err
	}
	*p = r
	return nil
}

// ParsePortRange reads "80", "8000-8010" or "8000:8010" (both forms appear
// in fw4 configurations).
func ParsePortRange(s string) (PortRange, error) {
	s = strings.TrimSpace(s)
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		lo, hi, found = strings.Cut(s, ":")
	}
	if !found {
		hi = lo
	}
	l, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	h, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
	if err1 != nil || err2 != nil {
		return PortRange{}, fmt.Errorf("%q is not a port or port range", s)
	}
	if l > h {
		return PortRange{}, fmt.Errorf("port range %q is reversed", s)
	}
	return PortRange{Lo: uint16(l), Hi: uint16(h)}, nil
}

// VirtualRange is 1..N for the N ports of sets: the one contiguous range
// the virtual-range SNAT maps TCP and UDP into (firewall4's
// Config.VirtualRange), virtual port i standing for the i-th port of sets.
func VirtualRange(sets []PortRange) PortRange {
	n := 0
	for _, s := range sets {
		n += s.Len()
	}
	return PortRange{Lo: 1, Hi: uint16(min(n, 65535))}
}

// RealPort is the port of sets that virtual port v stands for (the v-th,
// counted from 1), and false when sets have fewer than v ports.
func RealPort(sets []PortRange, v uint16) (uint16, bool) {
	if v == 0 {
		return 0, false
	}
	left := int(v)
	for _, s := range sets {
		if left <= s.Len() {
			return uint16(int(s.Lo) + left - 1), true
		}
		left -= s.Len()
	}
	return 0, false
}
