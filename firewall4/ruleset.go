// Package firewall4 builds the nftables rules of one MAP interface: SNAT of
// TCP, UDP and ICMP leaving the tunnel, spread over every port set, and a
// TCP MSS clamp on the tunnel.
//
// Spreading: numgen picks the port set a new connection tries first. A
// per-set connection count (nft_connlimit in a dynamic set keyed by
// protocol, destination address and port) tells whether that set still has
// a port free towards the destination; if not, the connection tries every
// set in order and takes the first that has one. Without the count, a
// connection sent to a set whose ports are all taken towards its
// destination clashes in the kernel's NAT and its SYN is dropped until a
// retransmission lands in another set (issue 6: 88 % of new connections
// within 3 s at 90 % occupancy).
//
// Two kernel facts shape the rules. A set element carries the count
// expression of the rule that created it, so every rule that adds to a
// set uses the same `ct count over N` and acts by its verdict (return
// when full) rather than by an inverted match. nf_conncount adds the
// connection to every set it tries, so a set it passed over looks fuller
// than it is while that connection lives; the fallback when every set
// looks full is numgen, as without counts.
//
// Endpoint-independent mapping (RFC 4787 REQ-1): a TCP/UDP connection
// whose LAN endpoint already has a connection in a set tries that set
// first, where the kernel's NAT reuses the endpoint's external port; a
// new UDP endpoint on an in-set port tries its own set (port
// preservation). See model.go and docs/dataplane.md.
//
// One model, two outputs: New builds the table once as typed statements
// (model.go); the fw4 include and Render are its text, Apply sends its
// netlink form (nftexpr_linux.go). A rule is written once, in model.go.
//
// Ownership: each interface gets its own table, `table ip mapehelper_<iface>`.
// fw4 reload and restart touch only `table inet fw4`, so our table survives
// them. up replaces it whole (add, delete, add in one netlink batch); the
// include that fw4 loads on every reload flushes its rules and declares
// them again (as fw4 does with its own table), so a reload never
// duplicates a rule and the dynamic sets keep their elements: the
// per-set counts and the endpoint mappings outlive the reload (issue 14,
// goal 2). Teardown deletes exactly that table.
package firewall4

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/mapehelper/mapehelper/mapcalc"
)

// TablePrefix starts the name of every table we own.
const TablePrefix = "mapehelper_"

// Chain names inside our table.
const (
	ChainSNAT = "srcnat" // nat postrouting, priority srcnat - 1: picks a port set
	ChainMSS  = "mss"    // filter forward, priority mangle: TCP MSS clamp
	// ChainGuard drops what would leave the tunnel without our SNAT: a
	// packet conntrack calls invalid (a LAN host's RST after its flow was
	// forgotten) is never NATed and would carry its private source to the
	// ISP, whose BR drops it anyway. Runs after every NAT chain.
	ChainGuard = "guard" // filter postrouting, priority srcnat + 1
	ChainWalk  = "walk"  // tries every port set in order
	ChainEIM   = "eim"   // tries the port sets the LAN endpoint already has a connection in
	// The virtual range's inbound chains (Config.VirtualRange).
	ChainInbound     = "inbound"     // filter prerouting, priority raw - 1: real ports become virtual
	ChainUnsolicited = "unsolicited" // filter prerouting, priority dstnat - 1: a new inbound connection's port becomes real again
	ChainLocal       = "local"       // nat prerouting, priority dstnat + 1: binds what no port forward took to its real port
)

// The virtual range's port maps (Config.VirtualRange).
const (
	MapVirtualToReal = "v2r"
	MapRealToVirtual = "r2v"
)

