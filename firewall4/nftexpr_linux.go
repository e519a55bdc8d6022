package firewall4

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The netlink renderer of the model (model.go): each statement's nft
// method returns the expressions nft itself generates for that statement's
// text, so `nft list` of the applied table prints Render exactly (proved
// by TestApplyAgreesWithRender in a namespace).

// nftStmt is a statement's netlink form; every stmt of model.go has one.
// nft appends the statement's expressions to to.
type nftStmt interface {
	nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error)
}

// ruleCtx is what a statement needs while its rule is queued: the
// connection and table for anonymous sets, the named sets, and which
// protocol dependency the rule has already established.
type ruleCtx struct {
	c     *nftables.Conn
	t     *nftables.Table
	sets  map[string]*nftables.Set
	proto uint8 // the protocol `meta l4proto P` already matched, 0 if none
}

var (
	datatypes = map[datatype]nftables.SetDatatype{
		typeInetProto: nftables.TypeInetProto, typeIPv4Addr: nftables.TypeIPAddr, typeInetService: nftables.TypeInetService,
	}
	chainTypes = map[string]nftables.ChainType{"nat": nftables.ChainTypeNAT, "filter": nftables.ChainTypeFilter}
	chainHooks = map[string]*nftables.ChainHook{"postrouting": nftables.ChainHookPostrouting, "prerouting": nftables.ChainHookPrerouting,
		"forward": nftables.ChainHookForward}
)

// mapChunk is how many map elements go in one netlink message.
const mapChunk = 256

// queue adds the sets, chains and rules of m to the batch on c, in that
// order: every set and chain exists before a rule refers to it (the kernel
// resolves set names and jump targets when it takes each rule), and the
// chains are created in model order, the order nft lists them.
func queue(c *nftables.Conn, t *nftables.Table, m *table) error {
	sets := make(map[string]*nftables.Set, len(m.sets))
	for _, s := range m.sets {
		types := make([]nftables.SetDatatype, len(s.key))
		for i, k := range s.key {
			types[i] = datatypes[k]
		}
		key := types[0]
		if len(types) > 1 {
			var err error
			if key, err = nftables.ConcatSetType(types...); err != nil {
				return fmt.Errorf("nftables: key type of set %s: %w", s.name, err)
			}
		}
		ns := &nftables.Set{Table: t, Name: s.name, KeyType: key, Dynamic: true} // unsized: see dynsetListSize
		if err := c.AddSet(ns, nil); err != nil {
			return fmt.Errorf("nftables: add set %s: %w", s.name, err)
		}
		sets[s.name] = ns
	}
	for _, pm := range m.maps {
		ns := &nftables.Set{Table: t, Name: pm.name, IsMap: true, KeyType: nftables.TypeInetService, DataType: nftables.TypeInetService}
		elems := make([]nftables.SetElement, len(pm.pairs))
		for i, kv := range pm.pairs {
			elems[i] = nftables.SetElement{Key: binary.BigEndian.AppendUint16(nil, kv[0]), Val: binary.BigEndian.AppendUint16(nil, kv[1])}
		}
		if err := c.AddSet(ns, nil); err != nil {
			return fmt.Errorf("nftables: add map %s: %w", pm.name, err)
		}
		// A few hundred elements per message: the element list is one
		// netlink attribute, whose length is 16 bits (OCN's 1008 pairs
		// fit one, a PSID of 4 bits' 4032 did not: the list was cut).
		for chunk := range slices.Chunk(elems, mapChunk) {
			if err := c.SetAddElements(ns, chunk); err != nil {
				return fmt.Errorf("nftables: add elements to map %s: %w", pm.name, err)
			}
		}
		sets[pm.name] = ns
	}
	chains := make([]*nftables.Chain, len(m.chains))
	for i, ch := range m.chains {
		nc := &nftables.Chain{Name: ch.name, Table: t}
		if b := ch.base; b != nil {
			nc.Type, nc.Hooknum, nc.Priority = chainTypes[b.typ], chainHooks[b.hook], nftables.ChainPriorityRef(nftables.ChainPriority(b.prio.value()))
		}
		chains[i] = c.AddChain(nc)
	}
	x := &ruleCtx{c: c, t: t, sets: sets}
	for i, ch := range m.chains {
		for _, r := range ch.rules {
			x.proto = 0
			exprs := make([]expr.Any, 0, 4*len(r))
			for _, s := range r {
				ns, ok := s.(nftStmt)
				if !ok {
					return fmt.Errorf("nftables: chain %s: %s: no netlink form", ch.name, s.text())
				}
				var err error
				if exprs, err = ns.nft(x, exprs); err != nil {
					return fmt.Errorf("nftables: chain %s: %s: %w", ch.name, s.text(), err)
				}
			}
			c.AddRule(&nftables.Rule{Table: t, Chain: chains[i], Exprs: exprs})
		}
	}
	return nil
}

