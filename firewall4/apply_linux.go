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

// build queues the sets, chains and rules of rs in the order Render prints
// them. Every chain exists before a rule refers to it: the kernel resolves
// jump and goto targets when it takes each rule.
func (rs *Ruleset) build(c *nftables.Conn, t *nftables.Table) error {
	for i := range rs.setCount() {
		ch := c.AddChain(&nftables.Chain{Name: SetChain(i), Table: t})
		if err := rs.addSNAT(c, t, ch, i); err != nil {
			return err
		}
	}
	if rs.counted() {
		if err := rs.addCounting(c, t); err != nil {
			return err
		}
	}
	if err := rs.addDispatch(c, t); err != nil {
		return err
	}
	if rs.MSS != 0 {
		rs.addMSS(c, t)
	}
	rs.addGuard(c, t)
	return nil
}

// addGuard queues the guard chain:
//
//	oifname "map-X" ip saddr != A drop
func (rs *Ruleset) addGuard(c *nftables.Conn, t *nftables.Table) {
	ch := c.AddChain(&nftables.Chain{Name: ChainGuard, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityRef(prioGuard)})
	a4 := rs.IPv4.As4()
	exprs := append(ifname(unix.NFT_META_OIFNAME, rs.Tunnel),
		// ip saddr: 4 bytes at network header + 12.
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: a4[:]},
		&expr.Verdict{Kind: expr.VerdictDrop})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
}

// addSNAT queues the rule of port-set chain i:
//
//	meta l4proto { icmp, tcp, udp } snat to A:lo-hi
//
// For ICMP the kernel maps the echo identifier into the same range, which
// is what the BR checks.
func (rs *Ruleset) addSNAT(c *nftables.Conn, t *nftables.Table, ch *nftables.Chain, i int) error {
	protos, err := addProtoSet(c, t)
	if err != nil {
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

// connlimitInvert is NFT_CONNLIMIT_F_INV (`ct count over N`), which
// golang.org/x/sys/unix does not define.
const connlimitInvert = 1

// Registers of the count key: meta l4proto in NFT_REG_1 (its first 32-bit
// word), then ip daddr and the port in the next two 32-bit registers, the
// layout nft uses for `meta l4proto . ip daddr . th dport`.
const (
	regKey   = 1 // NFT_REG_1
	regDaddr = 9 // NFT_REG32_01
	regPort  = 10
)

// addCounting queues the count sets and the chains that use them:
//
//	set occ_i { type inet_proto . ipv4_addr . inet_service; flags dynamic; } (unsized: see dynsetListSize)
//	chain try_i { meta l4proto != icmp add @occ_i { meta l4proto . ip daddr . th dport ct count over SIZE } return
//	  meta l4proto icmp add @occ_i { meta l4proto . ip daddr . 0 ct count over SIZE } return
//	  goto set_i }
//	chain walk { jump try_0; …; jump try_N-1 }
func (rs *Ruleset) addCounting(c *nftables.Conn, t *nftables.Table) error {
	key, err := nftables.ConcatSetType(nftables.TypeInetProto, nftables.TypeIPAddr, nftables.TypeInetService)
	if err != nil {
		return fmt.Errorf("nftables: count key type: %w", err)
	}
	var try []*nftables.Chain
	for i := range rs.setCount() {
		occ := &nftables.Set{Table: t, Name: OccSet(i), KeyType: key, Dynamic: true} // unsized: see dynsetListSize
		if err := c.AddSet(occ, nil); err != nil {
			return fmt.Errorf("nftables: add set %s: %w", occ.Name, err)
		}
		ch := c.AddChain(&nftables.Chain{Name: TryChain(i), Table: t})
		try = append(try, ch)
		for _, exprs := range countExprs(occ, rs.PortSets[i].Len()) {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictGoto, Chain: SetChain(i)}}})
	}
	walk := c.AddChain(&nftables.Chain{Name: ChainWalk, Table: t})
	for _, ch := range try {
		c.AddRule(&nftables.Rule{Table: t, Chain: walk, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: ch.Name}}})
	}
	return nil
}

// countExprs are the two counting rules of a try chain (Ruleset.tryRules):
//
//	meta l4proto != icmp add @occ { meta l4proto . ip daddr . th dport ct count over SIZE } return
//	meta l4proto icmp add @occ { meta l4proto . ip daddr . 0 ct count over SIZE } return
func countExprs(occ *nftables.Set, size int) [][]expr.Any {
	rule := func(op expr.CmpOp, port expr.Any) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: op, Register: 1, Data: []byte{unix.IPPROTO_ICMP}},
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: regKey},
			&expr.Payload{DestRegister: regDaddr, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			port,
			&expr.Dynset{SrcRegKey: regKey, SetName: occ.Name, SetID: occ.ID, Operation: unix.NFT_DYNSET_OP_ADD,
				Exprs: []expr.Any{&expr.Connlimit{Count: uint32(size), Flags: connlimitInvert}}},
			&expr.Verdict{Kind: expr.VerdictReturn},
		}
	}
	return [][]expr.Any{
		rule(expr.CmpOpNeq, &expr.Payload{DestRegister: regPort, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2}),
		rule(expr.CmpOpEq, &expr.Immediate{Register: regPort, Data: []byte{0, 0}}),
	}
}