// The per-set count sets are created without a size. The kernel sizes a
// dynamic set's hash table from that hint up front: `size 65535` cost
// 129 MB of kernel memory and 325 ms to load for OCN's 63 sets (6.18
// native; 126-129 MB on 6.1 in the VM), 4096 still 8 MB, which a 128 MB
// router cannot spare for an idle table. Unsized, the table starts small
// (0.2 MB and 17 ms for the same 63 sets) and grows with use. When the
// first `add @set` expression binds an unsized set, the kernel gives it
// the element limit 65535 (dynsetListSize), which `nft list` prints but
// which allocates nothing. Elements are bounded by conntrack anyway: one
// lives only while a connection through its port set does (the kernel's
// garbage collection drops it after that). Were the limit reached, add
// would fail, the rule would not match and the connection would stay in
// the set numgen picked, as it would without counting.
const dynsetListSize = 65535

// Priorities of our base chains. NAT: the first nat chain that binds a
// connection wins, so srcnat - 1 runs before fw4's zone masquerade
// (priority srcnat) in the same postrouting hook.
var (
	prioSrcNAT = priority{"srcnat", -1}
	prioMangle = priority{"mangle", 0}
	prioGuard  = priority{"srcnat", +1}
	// Before conntrack (raw - 1, ahead of anything fw4 does at raw), and
	// on either side of fw4's dstnat chain.
	prioInbound     = priority{"raw", -1}
	prioUnsolicited = priority{"dstnat", -1}
	prioLocal       = priority{"dstnat", +1}
)

// Config is what the rules depend on.
type Config struct {
	Interface string              // logical interface, e.g. "wan_mape": names the table
	Tunnel    string              // tunnel device, e.g. "map-wan_mape"
	IPv4      netip.Addr          // the shared IPv4 address
	PortSets  []mapcalc.PortRange // every port set; empty: SNAT without port restriction
	MTU       int                 // tunnel MTU: the MSS clamp is MTU-40; 0 disables the clamp
	// VirtualRange SNATs TCP and UDP into one contiguous virtual range
	// 1..N (N ports of the PSID) and rewrites virtual and real ports
	// statelessly on the tunnel, instead of the per-set counts: the
	// kernel's NAT then finds any free port (issue 14, goal 1). Only with
	// two port sets or more. See docs/dataplane.md for what it changes.
	VirtualRange bool
}

// Ruleset is the validated configuration of the rules; its model (see
// model.go) is what both outputs are generated from.
//
// The fields are read-only after New: the model is built from them once,
// there, and every output (Render, Include, Chains, Apply) walks it.
type Ruleset struct {
	Table    string
	Tunnel   string
	IPv4     netip.Addr
	PortSets []mapcalc.PortRange
	MSS      uint16 // 0: no clamp
	Virtual  bool   // Config.VirtualRange in effect: asked for, with two port sets or more

	m *table // the model (model.go)
}

// TableName is the table owned for a logical interface.
func TableName(iface string) string { return TablePrefix + iface }

// validName accepts UCI section / Linux interface style names, which are
// also valid nft identifiers when prefixed.
func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
		default:
			return false
		}
	}
	return true
}

// New validates cfg and builds the model.
func New(cfg Config) (*Ruleset, error) {
	if !validName(cfg.Interface, 64) {
		return nil, fmt.Errorf("interface name %q: use letters, digits, '_', '-' or '.'", cfg.Interface)
	}
	if !validName(cfg.Tunnel, 15) {
		return nil, fmt.Errorf("tunnel name %q: must be 1-15 characters of letters, digits, '_', '-' or '.'", cfg.Tunnel)
	}
	if !cfg.IPv4.Is4() {
		return nil, fmt.Errorf("shared address %v is not IPv4", cfg.IPv4)
	}
	for i, p := range cfg.PortSets {
		if p.Lo > p.Hi || p.Lo == 0 {
			return nil, fmt.Errorf("port set %d (%v) is empty or includes port 0", i, p)
		}
		if i > 0 && p.Lo <= cfg.PortSets[i-1].Hi {
			return nil, fmt.Errorf("port sets %v and %v overlap or are not ascending", cfg.PortSets[i-1], p)
		}
	}
	rs := &Ruleset{Table: TableName(cfg.Interface), Tunnel: cfg.Tunnel, IPv4: cfg.IPv4,
		PortSets: append([]mapcalc.PortRange(nil), cfg.PortSets...),
		// One set is a contiguous range already: nothing to make virtual.
		Virtual: cfg.VirtualRange && len(cfg.PortSets) > 1}
	if cfg.MTU != 0 {
		if cfg.MTU < 576 || cfg.MTU > 65535 {
			return nil, fmt.Errorf("mtu %d is outside 576-65535", cfg.MTU)
		}
		rs.MSS = uint16(cfg.MTU - 40) // IPv4 and TCP headers
	}
	rs.m = rs.model()
	return rs, nil
}

