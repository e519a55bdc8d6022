package firewall4

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/mapehelper/mapehelper/dataplane/nstest"
)

// BenchmarkApplyParts breaks BenchmarkApply's "replace" down by the parts
// of the table (issue 14, goal 5: where the kernel's share of `up` goes):
// the whole table, the table without each part (chains and sets removed
// by name, with every rule that refers to them), the count sets alone
// (no chain or rule), and the empty table
// (add, delete, add: the fixed cost of replacing, mostly the RCU grace
// period the kernel waits for when the socket closes after a delete).
// Compare the lines within one run; root only.
func BenchmarkApplyParts(b *testing.B) {
	nstest.Require(b, "ip")
	isCount := isCountPart
	parts := []struct {
		name  string
		match func(string) bool
	}{
		{"all", func(string) bool { return false }},
		{"no-counts", isCount},
		{"no-guard", func(n string) bool { return n == ChainGuard }},
		{"no-mss", func(n string) bool { return n == ChainMSS }},
		{"sets-only", func(n string) bool { return !strings.HasPrefix(n, "occ_") }},
		{"empty", func(string) bool { return true }},
	}
	for _, tc := range benchRulesets(b) {
		rs := tc.rs
		ns := nstest.New(b)
		for _, p := range parts {
			m := withoutNames(rs.built(), p.match)
			b.Run(tc.name+"/"+p.name, func(b *testing.B) {
				for b.Loop() {
					c, err := Open(nftables.WithNetNSFd(int(ns.Handle)))
					if err != nil {
						b.Fatal(err)
					}
					if err := apply(c, m); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// isCountPart names the parts that the per-set counts consist of: the
// walk, the try chains and their count sets, and the endpoint-independent
// mapping built on them (the eim chain jumps to the try chains; the eim
// sets are counted like the occupancy sets).
func isCountPart(n string) bool {
	return n == ChainWalk || n == ChainEIM || strings.HasPrefix(n, "try_") || strings.HasPrefix(n, "occ_") || strings.HasPrefix(n, "eim_")
}

// withoutNames copies m without the sets and chains whose names match and
// without every rule that refers to one of them.
func withoutNames(m *table, match func(string) bool) *table {
	out := &table{name: m.name}
	for _, s := range m.sets {
		if !match(s.name) {
			out.sets = append(out.sets, s)
		}
	}
	refers := func(r rule) bool {
		for _, s := range r {
			switch s := s.(type) {
			case verdict:
				if s.chain != "" && match(s.chain) {
					return true
				}
			case numgenVmap:
				if slices.ContainsFunc(s.chains, match) {
					return true
				}
			case sportVmap:
				if slices.ContainsFunc(s.chains, match) {
					return true
				}
			case matchInSet:
				if match(s.set) {
					return true
				}
			case countOver:
				if match(s.set) {
					return true
				}
			}
		}
		return false
	}
	for _, c := range m.chains {
		if match(c.name) {
			continue
		}
		nc := &chain{name: c.name, base: c.base}
		for _, r := range c.rules {
			if !refers(r) {
				nc.rules = append(nc.rules, r)
			}
		}
		out.chains = append(out.chains, nc)
	}
	return out
}

// TestWithoutNames checks the benchmark's cut: without the counts the
// srcnat chain keeps its numgen spread over the set chains and nothing
// refers to a try chain, walk or count set.
func TestWithoutNames(t *testing.T) {
	rs, err := New(seedConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := withoutNames(rs.built(), isCountPart)
	got := m.text(false)
	for _, gone := range []string{"try_", "walk", "occ_", "eim", "ct count"} {
		if strings.Contains(got, gone) {
			t.Errorf("still has %q:\n%s", gone, got)
		}
	}
	for _, want := range []string{"numgen inc mod 15 vmap { 0 : jump set_0,", "chain guard {", "chain mss {", "chain set_14 {"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
}