// matchIfname: the name padded with zeros to IFNAMSIZ, compared in full,
// as nft does.
func (m matchIfname) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	key := expr.MetaKeyOIFNAME
	if !m.out {
		key = expr.MetaKeyIIFNAME
	}
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, m.name)
	return append(to, &expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b}), nil
}

// matchL4Proto: one protocol is a comparison, several a lookup in an
// anonymous constant set.
func (m matchL4Proto) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	load := &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}
	op := expr.CmpOpEq
	if m.not {
		op = expr.CmpOpNeq
	}
	if len(m.protos) == 1 {
		if !m.not {
			x.proto = m.protos[0]
		}
		return append(to, load, &expr.Cmp{Op: op, Register: 1, Data: []byte{m.protos[0]}}), nil
	}
	s := &nftables.Set{Table: x.t, Anonymous: true, Constant: true, KeyType: nftables.TypeInetProto}
	elems := make([]nftables.SetElement, len(m.protos))
	for i, p := range m.protos {
		elems[i] = nftables.SetElement{Key: []byte{p}}
	}
	if err := x.c.AddSet(s, elems); err != nil {
		return nil, fmt.Errorf("add protocol set: %w", err)
	}
	return append(to, load, &expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID, Invert: m.not}), nil
}

// matchSaddr: 4 bytes at network header + 12.
func (m matchSaddr) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	op := expr.CmpOpEq
	if m.not {
		op = expr.CmpOpNeq
	}
	a4 := m.addr.As4()
	return append(to,
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: op, Register: 1, Data: a4[:]}), nil
}

// needProto is the dependency nft adds before the first TCP or UDP header
// field of a rule (and hides when listing): `meta l4proto P`, unless the
// rule has matched P already.
func (x *ruleCtx) needProto(to []expr.Any, proto uint8) []expr.Any {
	if x.proto == proto {
		return to
	}
	x.proto = proto
	return append(to,
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}})
}

func (x *ruleCtx) needTCP(to []expr.Any) []expr.Any { return x.needProto(to, protoTCP) }

// matchCtNew: the conntrack state bits, masked with new's.
func (matchCtNew) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	newBit := binary.NativeEndian.AppendUint32(nil, expr.CtStateBitNEW)
	return append(to, &expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: newBit, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}}), nil
}

// portOffset is the port field's offset in the TCP/UDP header, and
// checksumOffset where that header's checksum lies (the port is not part of
// the pseudo-header: nft updates the checksum for the field alone).
func portOffset(dst bool) uint32 {
	if dst {
		return 2
	}
	return 0
}

var checksumOffset = map[uint8]uint32{protoTCP: 16, protoUDP: 6}

// mapPort: load the port, look it up in the map (the value replaces it
// in the register; no key, no match), write it back with the checksum
// updated.
func (m mapPort) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	s := x.sets[m.m]
	if s == nil {
		return nil, fmt.Errorf("no map %s in the model", m.m)
	}
	off := portOffset(m.dst)
	return append(x.needProto(to, m.proto),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2},
		&expr.Lookup{SourceRegister: 1, IsDestRegSet: true, DestRegister: 1, SetName: s.Name, SetID: s.ID},
		&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2,
			CsumType: expr.CsumTypeInet, CsumOffset: checksumOffset[m.proto]}), nil
}

// dnatToPort: the address in register 1, the destination port loaded into
// register 2.
func (d dnatToPort) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	a4 := d.addr.As4()
	return append(x.needProto(to, d.proto),
		&expr.Immediate{Register: 1, Data: a4[:]},
		&expr.Payload{DestRegister: 2, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true}), nil
}

