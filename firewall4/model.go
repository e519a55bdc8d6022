package firewall4

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/mapehelper/mapehelper/mapcalc"
)

// The rule model: one table of sets and chains, each rule a list of typed
// statements. It is written once, in Ruleset.model, and walked by two
// renderers: text (this file: the fw4 include and what `nft list`
// prints) and netlink expressions (nftexpr_linux.go: the batch Apply
// sends). A rule added to the model reaches both; a new kind of statement
// needs both of its forms, next to each other in those two files.

// table is `table ip NAME { sets… chains… }`, in the order nft lists it.
type table struct {
	name   string
	sets   []*set
	maps   []*portMap
	chains []*chain
}

// portMap is a named map from port to port with constant elements (the
// virtual range's translation, see Config.VirtualRange): `map NAME { type
// inet_service : inet_service; elements = { K : V, … } }`, keys ascending.
type portMap struct {
	name  string
	pairs [][2]uint16
}

// portMapType is every portMap's nft type.
const portMapType = "inet_service : inet_service"

// set is a named set. Only dynamic, unsized sets exist here (see
// dynsetListSize).
type set struct {
	name string
	key  []datatype // concatenated key
}

// datatype is an nft set key type, by its nft name.
type datatype string

const (
	typeInetProto   datatype = "inet_proto"
	typeIPv4Addr    datatype = "ipv4_addr"
	typeInetService datatype = "inet_service"
)

// chain is a regular chain (base nil) or a base chain.
type chain struct {
	name  string
	base  *baseChain
	rules []rule
}

// baseChain is `type TYPE hook HOOK priority PRIO; policy accept;`.
type baseChain struct {
	typ  string // "nat" or "filter"
	hook string // "postrouting", "prerouting" or "forward"
	prio priority
}

// priority is a named nft priority plus an offset, as nft prints it
// (`srcnat - 1`); value is the number the kernel stores.
type priority struct {
	name string
	off  int
}

// namedPriorities are nft's standard priorities of the ip family that we
// use, by name.
var namedPriorities = map[string]int{"raw": -300, "mangle": -150, "dstnat": -100, "srcnat": 100}

func (p priority) value() int { return namedPriorities[p.name] + p.off }

func (p priority) String() string {
	switch {
	case p.off > 0:
		return fmt.Sprintf("%s + %d", p.name, p.off)
	case p.off < 0:
		return fmt.Sprintf("%s - %d", p.name, -p.off)
	}
	return p.name
}

// rule is a list of statements, matched and executed left to right.
type rule []stmt

// stmt is one statement of a rule. text is its nft syntax as `nft list`
// prints it; its netlink form is the nft method in nftexpr_linux.go.
type stmt interface {
	text() string
}

// IP protocol numbers we match.
const (
	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17
)

var protoNames = map[uint8]string{protoICMP: "icmp", protoTCP: "tcp", protoUDP: "udp"}

// matchIfname is `oifname "NAME"` (out) or `iifname "NAME"`.
type matchIfname struct {
	out  bool
	name string
}

func (m matchIfname) text() string {
	if m.out {
		return fmt.Sprintf("oifname %q", m.name)
	}
	return fmt.Sprintf("iifname %q", m.name)
}

// matchL4Proto is `meta l4proto P`, `meta l4proto != P` or, with several
// protocols (ascending, as nft lists them), `meta l4proto { P, Q }`.
type matchL4Proto struct {
	not    bool
	protos []uint8
}

func (m matchL4Proto) text() string {
	names := make([]string, len(m.protos))
	for i, p := range m.protos {
		names[i] = protoNames[p]
	}
	op := ""
	if m.not {
		op = "!= "
	}
	if len(names) == 1 {
		return "meta l4proto " + op + names[0]
	}
	return "meta l4proto " + op + "{ " + strings.Join(names, ", ") + " }"
}

// matchSaddr is `ip saddr A` or `ip saddr != A`.
type matchSaddr struct {
	not  bool
	addr netip.Addr
}

