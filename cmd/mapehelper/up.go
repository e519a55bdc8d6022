package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"time"

	"github.com/mapehelper/mapehelper/dataplane"
	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/options"
	"github.com/mapehelper/mapehelper/ucibridge"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// lockWait bounds how long up/down wait for another up/down of the same
// interface (netifd may run teardown and setup back to back).
const lockWait = 30 * time.Second

// upInput is the --stdin-json document: the interface's options under
// their UCI names (netifd's JSON) plus the three values up needs besides.
type upInput struct {
	options.Interface
	Iface  string `json:"interface"`
	Link   string `json:"link"`
	Prefix string `json:"prefix"`
}

// runUp implements `mapehelper up`.
func runUp(e *env, args []string) error {
	var in upInput
	fs := e.newFlagSet("up", "Usage: mapehelper up --interface NAME --link DEVICE [--prefix PREFIX] [option flags]\n\nCreates the tunnel map-NAME and the nftables rules that SNAT over every port set.")
	in.RegisterFlags(fs)
	fs.StringVar(&in.Iface, "interface", "", "logical interface name (UCI section); the tunnel is map-NAME")
	fs.StringVar(&in.Link, "link", "", "Linux device that carries IPv6 to the BR, e.g. eth1")
	fs.StringVar(&in.Prefix, "prefix", "", "delegated IPv6 prefix or WAN address (default: the link's global IPv6 address)")
	stdinJSON := fs.Bool("stdin-json", false, "read the options (UCI names, netifd's JSON) from stdin; flags override them")
	netifd := fs.Bool("netifd", false, "run under the netifd handler: no IPv4 address/route, JSON result on stdout")
	dryRun := fs.Bool("dry-run", false, "print the tunnel and the exact nftables ruleset, touch nothing")
	config := fs.String("config", "", "UCI network file to read the interface's options from")
	rulesFile := fs.String("rules", "", "rule table CSV replacing the built-in ISP tables")
	dirs := registerDirs(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *stdinJSON {
		var j upInput
		if err := json.NewDecoder(e.stdin).Decode(&j); err != nil {
			return usagef("--stdin-json: %v", err)
		}
		in = j
		if pos, err = parseInterspersed(fs, args); err != nil { // flags win over JSON
			return err
		}
	}
	if len(pos) != 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	e.trace.Mark("args")
	if *config != "" {
		if in.Iface == "" {
			return usagef("--config needs --interface NAME (the UCI interface section)")
		}
		conf, link, err := loadUCI(*config, in.Iface, in.Link)
		if err != nil {
			return reportUp(e, *netifd, nil, err)
		}
		in.Interface, in.Link = conf, link
		if _, err = parseInterspersed(fs, args); err != nil { // flags win over UCI
			return err
		}
		e.trace.Mark("uci")
	}
	if in.Iface == "" {
		return usagef("--interface is required")
	}
	if err := dataplane.ValidInterface(in.Iface); err != nil {
		return usagef("--interface: %v", err)
	}
	if in.Link == "" {
		return usagef("--link is required (the Linux device of tunlink)")
	}
	table, err := loadTable(*rulesFile)
	if err != nil {
		return err
	}
	e.trace.Mark("rule-table")
	p, err := plan(in, table, *netifd)
	if err != nil {
		return reportUp(e, *netifd, nil, err)
	}
	e.trace.Mark("plan")
	if *dryRun {
		fmt.Fprint(e.stdout, p.DryRun())
		return nil
	}
	denv, err := dirs.env()
	if err != nil {
		return reportUp(e, *netifd, nil, err)
	}
	denv.Trace, denv.Warn = e.trace, e.warner("up")
	e.trace.Mark("open-netlink")
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	_, err = dataplane.Up(ctx, denv, p)
	err = reportUp(e, *netifd, p, err)
	e.trace.Mark("report")
	return err
}

// loadUCI reads the interface section iface of a UCI network file (up
// without netifd) and, unless link is given, finds the Linux device of
// its tunlink.
func loadUCI(path, iface, link string) (options.Interface, string, error) {
	pkg, err := ucibridge.Load(path)
	if err != nil {
		return options.Interface{}, "", fmt.Errorf("--config: %w", err)
	}
	conf, err := options.FromUCI(pkg, iface)
	if err != nil {
		return options.Interface{}, "", fmt.Errorf("--config: %w", err)
	}
	if link == "" {
		if link, err = options.LinkDevice(pkg, conf.Tunlink); err != nil {
			return options.Interface{}, "", fmt.Errorf("--config: %w", err)
		}
	}
	return conf, link, nil
}

// plan resolves the rule for the prefix and builds the dataplane plan.
func plan(in upInput, table []mapcalc.Rule, netifd bool) (*dataplane.Plan, error) {
	prefixStr := in.Prefix
	if prefixStr == "" {
		p, err := linkPrefix(in.Link)
		if err != nil {
			return nil, err
		}
		prefixStr = p.String()
	}
	pfx, err := options.ParseInput(prefixStr)
	if err != nil {
		return nil, err
	}
	res, err := options.Resolve(in.Interface, table, pfx)
	if err != nil {
		return nil, err
	}
	mtu, ttl := 0, 0
	if in.MTU.Set {
		mtu = in.MTU.Value
	}
	if in.TTL.Set {
		ttl = in.TTL.Value
	}
	return dataplane.NewPlan(dataplane.Options{Interface: in.Iface, Link: in.Link, Result: res, MTU: mtu, TTL: ttl,
		EncapLimit: in.EncapLimit, Zone: in.Zone, Netifd: netifd, VRange: in.VRange.Value})
}

// linkPrefix finds the user's prefix on the link device: its first global
// IPv6 address that is not a /128 (our own CE address is one), as the
// address's prefix, at most /64.
func linkPrefix(dev string) (netip.Prefix, error) {
	noPrefix := func(why string) error {
		return &mapcalc.OptionError{Kind: mapcalc.ErrBadPrefix, Option: "prefix", Problem: why,
			Fix: "give --prefix, or wait until the link has its global IPv6 address"}
	}
	l, err := netlink.LinkByName(dev)
	if err != nil {
		return netip.Prefix{}, noPrefix(fmt.Sprintf("link device %s: %v", dev, err))
	}
	addrs, err := netlink.AddrList(l, unix.AF_INET6)
	if err != nil {
		return netip.Prefix{}, noPrefix(fmt.Sprintf("addresses of %s: %v", dev, err))
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		ones, _ := a.Mask.Size()
		if !ok || !ip.IsGlobalUnicast() || ip.IsPrivate() || ones == 128 {
			continue
		}
		return netip.PrefixFrom(ip, min(ones, 64)).Masked(), nil
	}
	return netip.Prefix{}, noPrefix(fmt.Sprintf("%s has no global IPv6 address", dev))
}

// reportUp prints the outcome. Under --netifd stdout carries one JSON
// object for the handler: the calculator's keys plus "tunnel" and "mtu",
// or "error" and "code".
func reportUp(e *env, netifd bool, p *dataplane.Plan, err error) error {
	if !netifd {
		if err == nil {
			r := p.Result
			fmt.Fprintf(e.stdout, "%s up: %v via BR %v, %d ports in %d sets, nft table %s\n",
				p.Tunnel.Name, r.IPv4, r.Rule.BR, r.Ports(), len(r.PortSets), p.NFTTable())
		}
		return withCode(err)
	}
	out := map[string]any{}
	if err != nil {
		out["error"], out["code"] = err.Error(), dataplane.Code(err)
	} else {
		b, merr := json.Marshal(p.Result)
		if merr != nil {
			return merr
		}
		if merr := json.Unmarshal(b, &out); merr != nil {
			return merr
		}
		out["tunnel"], out["mtu"] = p.Tunnel.Name, p.Tunnel.MTU
	}
	if jerr := json.NewEncoder(e.stdout).Encode(out); jerr != nil {
		return errors.Join(err, jerr)
	}
	return withCode(err)
}

// withCode prefixes the netifd error code so the one stderr line says both
// what failed and which code the handler reports.
func withCode(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", dataplane.Code(err), err)
}

// warner prints what up or down recovered from as one stderr line (netifd
// logs the handler's stderr), never on stdout, which --netifd keeps for
// its one JSON object.
func (e *env) warner(cmd string) func(string) {
	return func(msg string) { fmt.Fprintf(e.stderr, "mapehelper %s: warning: %s\n", cmd, msg) }
}

// runDown implements `mapehelper down --interface NAME`.
func runDown(e *env, args []string) error {
	fs := e.newFlagSet("down", "Usage: mapehelper down --interface NAME\n\nRemoves the tunnel, CE address, nftables table and fw4 include that up made.")
	iface := fs.String("interface", "", "logical interface name given to up")
	fs.Bool("netifd", false, "run under the netifd handler (accepted for symmetry with up)")
	dirs := registerDirs(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *iface == "" {
		return usagef("--interface is required")
	}
	if err := dataplane.ValidInterface(*iface); err != nil {
		return usagef("--interface: %v", err) // never a path outside the state directory
	}
	e.trace.Mark("args")
	denv, err := dirs.env()
	if err != nil {
		return withCode(err)
	}
	denv.Trace, denv.Warn = e.trace, e.warner("down")
	e.trace.Mark("open-netlink")
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	return withCode(dataplane.Down(ctx, denv, *iface))
}

// dirFlags are where up and down keep their files; tests and the VM
// harness point them elsewhere.
type dirFlags struct{ state, include *string }

func registerDirs(fs *flag.FlagSet) dirFlags {
	return dirFlags{
		state:   fs.String("state-dir", dataplane.DefaultStateDir, "state, lock and include files (tmpfs)"),
		include: fs.String("include-dir", dataplane.DefaultIncludeDir, "fw4 include directory for the symlink; \"\" for none"),
	}
}

func (d dirFlags) env() (*dataplane.Env, error) {
	env, err := dataplane.DefaultEnv()
	if err != nil {
		return nil, err
	}
	env.StateDir, env.Include.RuntimeDir, env.Include.IncludeDir = *d.state, *d.state, *d.include
	return env, nil
}