// matchTCPFlags: the flags byte at transport header + 13, masked.
func (m matchTCPFlags) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	return append(x.needTCP(to),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 13, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{m.mask}, Xor: []byte{0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{m.set}}), nil
}

// mssOption is TCP option 2 (maxseg): the 2-byte value after kind and
// length.
func mssOption(reg uint32, load bool) *expr.Exthdr {
	e := &expr.Exthdr{Op: expr.ExthdrOpTcpopt, Type: 2, Offset: 2, Len: 2}
	if load {
		e.DestRegister = reg
	} else {
		e.SourceRegister = reg
	}
	return e
}

func (m matchMSSOver) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	return append(x.needTCP(to), mssOption(1, true),
		&expr.Cmp{Op: expr.CmpOpGt, Register: 1, Data: binary.BigEndian.AppendUint16(nil, m.size)}), nil
}

func (m setMSS) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	return append(x.needTCP(to), &expr.Immediate{Register: 1, Data: binary.BigEndian.AppendUint16(nil, m.size)}, mssOption(1, false)), nil
}

// connlimitInvert is NFT_CONNLIMIT_F_INV (`ct count over N`), which
// golang.org/x/sys/unix does not define.
const connlimitInvert = 1

// keyRegister is where field w (in 32-bit words from the start) of a
// concatenated key goes: NFT_REG_1 for the first (its first 32-bit word),
// then NFT_REG32_01, NFT_REG32_02, …: the layout nft uses.
func keyRegister(w int) uint32 {
	if w == 0 {
		return unix.NFT_REG_1
	}
	return unix.NFT_REG32_00 + uint32(w)
}

// loadKey loads the fields of a concatenated key into consecutive
// registers from keyRegister(0), and returns the named set.
func (x *ruleCtx) loadKey(to []expr.Any, set string, key []keyPart) ([]expr.Any, *nftables.Set, error) {
	s := x.sets[set]
	if s == nil {
		return nil, nil, fmt.Errorf("no set %s in the model", set)
	}
	if slices.Contains(key, keyUDPSport) {
		// The payload dependency nft adds for `udp sport` (see keyUDPSport).
		to = append(to, &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}})
	}
	for w, k := range key { // every field here fits one 32-bit word
		reg := keyRegister(w)
		switch k {
		case keyL4Proto:
			to = append(to, &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg})
		case keyDaddr:
			to = append(to, &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4})
		case keySaddr:
			to = append(to, &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4})
		case keyDport:
			to = append(to, &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
		case keySport, keyUDPSport:
			to = append(to, &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 2})
		case keyZeroPort:
			to = append(to, &expr.Immediate{Register: reg, Data: []byte{0, 0}})
		default:
			return nil, nil, fmt.Errorf("key field %d has no netlink form", k)
		}
	}
	return to, s, nil
}

// countOver: the key fields loaded into consecutive registers, then a
// dynset add carrying the connlimit expression.
func (c countOver) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	exprs, s, err := x.loadKey(to, c.set, c.key)
	if err != nil {
		return nil, err
	}
	return append(exprs, &expr.Dynset{SrcRegKey: keyRegister(0), SetName: s.Name, SetID: s.ID, Operation: unix.NFT_DYNSET_OP_ADD,
		Exprs: []expr.Any{&expr.Connlimit{Count: uint32(c.over), Flags: connlimitInvert}}}), nil
}

// matchInSet: the key loaded as for countOver, then a lookup.
func (m matchInSet) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	exprs, s, err := x.loadKey(to, m.set, m.key)
	if err != nil {
		return nil, err
	}
	return append(exprs, &expr.Lookup{SourceRegister: keyRegister(0), SetName: s.Name, SetID: s.ID}), nil
}

// numgenVmap: an anonymous verdict map looked up by the number.
func (n numgenVmap) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	return x.indexVmap(append(to, &expr.Numgen{Register: 1, Type: unix.NFT_NG_INCREMENTAL, Modulus: uint32(len(n.chains))}), n.chains)
}