func (m matchSaddr) text() string {
	if m.not {
		return fmt.Sprintf("ip saddr != %v", m.addr)
	}
	return fmt.Sprintf("ip saddr %v", m.addr)
}

// matchCtNew is `ct state new`: the packet starts a connection.
type matchCtNew struct{}

func (matchCtNew) text() string { return "ct state new" }

// portField names a TCP or UDP port field: `tcp sport`, `udp dport`, ….
func portField(proto uint8, dst bool) string {
	if dst {
		return protoNames[proto] + " dport"
	}
	return protoNames[proto] + " sport"
}

// mapPort is `P F set P F map @M` (P tcp or udp, F sport or dport): the
// port is replaced by its value in map M; a port that is no key of M
// leaves the packet as it is (the lookup fails, the rule ends).
type mapPort struct {
	proto uint8
	dst   bool
	m     string
}

func (m mapPort) text() string {
	f := portField(m.proto, m.dst)
	return fmt.Sprintf("%s set %s map @%s", f, f, m.m)
}

// dnatToPort is `dnat to A:P dport` (P tcp or udp; the rule matches P
// first, as nft requires): the address becomes A, the port stays the
// packet's destination port.
type dnatToPort struct {
	addr  netip.Addr
	proto uint8
}

func (d dnatToPort) text() string {
	return fmt.Sprintf("dnat to %v:%s", d.addr, portField(d.proto, true))
}

// TCP flag bits, in the order nft names them.
const (
	tcpFIN = 1 << iota
	tcpSYN
	tcpRST
)

var tcpFlagNames = []string{"fin", "syn", "rst"}

func tcpFlagText(f uint8) string {
	var names []string
	for i, n := range tcpFlagNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// matchTCPFlags is `tcp flags SET / MASK`: of the flags in mask, exactly
// those in set are on.
type matchTCPFlags struct{ set, mask uint8 }

func (m matchTCPFlags) text() string {
	return fmt.Sprintf("tcp flags %s / %s", tcpFlagText(m.set), tcpFlagText(m.mask))
}

// matchMSSOver is `tcp option maxseg size > N`.
type matchMSSOver struct{ size uint16 }

func (m matchMSSOver) text() string { return fmt.Sprintf("tcp option maxseg size > %d", m.size) }

// setMSS is `tcp option maxseg size set N`.
type setMSS struct{ size uint16 }

func (m setMSS) text() string { return fmt.Sprintf("tcp option maxseg size set %d", m.size) }

// keyPart is one field of a concatenated set key.
type keyPart int

const (
	keyL4Proto  keyPart = iota // meta l4proto
	keyDaddr                   // ip daddr
	keyDport                   // th dport
	keyZeroPort                // the constant port 0
	keySaddr                   // ip saddr
	keySport                   // th sport
	// udp sport: the rule matches UDP only. nft adds `meta l4proto udp`
	// in front of the rule when it reads the text (its payload
	// dependency) and leaves that match out when it lists the rule, so the
	// text has no match of its own and the netlink form carries it.
	keyUDPSport
)

var keyPartNames = map[keyPart]string{keyL4Proto: "meta l4proto", keyDaddr: "ip daddr", keyDport: "th dport", keyZeroPort: "0",
	keySaddr: "ip saddr", keySport: "th sport", keyUDPSport: "udp sport"}

func keyText(key []keyPart) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = keyPartNames[k]
	}
	return strings.Join(parts, " . ")
}

// matchInSet is `KEY @SET`: the packet's key is an element of the set.
type matchInSet struct {
	set string
	key []keyPart
}

func (m matchInSet) text() string { return fmt.Sprintf("%s @%s", keyText(m.key), m.set) }

// countOver is `add @SET { KEY ct count over N }`: add the packet's key
// to the dynamic set, the element counting the connections under it; it
// matches when the count (this connection included) exceeds over.
type countOver struct {
	set  string
	key  []keyPart
	over int
}

func (c countOver) text() string {
	return fmt.Sprintf("add @%s { %s ct count over %d }", c.set, keyText(c.key), c.over)
}

