// Package firewall4 builds the nftables rules of one MAP interface: SNAT of
// TCP, UDP and ICMP leaving the tunnel, spread over every port set, and a
// TCP MSS clamp on the tunnel. One model (Ruleset) has two outputs that must
// agree: Apply loads it through netlink in one atomic batch, Render writes
// the same ruleset as nft text for the include fw4 loads on every reload.
//
// Ownership: each interface gets its own table, `table ip mapehelper_<iface>`.
// fw4 reload and restart touch only `table inet fw4`, so our table survives
// them; the include re-creates it (add, delete, add in one transaction) so a
// reload never duplicates it, and teardown deletes exactly that table.
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
)

// Priorities of our base chains. NAT: the first nat chain that binds a
// connection wins, so srcnat - 1 runs before fw4's zone masquerade
// (priority srcnat) in the same postrouting hook.
const (
	prioSrcNAT = 100 - 1
	prioMangle = -150
)

// Config is what the rules depend on.
type Config struct {
	Interface string              // logical interface, e.g. "wan_mape": names the table
	Tunnel    string              // tunnel device, e.g. "map-wan_mape"
	IPv4      netip.Addr          // the shared IPv4 address
	PortSets  []mapcalc.PortRange // every port set; empty: SNAT without port restriction
	MTU       int                 // tunnel MTU: the MSS clamp is MTU-40; 0 disables the clamp
}

// Ruleset is the validated model both outputs are generated from.
type Ruleset struct {
	Table    string
	Tunnel   string
	IPv4     netip.Addr
	PortSets []mapcalc.PortRange
	MSS      uint16 // 0: no clamp
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
		PortSets: append([]mapcalc.PortRange(nil), cfg.PortSets...)}
	if cfg.MTU != 0 {
		if cfg.MTU < 576 || cfg.MTU > 65535 {
			return nil, fmt.Errorf("mtu %d is outside 576-65535", cfg.MTU)
		}
		rs.MSS = uint16(cfg.MTU - 40) // IPv4 and TCP headers
	}
	return rs, nil
}

// SetChain names the chain that SNATs into port set i.
func SetChain(i int) string { return fmt.Sprintf("set_%d", i) }

// Chains lists our chains in creation order (the order `nft list` prints).
func (rs *Ruleset) Chains() []string {
	var c []string
	for i := range rs.setCount() {
		c = append(c, SetChain(i))
	}
	c = append(c, ChainSNAT)
	if rs.MSS != 0 {
		c = append(c, ChainMSS)
	}
	return c
}

// setCount is the number of SNAT chains: one per port set, or one
// port-less chain when there are no port sets.
func (rs *Ruleset) setCount() int { return max(len(rs.PortSets), 1) }

// snatTarget is the `snat to` argument of set chain i.
func (rs *Ruleset) snatTarget(i int) string {
	if len(rs.PortSets) == 0 {
		return rs.IPv4.String()
	}
	p := rs.PortSets[i]
	if p.Lo == p.Hi {
		return fmt.Sprintf("%v:%d", rs.IPv4, p.Lo)
	}
	return fmt.Sprintf("%v:%d-%d", rs.IPv4, p.Lo, p.Hi)
}

// Render writes the table exactly as `nft list table ip <table>` prints it
// after Apply, so the two outputs can be compared byte for byte.
func (rs *Ruleset) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table ip %s {\n", rs.Table)
	for i := range rs.setCount() {
		fmt.Fprintf(&b, "\tchain %s {\n\t\tmeta l4proto { icmp, tcp, udp } snat to %s\n\t}\n\n", SetChain(i), rs.snatTarget(i))
	}
	fmt.Fprintf(&b, "\tchain %s {\n\t\ttype nat hook postrouting priority srcnat - 1; policy accept;\n", ChainSNAT)
	var vm []string
	for i := range rs.setCount() {
		vm = append(vm, fmt.Sprintf("%d : jump %s", i, SetChain(i)))
	}
	fmt.Fprintf(&b, "\t\toifname %q numgen inc mod %d vmap { %s }\n\t}\n", rs.Tunnel, rs.setCount(), strings.Join(vm, ", "))
	if rs.MSS != 0 {
		fmt.Fprintf(&b, "\n\tchain %s {\n\t\ttype filter hook forward priority mangle; policy accept;\n", ChainMSS)
		for _, dir := range []string{"oifname", "iifname"} {
			fmt.Fprintf(&b, "\t\t%s %q tcp flags syn / syn,rst tcp option maxseg size > %d tcp option maxseg size set %d\n", dir, rs.Tunnel, rs.MSS, rs.MSS)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// Include is the file fw4 loads at the top level of its ruleset on every
// start, reload and restart. The add-delete-add preamble replaces whatever
// version of our table is loaded within fw4's own transaction, so reloads
// never duplicate rules and a changed port set leaves no stale chain.
func (rs *Ruleset) Include() string {
	return fmt.Sprintf("# Generated by mapehelper for %s; do not edit (rewritten on every up).\ntable ip %s\ndelete table ip %s\n%s",
		rs.Tunnel, rs.Table, rs.Table, rs.Render())
}