// indexVmap appends the lookup of register 1 (a host-order number
// 0..N-1) in an anonymous verdict map to jump chains[i].
//
// numgen yields a host-order integer, but google/nftables marks
// every anonymous set's key as big-endian, so nft would list host-order
// keys byte-swapped (0, 16777216, …). Converting the number to network
// order first and storing big-endian keys gives the same lookups and lists
// as exactly `… mod N vmap { 0 : jump set_0, … }` (nft hides the byteorder
// step), which is what the include says.
func (x *ruleCtx) indexVmap(to []expr.Any, chains []string) ([]expr.Any, error) {
	vmap := &nftables.Set{Table: x.t, Anonymous: true, Constant: true, IsMap: true,
		KeyType: nftables.TypeInteger, DataType: nftables.TypeVerdict}
	elems := make([]nftables.SetElement, len(chains))
	for i, c := range chains {
		elems[i] = nftables.SetElement{Key: binary.BigEndian.AppendUint32(nil, uint32(i)),
			VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: c}}
	}
	if err := x.c.AddSet(vmap, elems); err != nil {
		return nil, fmt.Errorf("add verdict map: %w", err)
	}
	return append(to,
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Lookup{SourceRegister: 1, IsDestRegSet: true, DestRegister: 0, SetName: vmap.Name, SetID: vmap.ID}), nil
}

// sportVmap: `meta l4proto udp` (the dependency nft adds and hides), then
// an anonymous interval verdict map on the source port, with
// the elements nft sends for it: the start of each range carries the
// verdict, the port after it is an interval end (left out when the next
// range starts there or the range ends at 65535), and a leading end at
// port 0 closes the gap below the first range.
func (s sportVmap) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	vmap := &nftables.Set{Table: x.t, Anonymous: true, Constant: true, IsMap: true, Interval: true,
		KeyType: nftables.TypeInetService, DataType: nftables.TypeVerdict}
	port := func(p uint16) []byte { return binary.BigEndian.AppendUint16(nil, p) }
	var elems []nftables.SetElement
	if len(s.ranges) > 0 && s.ranges[0].Lo > 0 {
		elems = append(elems, nftables.SetElement{Key: port(0), IntervalEnd: true})
	}
	for i, r := range s.ranges {
		elems = append(elems, nftables.SetElement{Key: port(r.Lo), VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: s.chains[i]}})
		if r.Hi != 65535 && (i+1 == len(s.ranges) || s.ranges[i+1].Lo != r.Hi+1) {
			elems = append(elems, nftables.SetElement{Key: port(r.Hi + 1), IntervalEnd: true})
		}
	}
	if err := x.c.AddSet(vmap, elems); err != nil {
		return nil, fmt.Errorf("add port verdict map: %w", err)
	}
	return append(to,
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 2},
		&expr.Lookup{SourceRegister: 1, IsDestRegSet: true, DestRegister: 0, SetName: vmap.Name, SetID: vmap.ID}), nil
}

// snat: the address in register 1, the port range in 2 and 3 (a single
// port in 2 only: nft's own form).
func (s snat) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	a4 := s.addr.As4()
	exprs := append(to, &expr.Immediate{Register: 1, Data: a4[:]})
	nat := &expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}
	if p := s.ports; p != nil {
		exprs = append(exprs, &expr.Immediate{Register: 2, Data: binary.BigEndian.AppendUint16(nil, p.Lo)})
		nat.RegProtoMin, nat.Specified = 2, true
		if p.Hi != p.Lo {
			exprs = append(exprs, &expr.Immediate{Register: 3, Data: binary.BigEndian.AppendUint16(nil, p.Hi)})
			nat.RegProtoMax = 3
		}
	}
	return append(exprs, nat), nil
}

var verdictKinds = map[string]expr.VerdictKind{
	"drop": expr.VerdictDrop, "return": expr.VerdictReturn, "jump": expr.VerdictJump, "goto": expr.VerdictGoto,
}

func (v verdict) nft(x *ruleCtx, to []expr.Any) ([]expr.Any, error) {
	k, ok := verdictKinds[v.kind]
	if !ok {
		return nil, fmt.Errorf("verdict %q has no netlink form", v.kind)
	}
	return append(to, &expr.Verdict{Kind: k, Chain: v.chain}), nil
}