// numgenVmap is `numgen inc mod N vmap { 0 : jump C0, … }`: N is the
// number of chains, taken in turn.
type numgenVmap struct{ chains []string }

func (n numgenVmap) text() string {
	return fmt.Sprintf("numgen inc mod %d vmap { %s }", len(n.chains), indexVmapText(n.chains))
}

// indexVmapText is the body of a verdict map from 0..N-1 to jump C0..CN-1.
func indexVmapText(chains []string) string {
	vm := make([]string, len(chains))
	for i, c := range chains {
		vm[i] = fmt.Sprintf("%d : jump %s", i, c)
	}
	return strings.Join(vm, ", ")
}

// sportVmap is `udp sport vmap { LO-HI : jump C, … }` (UDP only: nft
// lists the protocol match it implies this way): jump to the chain of the
// port range the source port lies in (ranges ascending, disjoint, one
// chain each); no verdict when it lies in none.
type sportVmap struct {
	ranges []mapcalc.PortRange
	chains []string
}

func (s sportVmap) text() string {
	vm := make([]string, len(s.ranges))
	for i, r := range s.ranges {
		if r.Lo == r.Hi {
			vm[i] = fmt.Sprintf("%d : jump %s", r.Lo, s.chains[i])
		} else {
			vm[i] = fmt.Sprintf("%d-%d : jump %s", r.Lo, r.Hi, s.chains[i])
		}
	}
	return fmt.Sprintf("udp sport vmap { %s }", strings.Join(vm, ", "))
}

// snat is `snat to A`, `snat to A:P` or `snat to A:LO-HI` (ports nil: any
// port).
type snat struct {
	addr  netip.Addr
	ports *mapcalc.PortRange
}

func (s snat) text() string {
	switch {
	case s.ports == nil:
		return fmt.Sprintf("snat to %v", s.addr)
	case s.ports.Lo == s.ports.Hi:
		return fmt.Sprintf("snat to %v:%d", s.addr, s.ports.Lo)
	}
	return fmt.Sprintf("snat to %v:%d-%d", s.addr, s.ports.Lo, s.ports.Hi)
}

// verdict is `drop`, `return`, `jump C` or `goto C`.
type verdict struct {
	kind  string
	chain string // jump and goto
}

func (v verdict) text() string {
	if v.chain != "" {
		return v.kind + " " + v.chain
	}
	return v.kind
}

func drop() verdict               { return verdict{kind: "drop"} }
func ret() verdict                { return verdict{kind: "return"} }
func jump(chain string) verdict   { return verdict{kind: "jump", chain: chain} }
func goTo(chain string) verdict   { return verdict{kind: "goto", chain: chain} }
func oif(name string) matchIfname { return matchIfname{out: true, name: name} }

// snatProtos are the protocols we SNAT (ICMP: the kernel maps the echo
// identifier into the port range, which is what the BR checks).
var snatProtos = matchL4Proto{protos: []uint8{protoICMP, protoTCP, protoUDP}}

// The count sets' key and the keys try_i adds: TCP and UDP per
// destination address and port, ICMP (echo ids are unique per destination
// address only) per address with the constant port 0.
var (
	countKeyType   = []datatype{typeInetProto, typeIPv4Addr, typeInetService}
	countKeyPort   = []keyPart{keyL4Proto, keyDaddr, keyDport}
	countKeyNoPort = []keyPart{keyL4Proto, keyDaddr, keyZeroPort}
	onlyICMP       = matchL4Proto{protos: []uint8{protoICMP}}
	notICMP        = matchL4Proto{not: true, protos: []uint8{protoICMP}}
	onlyUDP        = matchL4Proto{protos: []uint8{protoUDP}}
	// The LAN endpoint of a UDP flow, the key of the eim_i sets: `udp
	// sport` makes every rule that uses it match UDP only (the protocol
	// stays in the key so the sets keep the count sets' type).
	endpointKey = []keyPart{keyL4Proto, keySaddr, keyUDPSport}
)

