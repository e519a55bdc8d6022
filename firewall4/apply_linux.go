package firewall4

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ackBuffer is the netlink receive buffer Open asks for. The kernel acks
// every message of a batch; an OCN ruleset (63 port sets) is about 260
// messages, whose acks overflow the default buffer (ENOBUFS) even though
// the batch itself was fine.
const ackBuffer = 4 << 20

// Open returns an nftables connection able to take our largest batch;
// opts are passed on (e.g. nftables.WithNetNSFd for tests).
func Open(opts ...nftables.ConnOption) (*nftables.Conn, error) {
	opts = append(opts, nftables.WithSockOptions(growReadBuffer))
	c, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("nftables: open netlink: %w", err)
	}
	return c, nil
}

// growReadBuffer raises the receive buffer past net.core.rmem_max when we
// may (SO_RCVBUFFORCE needs CAP_NET_ADMIN, which up needs anyway), and
// within it otherwise.
func growReadBuffer(c *netlink.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, ackBuffer)
	}); err != nil {
		return err
	}
	if serr != nil {
		return c.SetReadBuffer(ackBuffer)
	}
	return nil
}

// Apply replaces our table with rs in one netlink batch: add table, delete
// it, add it again with every chain and rule. The kernel applies the batch
// atomically, so there is never a moment with half a ruleset, and applying
// the same rs twice yields the same ruleset.
func Apply(c *nftables.Conn, rs *Ruleset) error {
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: rs.Table}
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	if err := rs.build(c, t); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: load table ip %s: %w", rs.Table, err)
	}
	return nil
}

// Delete removes our table of iface, whether or not it exists (add then
// delete in one batch, so a missing table is not an error).
func Delete(c *nftables.Conn, iface string) error {
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: TableName(iface)}
	c.AddTable(t)
	c.DelTable(t)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: delete table ip %s: %w", t.Name, err)
	}
	return nil
}

// Exists reports whether our table of iface is loaded.
func Exists(c *nftables.Conn, iface string) (bool, error) {
	ts, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false, fmt.Errorf("nftables: list tables: %w", err)
	}
	for _, t := range ts {
		if t.Name == TableName(iface) {
			return true, nil
		}
	}
	return false, nil
}

// build queues the chains and rules of rs in the order Render prints them.
func (rs *Ruleset) build(c *nftables.Conn, t *nftables.Table) error {
	var sets []*nftables.Chain
	for i := range rs.setCount() {
		ch := c.AddChain(&nftables.Chain{Name: SetChain(i), Table: t})
		sets = append(sets, ch)
		if err := rs.addSNAT(c, t, ch, i); err != nil {
			return err
		}
	}
	if err := rs.addDispatch(c, t, sets); err != nil {
		return err
	}
	if rs.MSS != 0 {
		rs.addMSS(c, t)
	}
	return nil
}

// addSNAT queues the rule of port-set chain i:
//
//	meta l4proto { icmp, tcp, udp } snat to A:lo-hi
//
// For ICMP the kernel maps the echo identifier into the same range, which
// is what the BR checks.
func (rs *Ruleset) addSNAT(c *nftables.Conn, t *nftables.Table, ch *nftables.Chain, i int) error {
	protos := &nftables.Set{Table: t, Anonymous: true, Constant: true, KeyType: nftables.TypeInetProto}
	elems := []nftables.SetElement{{Key: []byte{unix.IPPROTO_TCP}}, {Key: []byte{unix.IPPROTO_UDP}}, {Key: []byte{unix.IPPROTO_ICMP}}}
	if err := c.AddSet(protos, elems); err != nil {
		return fmt.Errorf("nftables: add protocol set of %s: %w", ch.Name, err)
	}
	a4 := rs.IPv4.As4()
	exprs := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Lookup{SourceRegister: 1, SetName: protos.Name, SetID: protos.ID},
		&expr.Immediate{Register: 1, Data: a4[:]},
	}
	nat := &expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}
	if len(rs.PortSets) > 0 {
		p := rs.PortSets[i]
		exprs = append(exprs,
			&expr.Immediate{Register: 2, Data: binary.BigEndian.AppendUint16(nil, p.Lo)},
			&expr.Immediate{Register: 3, Data: binary.BigEndian.AppendUint16(nil, p.Hi)})
		nat.RegProtoMin, nat.RegProtoMax, nat.Specified = 2, 3, true
		if p.Lo == p.Hi {
			nat.RegProtoMax = 0 // nft's own form for a single port
			exprs = exprs[:len(exprs)-1]
		}
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: append(exprs, nat)})
	return nil
}