// SetChain names the chain that SNATs into port set i.
func SetChain(i int) string { return fmt.Sprintf("set_%d", i) }

// TryChain names the chain that SNATs into port set i if the set has a
// port free towards the destination and returns otherwise.
func TryChain(i int) string { return fmt.Sprintf("try_%d", i) }

// OccSet names the dynamic set that counts port set i's connections per
// destination.
func OccSet(i int) string { return fmt.Sprintf("occ_%d", i) }

// EIMSet names the dynamic set of the LAN endpoints (protocol, address,
// port) with a live connection in port set i.
func EIMSet(i int) string { return fmt.Sprintf("eim_%d", i) }

// built is the model New built (or, for a Ruleset made without New, a
// fresh one).
func (rs *Ruleset) built() *table {
	if rs.m == nil {
		return rs.model()
	}
	return rs.m
}

// Chains lists our chains in creation order (the order `nft list` prints).
func (rs *Ruleset) Chains() []string { return rs.built().chainNames() }

// setCount is the number of SNAT chains: one per port set, or one
// port-less chain when there are no port sets.
func (rs *Ruleset) setCount() int { return max(len(rs.PortSets), 1) }

// counted reports whether connections are counted per set: only with two
// port sets or more is there another set to send a connection to.
// The virtual range (Virtual) replaces them.
func (rs *Ruleset) counted() bool { return len(rs.PortSets) > 1 && !rs.Virtual }

// Render writes the table exactly as `nft list table ip <table>` prints it
// after Apply, so the two outputs can be compared byte for byte (nft lists
// sets before chains).
func (rs *Ruleset) Render() string { return rs.built().text(true) }

// Include is the file fw4 loads at the top level of its ruleset on every
// start, reload and restart: `table` (create if absent), `flush table`
// (every rule of every chain goes, sets keep their elements) and the whole
// table declared again, in fw4's own transaction. Re-declaring an existing
// set or chain with the same definition keeps it, so the connections
// counted in occ_i and the endpoints in eim_i survive every fw4 reload;
// after `fw4 flush` (every table deleted) the include creates the table
// anew. The file is only ever written together with an Apply of the same
// model (up), so the table it flushes was built from the same
// declarations; a chain of an older model could only stay behind empty.
//
// `flush table` keeps the elements of every set and map, which is right
// for the dynamic sets but not for the port maps of option vrange: a map
// element whose key the table has with another value (a table made from
// other port sets) would fail the whole load ("File exists"). So each map
// is created if absent and emptied before the declaration fills it.
func (rs *Ruleset) Include() string {
	m := rs.built()
	var maps strings.Builder
	for _, pm := range m.maps {
		fmt.Fprintf(&maps, "add map ip %s %s { type %s; }\nflush map ip %s %s\n", rs.Table, pm.name, portMapType, rs.Table, pm.name)
	}
	return fmt.Sprintf("# Generated by mapehelper for %s; do not edit (rewritten on every up).\ntable ip %s\nflush table ip %s\n%s%s",
		rs.Tunnel, rs.Table, rs.Table, maps.String(), m.text(false))
}

// checkText is the include's declarations behind the replacing preamble
// (add, delete, add): what `nft -c` judges for the include, the same
// whatever version of our table the kernel holds (see Include.Validate).
func (rs *Ruleset) checkText() string {
	return fmt.Sprintf("table ip %s\ndelete table ip %s\n%s", rs.Table, rs.Table, rs.built().text(false))
}
