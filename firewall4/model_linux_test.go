package firewall4

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/mapehelper/mapehelper/dataplane/nstest"
	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// extraRules are rules the model does not have, each added to one chain
// with no other edit: the proof that a rule is written once. They use
// every kind of statement the model knows, in combinations the model
// itself does not (a negated protocol set, an inbound interface).
var extraRules = []struct {
	chain string
	rule  func(rs *Ruleset) rule
	text  string // as nft lists it
}{
	{ChainGuard, func(rs *Ruleset) rule {
		return rule{matchIfname{name: rs.Tunnel}, matchL4Proto{not: true, protos: []uint8{protoTCP, protoUDP}}, drop()}
	}, `iifname "map-wan_mape" meta l4proto != { tcp, udp } drop`},
	{ChainGuard, func(rs *Ruleset) rule {
		return rule{oif(rs.Tunnel), matchSaddr{addr: rs.IPv4}, matchL4Proto{protos: []uint8{protoUDP}}, ret()}
	}, `oifname "map-wan_mape" ip saddr 14.8.52.86 meta l4proto udp return`},
	{ChainMSS, func(rs *Ruleset) rule {
		return rule{matchTCPFlags{set: tcpSYN, mask: tcpFIN | tcpSYN | tcpRST}, matchMSSOver{1000}, setMSS{1000}}
	}, `tcp flags syn / fin,syn,rst tcp option maxseg size > 1000 tcp option maxseg size set 1000`},
	{ChainWalk, func(rs *Ruleset) rule {
		return rule{snatProtos, countOver{OccSet(0), []keyPart{keyL4Proto, keyDaddr, keyDport}, 3}, goTo(SetChain(0))}
	}, `meta l4proto { icmp, tcp, udp } add @occ_0 { meta l4proto . ip daddr . th dport ct count over 3 } goto set_0`},
	{SetChain(2), func(rs *Ruleset) rule {
		return rule{oif(rs.Tunnel), numgenVmap{[]string{SetChain(0), SetChain(1)}}}
	}, `oifname "map-wan_mape" numgen inc mod 2 vmap { 0 : jump set_0, 1 : jump set_1 }`},
	{ChainGuard, func(rs *Ruleset) rule {
		return rule{oif(rs.Tunnel), matchInSet{EIMSet(1), countKeyPort}, drop()}
	}, `oifname "map-wan_mape" meta l4proto . ip daddr . th dport @eim_1 drop`},
	{SetChain(4), func(rs *Ruleset) rule {
		return rule{matchIfname{name: rs.Tunnel}, sportVmap{[]mapcalc.PortRange{{Lo: 7, Hi: 7}, {Lo: 8, Hi: 100}}, []string{SetChain(0), SetChain(1)}}}
	}, `iifname "map-wan_mape" udp sport vmap { 7 : jump set_0, 8-100 : jump set_1 }`},
}

// withRule is the model of rs with r appended to chain.
func withRule(t *testing.T, rs *Ruleset, chain string, r rule) *table {
	t.Helper()
	m := rs.model()
	for _, c := range m.chains {
		if c.name == chain {
			c.rules = append(c.rules, r)
			return m
		}
	}
	t.Fatalf("model has no chain %s", chain)
	return nil
}