// model builds the table of rs: every set, chain and rule, in the order
// `nft list` prints them. Chains are created in this order, which is the
// order nft lists them, and all exist before any rule refers to one.
func (rs *Ruleset) model() *table {
	t := &table{name: rs.Table}
	add := func(name string, base *baseChain, rules ...rule) {
		t.chains = append(t.chains, &chain{name: name, base: base, rules: rules})
	}
	n := rs.setCount()
	setChains := make([]string, n)
	for i := range n {
		setChains[i] = SetChain(i)
	}

	// set_i: SNAT into port set i. With several sets, a UDP flow's LAN
	// endpoint is first noted in eim_i (see the srcnat chain below).
	for i := range n {
		s := snat{addr: rs.IPv4}
		if len(rs.PortSets) > 0 {
			s.ports = &rs.PortSets[i]
		}
		var rules []rule
		if rs.counted() {
			rules = append(rules, rule{countOver{EIMSet(i), endpointKey, 0}})
		}
		protos := snatProtos
		if rs.Virtual {
			protos = onlyICMP // TCP and UDP take the virtual range
		}
		add(setChains[i], nil, append(rules, rule{protos, s})...)
	}

	srcnat := &baseChain{typ: "nat", hook: "postrouting", prio: prioSrcNAT}
	tun := oif(rs.Tunnel)
	if rs.counted() {
		// try_i counts the connection in occ_i (see countKeyPort) and
		// returns when the set is full, else SNATs into it. The count
		// includes the connection itself: nf_conncount adds it first, so
		// `over SIZE` means full.
		tryChains := make([]string, n)
		for i := range n {
			tryChains[i] = TryChain(i)
			t.sets = append(t.sets, &set{name: OccSet(i), key: countKeyType})
		}
		for i := range n {
			t.sets = append(t.sets, &set{name: EIMSet(i), key: countKeyType})
		}
		walk := make([]rule, n)
		eim := make([]rule, n)
		for i := range n {
			size, occ := rs.PortSets[i].Len(), OccSet(i)
			add(tryChains[i], nil,
				rule{notICMP, countOver{occ, countKeyPort, size}, ret()},
				rule{onlyICMP, countOver{occ, countKeyNoPort, size}, ret()},
				rule{goTo(setChains[i])})
			walk[i] = rule{jump(tryChains[i])}
			eim[i] = rule{matchInSet{EIMSet(i), endpointKey}, jump(tryChains[i])}
		}
		add(ChainWalk, nil, walk...)
		add(ChainEIM, nil, eim...)
		// Endpoint-independent mapping (RFC 4787 REQ-1, issue 13): a
		// UDP flow whose LAN endpoint (address, port) already has a flow
		// in set i tries set i first. UDP only: the lookup is one rule
		// per set and the note a `ct count` per flow, which cost TCP
		// 3.5 % (v6 plus) and 6.8 % (OCN) of the native connection rate
		// (docs/bench.md), for a mapping that TCP applications rarely
		// depend on (games and peer-to-peer traffic use UDP). eim_i holds the
		// endpoints with a live connection in set i: set_i adds each one
		// it SNATs, and the element's `ct count` (over 0: always true, it
		// only counts) keeps it exactly while one of them lives; the
		// kernel's garbage collection drops it after. Inside the set the
		// kernel does the rest: nf_nat_core's get_unique_tuple() reuses
		// the (IPv4, port) the endpoint's other connection is mapped to
		// when it lies in the range and is free towards the new
		// destination (find_appropriate_src), else keeps the LAN port when
		// it lies in the range and is free (port preservation), else picks
		// a free one. A new UDP endpoint whose port lies in one of our
		// sets tries that set (its port is then preserved); any other
		// tries the set numgen picks, like ICMP (echo ids are per flow:
		// no endpoint to keep). numgen rather than a hash of the endpoint,
		// and no port preservation for TCP (whose connect() ports are
		// consecutive, so several land in one set together): numgen's
		// round robin fills the sets evenly, while every connection that
		// finds its first set full is counted in each full set it passes
		// (the inflation, docs/bench.md); either change cost 10 of 24 new
		// connections at 90 % occupancy (TestTrafficHighOccupancy).
		// When the first set has no port free towards the destination,
		// the connection walks every set in order (a new external port:
		// the RFC's "unless taken towards that destination"), then, every
		// set looking full, takes the set numgen picks, unchecked. Only
		// the protocols we SNAT enter the try chains, so their rules tell
		// ICMP from TCP/UDP by one comparison; others go on to fw4's
		// masquerade, as set_i would not SNAT them either.
		add(ChainSNAT, srcnat,
			rule{tun, onlyUDP, jump(ChainEIM)},
			rule{tun, sportVmap{rs.PortSets, tryChains}},
			rule{tun, snatProtos, numgenVmap{tryChains}},
			rule{tun, snatProtos, jump(ChainWalk)},
			rule{tun, snatProtos, numgenVmap{setChains}})
	} else if rs.Virtual {
		rs.virtualRange(t, add, setChains)
	} else {
		add(ChainSNAT, srcnat, rule{tun, numgenVmap{setChains}})
	}

	if rs.MSS != 0 {
		// A fixed MSS = MTU-40 rather than `rt mtu`: for a SYN-ACK coming
		// in from the tunnel the route MTU is the LAN's, which would not
		// clamp at all.
		clamp := func(dir matchIfname) rule {
			return rule{dir, matchTCPFlags{set: tcpSYN, mask: tcpSYN | tcpRST}, matchMSSOver{rs.MSS}, setMSS{rs.MSS}}
		}
		add(ChainMSS, &baseChain{typ: "filter", hook: "forward", prio: prioMangle},
			clamp(tun), clamp(matchIfname{name: rs.Tunnel}))
	}
	guard := []rule{{tun, matchSaddr{not: true, addr: rs.IPv4}, drop()}}
	if rs.Virtual {
		// After NAT, virtual source ports become real ones.
		for _, p := range []uint8{protoTCP, protoUDP} {
			guard = append(guard, rule{tun, mapPort{p, false, MapVirtualToReal}})
		}
	}
	add(ChainGuard, &baseChain{typ: "filter", hook: "postrouting", prio: prioGuard}, guard...)
	if rs.Virtual {
		rs.virtualInbound(add)
	}
	return t
}