// addProtoSet queues the anonymous set { icmp, tcp, udp }: the protocols
// we SNAT.
func addProtoSet(c *nftables.Conn, t *nftables.Table) (*nftables.Set, error) {
	protos := &nftables.Set{Table: t, Anonymous: true, Constant: true, KeyType: nftables.TypeInetProto}
	elems := []nftables.SetElement{{Key: []byte{unix.IPPROTO_TCP}}, {Key: []byte{unix.IPPROTO_UDP}}, {Key: []byte{unix.IPPROTO_ICMP}}}
	return protos, c.AddSet(protos, elems)
}

// addDispatch queues the base chain. Without counting it spreads new
// connections over every port set in turn:
//
//	chain srcnat { type nat hook postrouting priority srcnat - 1; policy accept;
//	  oifname "map-x" numgen inc mod N vmap { 0 : jump set_0, … } }
//
// With counting, a connection tries the set numgen picks, then every set
// in order, then (every set looked full) the set numgen picks, unchecked:
//
//	oifname "map-x" meta l4proto { icmp, tcp, udp } numgen inc mod N vmap { 0 : jump try_0, … }
//	oifname "map-x" meta l4proto { icmp, tcp, udp } jump walk
//	oifname "map-x" meta l4proto { icmp, tcp, udp } numgen inc mod N vmap { 0 : jump set_0, … }
//
// Only the protocols we SNAT enter the try chains, so their rules can tell
// ICMP from TCP/UDP by one comparison; others go on to fw4's masquerade,
// as set_i would not SNAT them either.
func (rs *Ruleset) addDispatch(c *nftables.Conn, t *nftables.Table) error {
	ch := c.AddChain(&nftables.Chain{Name: ChainSNAT, Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityRef(prioSrcNAT)})
	if !rs.counted() {
		spread, err := rs.numgenVmap(c, t, SetChain)
		if err != nil {
			return err
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: append(ifname(unix.NFT_META_OIFNAME, rs.Tunnel), spread...)})
		return nil
	}
	tryFirst, err := rs.numgenVmap(c, t, TryChain)
	if err != nil {
		return err
	}
	fallback, err := rs.numgenVmap(c, t, SetChain)
	if err != nil {
		return err
	}
	walk := []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: ChainWalk}}
	for _, tail := range [][]expr.Any{tryFirst, walk, fallback} {
		protos, err := addProtoSet(c, t)
		if err != nil {
			return fmt.Errorf("nftables: add protocol set of %s: %w", ChainSNAT, err)
		}
		exprs := append(ifname(unix.NFT_META_OIFNAME, rs.Tunnel),
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Lookup{SourceRegister: 1, SetName: protos.Name, SetID: protos.ID})
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: append(exprs, tail...)})
	}
	return nil
}

// numgenVmap queues the verdict map of `numgen inc mod N vmap { 0 : jump
// chain(0), … }` and returns the expressions of that statement.
func (rs *Ruleset) numgenVmap(c *nftables.Conn, t *nftables.Table, chain func(int) string) ([]expr.Any, error) {
	vmap := &nftables.Set{Table: t, Anonymous: true, Constant: true, IsMap: true,
		KeyType: nftables.TypeInteger, DataType: nftables.TypeVerdict}
	// numgen yields a host-order integer, but google/nftables marks every
	// anonymous set's key as big-endian, so nft would list host-order keys
	// byte-swapped (0, 16777216, …). Converting the number to network order
	// first and storing big-endian keys gives the same lookups and lists as
	// exactly `numgen inc mod N vmap { 0 : jump set_0, … }` (nft hides the
	// byteorder step), which is what the include says.
	var elems []nftables.SetElement
	for i := range rs.setCount() {
		elems = append(elems, nftables.SetElement{Key: binary.BigEndian.AppendUint32(nil, uint32(i)),
			VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: chain(i)}})
	}
	if err := c.AddSet(vmap, elems); err != nil {
		return nil, fmt.Errorf("nftables: add port-set map: %w", err)
	}
	return []expr.Any{
		&expr.Numgen{Register: 1, Type: unix.NFT_NG_INCREMENTAL, Modulus: uint32(rs.setCount())},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Lookup{SourceRegister: 1, IsDestRegSet: true, DestRegister: 0, SetName: vmap.Name, SetID: vmap.ID},
	}, nil
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
