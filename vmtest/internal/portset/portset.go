// Package portset parses and tests the port-set lists the VM test passes
// between its shell scenario and its Go tools ("6016-6031,10112-10127").
// It is deliberately independent of mapcalc: the test's expectations must
// not come from the code under test.
package portset

import (
	"fmt"
	"strconv"
	"strings"
)

// Range is an inclusive port range.
type Range struct{ Lo, Hi uint16 }

// Set is a list of ranges, in the order given.
type Set []Range

// Parse reads "lo-hi,lo-hi,…" (a single port "p" means "p-p"; spaces and
// empty items are ignored). The empty string is an empty set.
func Parse(s string) (Set, error) {
	var set Set
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		lo, hi, found := strings.Cut(item, "-")
		if !found {
			hi = lo
		}
		l, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("port set item %q: %w", item, err)
		}
		h, err := strconv.ParseUint(hi, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("port set item %q: %w", item, err)
		}
		if l > h {
			return nil, fmt.Errorf("port set item %q: low end above high end", item)
		}
		set = append(set, Range{uint16(l), uint16(h)})
	}
	return set, nil
}

// Contains reports whether p lies in any range of the set.
func (s Set) Contains(p uint16) bool {
	for _, r := range s {
		if p >= r.Lo && p <= r.Hi {
			return true
		}
	}
	return false
}

// Size is the number of ports the set covers, counting overlaps once.
func (s Set) Size() int {
	seen := make(map[uint16]bool)
	for _, r := range s {
		for p := int(r.Lo); p <= int(r.Hi); p++ {
			seen[uint16(p)] = true
		}
	}
	return len(seen)
}

// String formats the set the way Parse reads it.
func (s Set) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = fmt.Sprintf("%d-%d", r.Lo, r.Hi)
	}
	return strings.Join(parts, ",")
}