// addDispatch queues the base chain that spreads new connections over
// every port set in turn:
//
//	chain srcnat { type nat hook postrouting priority srcnat - 1; policy accept;
//	  oifname "map-x" numgen inc mod N vmap { 0 : jump set_0, … } }
func (rs *Ruleset) addDispatch(c *nftables.Conn, t *nftables.Table, sets []*nftables.Chain) error {
	ch := c.AddChain(&nftables.Chain{Name: ChainSNAT, Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityRef(prioSrcNAT)})
	vmap := &nftables.Set{Table: t, Anonymous: true, Constant: true, IsMap: true,
		KeyType: nftables.TypeInteger, DataType: nftables.TypeVerdict}
	// numgen yields a host-order integer, but google/nftables marks every
	// anonymous set's key as big-endian, so nft would list host-order keys
	// byte-swapped (0, 16777216, …). Converting the number to network order
	// first and storing big-endian keys gives the same lookups and lists as
	// exactly `numgen inc mod N vmap { 0 : jump set_0, … }` (nft hides the
	// byteorder step), which is what the include says.
	var elems []nftables.SetElement
	for i, s := range sets {
		elems = append(elems, nftables.SetElement{Key: binary.BigEndian.AppendUint32(nil, uint32(i)),
			VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: s.Name}})
	}
	if err := c.AddSet(vmap, elems); err != nil {
		return fmt.Errorf("nftables: add port-set map: %w", err)
	}
	exprs := append(ifname(unix.NFT_META_OIFNAME, rs.Tunnel),
		&expr.Numgen{Register: 1, Type: unix.NFT_NG_INCREMENTAL, Modulus: uint32(len(sets))},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Lookup{SourceRegister: 1, IsDestRegSet: true, DestRegister: 0, SetName: vmap.Name, SetID: vmap.ID})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
	return nil
}

// addMSS queues the clamp, one rule per direction:
//
//	chain mss { type filter hook forward priority mangle; policy accept;
//	  oifname "map-x" tcp flags syn / syn,rst tcp option maxseg size > M tcp option maxseg size set M
//	  iifname "map-x" tcp flags syn / syn,rst tcp option maxseg size > M tcp option maxseg size set M }
//
// A fixed M = MTU-40 rather than `rt mtu`: for a SYN-ACK coming in from the
// tunnel the route MTU is the LAN's, which would not clamp at all.
func (rs *Ruleset) addMSS(c *nftables.Conn, t *nftables.Table) {
	ch := c.AddChain(&nftables.Chain{Name: ChainMSS, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityRef(prioMangle)})
	mss := binary.BigEndian.AppendUint16(nil, rs.MSS)
	for _, key := range []expr.MetaKey{unix.NFT_META_OIFNAME, unix.NFT_META_IIFNAME} {
		exprs := append(ifname(key, rs.Tunnel),
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
			// tcp flags at transport header + 13; SYN set, RST clear.
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 13, Len: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{0x06}, Xor: []byte{0}},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0x02}},
			// TCP option 2 (maxseg): the 2-byte value after kind and length.
			&expr.Exthdr{Op: expr.ExthdrOpTcpopt, Type: 2, Offset: 2, Len: 2, DestRegister: 1},
			&expr.Cmp{Op: expr.CmpOpGt, Register: 1, Data: mss},
			&expr.Immediate{Register: 1, Data: mss},
			&expr.Exthdr{Op: expr.ExthdrOpTcpopt, Type: 2, Offset: 2, Len: 2, SourceRegister: 1})
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
	}
}

// ifname matches an interface name the way nft does: the name padded with
// zeros to IFNAMSIZ, compared in full.
func ifname(key expr.MetaKey, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	}
}