// virtualRange adds the SNAT of the virtual range (Config.VirtualRange):
// the maps between virtual and real ports, then one SNAT of TCP and UDP
// into A:1-N, where the kernel's NAT picks a free port among all N the
// way it does in any contiguous range (free towards the destination,
// TIME_WAIT included; the LAN endpoint's port of an earlier connection
// first, which is endpoint-independent mapping), so no count, walk or
// endpoint set is needed. ICMP echo keeps the per-set SNAT that numgen
// spreads (set_i): nft cannot declare a map that both `icmp id` (an
// integer) and the port fields (inet_service) look up, and a second pair
// of maps would need the typeof declarations that github.com/google/nftables
// cannot send.
func (rs *Ruleset) virtualRange(t *table, add func(string, *baseChain, ...rule), setChains []string) {
	v2r, r2v := &portMap{name: MapVirtualToReal}, &portMap{name: MapRealToVirtual}
	v := uint16(0)
	for _, r := range rs.PortSets {
		for p := int(r.Lo); p <= int(r.Hi); p++ {
			v++
			v2r.pairs = append(v2r.pairs, [2]uint16{v, uint16(p)})
			r2v.pairs = append(r2v.pairs, [2]uint16{uint16(p), v})
		}
	}
	t.maps = append(t.maps, v2r, r2v)
	tun := oif(rs.Tunnel)
	add(ChainSNAT, &baseChain{typ: "nat", hook: "postrouting", prio: prioSrcNAT},
		rule{tun, matchL4Proto{protos: []uint8{protoTCP, protoUDP}}, snat{addr: rs.IPv4, ports: &mapcalc.PortRange{Lo: 1, Hi: v}}},
		rule{tun, onlyICMP, numgenVmap{setChains}})
}

