package firewall4

import (
	"testing"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// recordBatch applies rs through a fake netlink socket (no root, no kernel)
// and returns the nftables message types of every request, in order, and
// how many times the socket was written to.
func recordBatch(t *testing.T, apply func(*nftables.Conn) error) (types []int, sends int) {
	t.Helper()
	c, err := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
		if len(req) == 0 { // a Receive asking for more acks
			return nil, nil
		}
		sends++
		var acks []netlink.Message
		for _, m := range req {
			types = append(types, int(m.Header.Type))
			acks = append(acks, netlink.Message{Header: netlink.Header{Type: netlink.Error, Sequence: m.Header.Sequence, PID: m.Header.PID}, Data: make([]byte, 4)})
		}
		return acks, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := apply(c); err != nil {
		t.Fatal(err)
	}
	return types, sends
}

func nft(msg int) int { return unix.NFNL_SUBSYS_NFTABLES<<8 | msg }

func count(types []int, want int) int {
	n := 0
	for _, ty := range types {
		if ty == want {
			n++
		}
	}
	return n
}

// TestApplyIsOneBatch checks the shape of the netlink traffic: one write,
// framed by batch begin/end, starting with add-delete-add of our table,
// then the chains, sets and rules of the model — nothing else.
func TestApplyIsOneBatch(t *testing.T) {
	rs, err := New(seedConfig())
	if err != nil {
		t.Fatal(err)
	}
	types, sends := recordBatch(t, func(c *nftables.Conn) error { return Apply(c, rs) })
	if sends != 1 {
		t.Fatalf("%d netlink writes, want one batch", sends)
	}
	if types[0] != unix.NFNL_MSG_BATCH_BEGIN || types[len(types)-1] != unix.NFNL_MSG_BATCH_END {
		t.Fatalf("batch not framed: first %#x last %#x", types[0], types[len(types)-1])
	}
	if got, want := types[1:4], []int{nft(unix.NFT_MSG_NEWTABLE), nft(unix.NFT_MSG_DELTABLE), nft(unix.NFT_MSG_NEWTABLE)}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("batch starts %#x, want add/delete/add table", got)
	}
	n := len(rs.PortSets)
	chains, sets, elems, rules := 2*n+5, 3*n+6, n+6, 7*n+8
	for _, c := range []struct {
		msg, want int
		what      string
	}{
		{unix.NFT_MSG_NEWCHAIN, chains, "chains (set_i, try_i, walk, eim, srcnat, mss, guard)"},
		{unix.NFT_MSG_NEWSET, sets, "sets (occ_i, eim_i, a protocol set per set_i, one per srcnat rule but the two UDP ones, three verdict maps)"},
		{unix.NFT_MSG_NEWSETELEM, elems, "set element batches (the anonymous sets)"},
		{unix.NFT_MSG_NEWRULE, rules, "rules (2 per set_i, 3 per try_i, one per set in walk and in eim, 5 in srcnat, two MSS, one guard)"},
		{unix.NFT_MSG_DELCHAIN, 0, "chain deletions"},
		{unix.NFT_MSG_DELRULE, 0, "rule deletions"},
	} {
		if got := count(types, nft(c.msg)); got != c.want {
			t.Errorf("%d %s, want %d", got, c.what, c.want)
		}
	}
	if len(types) != 2+3+chains+sets+elems+rules {
		t.Errorf("%d messages: something beyond the model was sent", len(types))
	}
}

// TestDeleteIsOneBatch: teardown touches only our table, in one batch.
func TestDeleteIsOneBatch(t *testing.T) {
	types, sends := recordBatch(t, func(c *nftables.Conn) error { return Delete(c, "wan_mape") })
	want := []int{unix.NFNL_MSG_BATCH_BEGIN, nft(unix.NFT_MSG_NEWTABLE), nft(unix.NFT_MSG_DELTABLE), unix.NFNL_MSG_BATCH_END}
	if sends != 1 || len(types) != len(want) {
		t.Fatalf("sends %d, types %#x; want %#x", sends, types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("types %#x, want %#x", types, want)
		}
	}
}
