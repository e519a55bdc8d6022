package firewall4

import (
	"testing"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
)

// BenchmarkBatch is the user-space part of Apply: the batch built from the
// model and sent to a fake socket that acks everything (no kernel, no
// root). BenchmarkApply includes the kernel's work and is far noisier on a
// shared host; this one shows what the Go side costs.
func BenchmarkBatch(b *testing.B) {
	for _, tc := range []struct {
		name string
		ocn  bool
	}{{"v6plus", false}, {"ocn", true}} {
		cfg := seedConfig()
		if tc.ocn {
			cfg.PortSets = ocnSets()
		}
		rs, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				c, err := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
					acks := make([]netlink.Message, 0, len(req))
					for _, m := range req {
						acks = append(acks, netlink.Message{Header: netlink.Header{Type: netlink.Error, Sequence: m.Header.Sequence, PID: m.Header.PID}, Data: make([]byte, 4)})
					}
					return acks, nil
				}))
				if err != nil {
					b.Fatal(err)
				}
				if err := Apply(c, rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