// virtualInbound adds the inbound half of the virtual range: real
// destination ports become virtual before conntrack sees the packet (so a
// reply finds its connection), and a connection that starts from outside
// gets its real port back before fw4's port forwards look at it (their
// `dnat` then sets the LAN port, and the reply leaves through the
// connection's virtual port, which the guard chain turns real again); one
// that no forward takes is bound to the shared IPv4 and its real port, so
// a service on the router answers from the port it listens on.
func (rs *Ruleset) virtualInbound(add func(string, *baseChain, ...rule)) {
	in := matchIfname{name: rs.Tunnel}
	prots := []uint8{protoTCP, protoUDP}
	var raw, unsolicited, local []rule
	for _, p := range prots {
		raw = append(raw, rule{in, mapPort{p, true, MapRealToVirtual}})
	}
	for _, p := range prots {
		unsolicited = append(unsolicited, rule{in, matchCtNew{}, mapPort{p, true, MapVirtualToReal}})
	}
	for _, p := range prots {
		local = append(local, rule{in, matchL4Proto{protos: []uint8{p}}, dnatToPort{rs.IPv4, p}})
	}
	add(ChainInbound, &baseChain{typ: "filter", hook: "prerouting", prio: prioInbound}, raw...)
	add(ChainUnsolicited, &baseChain{typ: "filter", hook: "prerouting", prio: prioUnsolicited}, unsolicited...)
	add(ChainLocal, &baseChain{typ: "nat", hook: "prerouting", prio: prioLocal}, local...)
}

// text writes the table exactly as `nft list table ip NAME` prints it
// (listing) or as the include loads it: listing adds what the kernel fills
// in itself (the dynamic sets' element limit), which the loadable text
// must leave out so that loading it allocates no hash table up front.
func (t *table) text(listing bool) string {
	var blocks []string
	for _, s := range t.sets {
		var b strings.Builder
		keys := make([]string, len(s.key))
		for i, k := range s.key {
			keys[i] = string(k)
		}
		fmt.Fprintf(&b, "\tset %s {\n\t\ttype %s\n", s.name, strings.Join(keys, " . "))
		if listing {
			fmt.Fprintf(&b, "\t\tsize %d\n", dynsetListSize)
		}
		b.WriteString("\t\tflags dynamic\n\t}\n")
		blocks = append(blocks, b.String())
	}
	for _, m := range t.maps {
		blocks = append(blocks, m.text())
	}
	for _, c := range t.chains {
		var b strings.Builder
		fmt.Fprintf(&b, "\tchain %s {\n", c.name)
		if c.base != nil {
			fmt.Fprintf(&b, "\t\ttype %s hook %s priority %v; policy accept;\n", c.base.typ, c.base.hook, c.base.prio)
		}
		for _, r := range c.rules {
			fmt.Fprintf(&b, "\t\t%s\n", r.text())
		}
		b.WriteString("\t}\n")
		blocks = append(blocks, b.String())
	}
	return fmt.Sprintf("table ip %s {\n%s}\n", t.name, strings.Join(blocks, "\n"))
}

func (r rule) text() string {
	parts := make([]string, len(r))
	for i, s := range r {
		parts[i] = s.text()
	}
	return strings.Join(parts, " ")
}

// chainNames lists the chains in creation order.
func (t *table) chainNames() []string {
	names := make([]string, len(t.chains))
	for i, c := range t.chains {
		names[i] = c.name
	}
	return names
}

// text is the map as nft lists it and loads it: elements in ascending key
// order, five to a line (nft's layout for port keys).
func (m *portMap) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\tmap %s {\n\t\ttype %s\n\t\telements = { ", m.name, portMapType)
	for i, kv := range m.pairs {
		switch {
		case i == 0:
		case i%5 == 0:
			b.WriteString(",\n\t\t\t     ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d : %d", kv[0], kv[1])
	}
	b.WriteString(" }\n\t}\n")
	return b.String()
}
