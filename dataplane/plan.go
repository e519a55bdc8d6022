// Package dataplane brings one MAP-E interface up and down: under a
// per-interface lock it creates the tunnel, loads the nftables rules and
// installs the fw4 include, rolls back whatever it made when a step fails,
// and records what it made in a state file on tmpfs so that down removes
// exactly that (and `mapehelper status` can report it).
package dataplane

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/mapehelper/mapehelper/firewall4"
	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/state"
	"github.com/mapehelper/mapehelper/tunnel"
)

// Default paths. Runtime files live on tmpfs so nothing survives a reboot
// and flash is not worn; the include symlink in fw4's directory then
// dangles, which fw4 skips silently.
const (
	DefaultStateDir   = state.DefaultDir
	DefaultIncludeDir = "/usr/share/nftables.d/ruleset-post"
)

// Options is everything up needs besides the kernel.
type Options struct {
	Interface  string          // logical interface (UCI section), e.g. "wan_mape"
	Link       string          // Linux device carrying IPv6, e.g. "eth1"
	Result     *mapcalc.Result // the resolved rule
	MTU        int             // 0: tunnel.DefaultMTU
	TTL        int             // 0: tunnel.DefaultTTL
	EncapLimit string          // "", "ignore" or a number
	Zone       string          // firewall zone, recorded for status
	Netifd     bool            // netifd adds the IPv4 address and route itself
	VRange     bool            // option vrange: firewall4.Config.VirtualRange
}

// Plan is what up would do: computed without touching the kernel, so
// --dry-run prints exactly what a real up applies.
type Plan struct {
	Interface string
	Link      string
	Tunnel    tunnel.Config
	Rules     *firewall4.Ruleset
	Result    *mapcalc.Result
	Zone      string
	Netifd    bool
}

// ValidInterface checks a logical interface name before it becomes part of
// file names (state, lock, include), the tunnel name and the nft table name:
// 1-64 characters of [A-Za-z0-9_.-], not starting with '.', so that no name
// can reach outside the state directory ("..", "../x") however it arrives.
func ValidInterface(name string) error {
	if name == "" || len(name) > 64 || name[0] == '.' {
		return fmt.Errorf("interface name %.40q: use 1-64 letters, digits, '_', '-' or '.', not starting with '.' (fix: --interface NAME, the UCI section name)", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return fmt.Errorf("interface name %.40q: character %q is not allowed; use letters, digits, '_', '-' or '.' (fix: --interface NAME, the UCI section name)", name, r)
		}
	}
	return nil
}

// NewPlan validates o and computes the tunnel and the ruleset.
func NewPlan(o Options) (*Plan, error) {
	if o.Result == nil {
		return nil, errors.New("no MAP rule result")
	}
	r := o.Result
	if err := ValidInterface(o.Interface); err != nil {
		return nil, codeErr(CodeFailed, err)
	}
	if err := tunnel.ValidLinkName(o.Link); err != nil {
		return nil, codeErr(CodeNoTunlink, err)
	}
	if r.Rule.Type != "" && r.Rule.Type != mapcalc.TypeMAPE {
		return nil, codef(CodeUnsupportedType, "type %s: only map-e is supported by up (fix: set type map-e)", r.Rule.Type)
	}
	if !r.Rule.BR.IsValid() {
		return nil, codef(CodeInvalidRule, "the rule has no BR address (fix: set peeraddr to the BR's IPv6 address)")
	}
	if !r.Rule.BR.Is6() || r.Rule.BR.Is4In6() {
		return nil, codef(CodeInvalidRule, "BR address %v is not IPv6 (fix: set peeraddr to the BR's IPv6 address)", r.Rule.BR)
	}
	enc, err := tunnel.ParseEncapLimit(o.EncapLimit)
	if err != nil {
		return nil, codeErr(CodeInvalidRule, err)
	}
	tc := tunnel.Config{
		Name: tunnel.DeviceName(o.Interface), Owner: o.Interface, Link: o.Link, Local: r.CE, Remote: r.Rule.BR,
		EncapLimit: enc, TTL: orDefault(o.TTL, tunnel.DefaultTTL), MTU: orDefault(o.MTU, tunnel.DefaultMTU),
	}
	if !o.Netifd {
		tc.IPv4, tc.Route = r.IPv4, true
	}
	if err := tc.Validate(); err != nil {
		return nil, codeErr(tunnelCode(err), err)
	}
	rs, err := firewall4.New(firewall4.Config{Interface: o.Interface, Tunnel: tc.Name, IPv4: r.IPv4, PortSets: r.PortSets, MTU: tc.MTU,
		VirtualRange: o.VRange})
	if err != nil {
		return nil, codeErr(CodeFirewallFailed, err)
	}
	return &Plan{Interface: o.Interface, Link: o.Link, Tunnel: tc, Rules: rs, Result: r, Zone: o.Zone, Netifd: o.Netifd}, nil
}

// planOf rebuilds the plan a record was written from (a record of
// state.Version 1 or later holds every option it needs), so that a failed
// up can apply the previous one again.
func planOf(r *state.Record) (*Plan, error) {
	res, err := r.Result()
	if err != nil {
		return nil, err
	}
	return NewPlan(Options{Interface: r.Interface, Link: r.Link, Result: res, MTU: r.MTU, TTL: r.TTL,
		EncapLimit: r.EncapLimit, Zone: r.Zone, Netifd: r.Netifd, VRange: r.VirtualRange})
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// DryRun is the text `up --dry-run` prints: the tunnel as ip(8) commands
// and the exact fw4 include.
func (p *Plan) DryRun() string {
	return fmt.Sprintf("# tunnel\n%s\n# nftables: the fw4 include (up loads the same table now, replacing any older one)\n%s", p.Tunnel.Describe(), p.Rules.Include())
}

// NFTTable is the "family name" of our table, as the state file records it.
func (p *Plan) NFTTable() string { return "ip " + p.Rules.Table }

// ce is the CE address up puts on the link.
func (p *Plan) ce() netip.Addr { return p.Tunnel.Local }