// TestModelRuleReachesBothRenderers is the "written once" check without
// root: a rule appended to the model shows up in the include text and as
// one more rule of the same chain in the netlink batch, with the
// expressions its statements stand for.
func TestModelRuleReachesBothRenderers(t *testing.T) {
	rs, err := New(seedConfig())
	if err != nil {
		t.Fatal(err)
	}
	base := rs.model()
	baseChains, _ := recordRules(t, base)
	for _, tc := range extraRules {
		t.Run(tc.text, func(t *testing.T) {
			m := withRule(t, rs, tc.chain, tc.rule(rs))
			text := m.text(false)
			if !strings.Contains(text, "\t\t"+tc.text+"\n") {
				t.Errorf("include text lacks the rule %q:\n%s", tc.text, text)
			}
			if strings.Count(text, "\n\t\t") != strings.Count(base.text(false), "\n\t\t")+1 {
				t.Errorf("include text changed by more than one line")
			}
			chains, exprs := recordRules(t, m)
			if len(chains) != len(baseChains)+1 {
				t.Fatalf("batch has %d rules, want %d", len(chains), len(baseChains)+1)
			}
			// Rules are queued chain by chain in model order: the new rule
			// is the last of its chain.
			i := slices.IndexFunc(chains, func(c string) bool { return c == tc.chain })
			for i < len(chains) && chains[i] == tc.chain {
				i++
			}
			if i == 0 || chains[i-1] != tc.chain || len(exprs[i-1]) == 0 {
				t.Fatalf("no rule of %s in the batch: %v", tc.chain, chains)
			}
			t.Logf("netlink: %v", exprs[i-1])
			if !slices.Equal(slices.Delete(slices.Clone(chains), i-1, i), baseChains) {
				t.Errorf("the other rules of the batch changed")
			}
		})
	}
}

// recordRules applies m through a fake socket and returns the chain and
// expression names of every rule in the batch.
func recordRules(t *testing.T, m *table) (chains []string, exprs [][]string) {
	t.Helper()
	c, err := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
		var acks []netlink.Message
		for _, msg := range req {
			acks = append(acks, netlink.Message{Header: netlink.Header{Type: netlink.Error, Sequence: msg.Header.Sequence, PID: msg.Header.PID}, Data: make([]byte, 4)})
			if int(msg.Header.Type) == nft(unix.NFT_MSG_NEWRULE) {
				ch, names := decodeRule(t, msg.Data[4:]) // after the nfgenmsg header
				chains, exprs = append(chains, ch), append(exprs, names)
			}
		}
		return acks, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := apply(c, m); err != nil {
		t.Fatal(err)
	}
	return chains, exprs
}

// decodeRule returns the chain of a NEWRULE message and the names of its
// expressions.
func decodeRule(t *testing.T, b []byte) (chain string, names []string) {
	t.Helper()
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		t.Fatal(err)
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RULE_CHAIN:
			chain = ad.String()
		case unix.NFTA_RULE_EXPRESSIONS:
			ad.Nested(func(list *netlink.AttributeDecoder) error {
				for list.Next() {
					list.Nested(func(e *netlink.AttributeDecoder) error {
						for e.Next() {
							if e.Type() == unix.NFTA_EXPR_NAME {
								names = append(names, e.String())
							}
						}
						return nil
					})
				}
				return nil
			})
		}
	}
	if err := ad.Err(); err != nil {
		t.Fatal(err)
	}
	return chain, names
}

// TestModelRuleInKernel is the same check on the running kernel: with a
// rule appended to the model, the netlink-applied table lists exactly the
// model's text, and so does the include text loaded by nft.
func TestModelRuleInKernel(t *testing.T) {
	nstest.Require(t, "nft", "ip")
	rs, err := New(seedConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range extraRules {
		t.Run(tc.text, func(t *testing.T) {
			m := withRule(t, rs, tc.chain, tc.rule(rs))
			want := m.text(true)
			if !strings.Contains(want, "\t\t"+tc.text+"\n") {
				t.Fatalf("text lacks the rule:\n%s", want)
			}
			ns := nstest.New(t)
			if err := apply(conn(t, ns), m); err != nil {
				t.Fatal(err)
			}
			if got := ns.Run(t, "nft", "list", "table", "ip", m.name); got != want {
				t.Fatalf("netlink-applied table differs from the model's text:\n--- nft list\n%s\n--- text\n%s", got, want)
			}
			inc := filepath.Join(t.TempDir(), "inc.nft")
			if err := os.WriteFile(inc, []byte("table ip "+m.name+"\ndelete table ip "+m.name+"\n"+m.text(false)), 0o644); err != nil {
				t.Fatal(err)
			}
			ns.Run(t, "nft", "-f", inc)
			if got := ns.Run(t, "nft", "list", "table", "ip", m.name); got != want {
				t.Fatalf("include-loaded table differs from the model's text:\n%s", got)
			}
		})
	}
}
