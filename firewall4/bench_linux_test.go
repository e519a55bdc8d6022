package firewall4

import (
	"testing"

	"github.com/google/nftables"
	"github.com/mapehelper/mapehelper/dataplane/nstest"
	"github.com/mapehelper/mapehelper/mapcalc"
)

// BenchmarkApply measures what `up` pays the kernel for our table: one
// batch on a connection of its own (Flush opens and closes the netlink
// socket, as in each `up`), in a
// fresh network namespace on the running kernel (root only). "replace"
// loads over an existing table (a re-up or fw4-style reload: the batch
// deletes, and closing waits for the kernel to free the old objects);
// "fresh" deletes the table first, outside the timed part. Compare the
// shapes within one run; the VM figures are in docs/bench.md.
func BenchmarkApply(b *testing.B) {
	nstest.Require(b, "ip")
	for _, tc := range benchRulesets(b) {
		rs := tc.rs
		ns := nstest.New(b)
		apply := func(b *testing.B) {
			c, err := Open(nftables.WithNetNSFd(int(ns.Handle)))
			if err != nil {
				b.Fatal(err)
			}
			if err := Apply(c, rs); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(tc.name+"/replace", func(b *testing.B) {
			for b.Loop() {
				apply(b)
			}
		})
		b.Run(tc.name+"/fresh", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				c, err := Open(nftables.WithNetNSFd(int(ns.Handle)))
				if err != nil {
					b.Fatal(err)
				}
				if err := Delete(c, seedConfig().Interface); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				apply(b)
			}
		})
	}
}

// benchRuleset is the table of one ISP shape, named for b.Run.
type benchRuleset struct {
	name string
	rs   *Ruleset
}

// benchRulesets are the tables the Apply benchmarks compare, from the seed
// config: v6 plus (15 port sets) and OCN (63).
func benchRulesets(b *testing.B) []benchRuleset {
	b.Helper()
	var out []benchRuleset
	for _, tc := range []struct {
		name string
		sets []mapcalc.PortRange
	}{{"v6plus", seedSets()}, {"ocn", ocnSets()}} {
		cfg := seedConfig()
		cfg.PortSets = tc.sets
		rs, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, benchRuleset{tc.name, rs})
	}
	return out
}
