package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/google/nftables"
	"github.com/mapehelper/mapehelper/firewall4"
	"github.com/mapehelper/mapehelper/state"
	"github.com/mapehelper/mapehelper/tunnel"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Env is the kernel and file system up and down work on. Tests point it at
// a network namespace and temporary directories.
type Env struct {
	Netlink *netlink.Handle // rtnetlink in the target namespace
	// NetNS is the target namespace's file descriptor for the raw
	// rtnetlink messages of the tunnel guard; 0 is the current namespace.
	NetNS int
	// Conntrack is a NETLINK_NETFILTER handle in the target namespace for
	// deleting stale NAT entries after up; nil skips that step.
	Conntrack *netlink.Handle
	NFT       func() (*nftables.Conn, error) // a fresh nftables connection
	StateDir  string                         // state and lock files (tmpfs)
	Include   firewall4.Include              // the fw4 include
	Now       func() time.Time               // clock for the state file
	Trace     *Trace                         // phase timings (MAPEHELPER_TRACE=1); nil: none
	// Warn receives what up and down recovered from without failing (a
	// damaged state file); nil drops it.
	Warn func(msg string)
	// kernel, when set, replaces the objects Netlink, NFT and Include
	// reach (tests fail its steps on demand); nil is the real system.
	kernel kernel
}

// DefaultEnv is the real system: the current namespace, DefaultStateDir and
// fw4's include directory.
func DefaultEnv() (*Env, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE) // route only: kernels without xfrm reject the default set
	if err != nil {
		return nil, codeErr(CodeFailed, fmt.Errorf("open rtnetlink: %w", err))
	}
	ct, err := netlink.NewHandle(unix.NETLINK_NETFILTER)
	if err != nil {
		ct = nil // no conntrack netlink: nothing to flush either
	}
	return &Env{
		Netlink:   h,
		Conntrack: ct,
		NFT:       func() (*nftables.Conn, error) { return firewall4.Open() },
		StateDir:  DefaultStateDir,
		Include:   firewall4.Include{RuntimeDir: DefaultStateDir, IncludeDir: DefaultIncludeDir, Lock: firewall4.DefaultLock},
		Now:       time.Now,
	}, nil
}

// Up applies plan p under the interface's lock: the fw4 include and the
// nftables table (under fw4's lock), then the tunnel and its tc guard, and
// records what exists in the state file. On success the previous CE
// addresses (after a prefix change) are removed, stale NAT mappings are
// flushed and the record says "up".
//
// A failed up never leaves a half state (a tunnel of the new options with
// the previous rules, say), because netifd and status could not tell what
// carries traffic then. What a failure leaves depends on what ran before
// (issue 12, item 2):
//
//   - Under netifd, teardown (down) always runs before setup: netifd's
//     proto-shell starts setup only from its idle state, which a running
//     interface reaches only through teardown, and it runs teardown after
//     a failed setup too. So there is never a previous up to restore: a
//     failed up removes everything it made (tunnel, CE address, table,
//     include), exits with its error code, and the interface stays down
//     (the handler blocks restarts, except after BUSY) until the cause is
//     fixed and the interface is set up again. Nothing is "restored".
//   - Only when up is run by hand (or by a script) over an interface that
//     is still up, with no down in between, is there a previous up: then
//     a failure before the kernel is touched (nft -c rejects the include,
//     nftables cannot be opened) changes nothing, and a failure in a later
//     step puts the previous up back when the state file records a working
//     one this version can rebuild (state.Record.Restorable: state "up",
//     written with ttl and encaplimit): its include, table, tunnel with
//     every option, CE address, IPv4 address, route and guard are applied
//     again, a CE address this up added is removed, and the previous record
//     stays, with the error added (state still "up").
//   - Otherwise (no previous up, a record of the older layout, or the
//     restore failing too) everything of the interface is removed as down
//     would, and the record says "error".
//
// The error names what failed and what was done about it, and carries a
// netifd code (Code) in every case.
func Up(ctx context.Context, env *Env, p *Plan) (*state.Record, error) {
	unlock, err := lock(ctx, env.StateDir, p.Interface)
	if err != nil {
		return nil, err
	}
	defer unlock()
	env.Trace.Mark("lock")
	old := readRecord(env, p.Interface)
	env.Trace.Mark("state-read")
	st := newRecord(p, env.Now())
	st.StaleCE = staleFrom(old, p.Link, p.ce()) // see apply: crash consistency
	// The include is validated before anything in the kernel changes: a
	// rejected ruleset must leave a working previous up untouched.
	if err := env.Include.Validate(p.Interface, p.Rules); err != nil {
		return nil, unchanged(env, old, st, codeErr(CodeFirewallFailed, err))
	}
	env.Trace.Mark("include-validate")
	k := env.objects()
	// What exists before we start decides what a failure may remove.
	had, err := probe(k, p)
	if err != nil {
		return nil, unchanged(env, old, st, err)
	}
	// Our tunnel, found by its mark when no record names its CE address
	// (the state file was lost or damaged): that address is stale too.
	if had.ours != nil && had.ours.Local.IsValid() && had.ours.Link != "" {
		st.StaleCE = addStale(st.StaleCE, state.StaleCE{Link: had.ours.Link, CE: had.ours.Local.String()}, p.Link, p.ce())
	}
	env.Trace.Mark("probe")
	if err := apply(env, k, p, old, st); err != nil {
		return nil, undo(env, k, p, old, st, had, err)
	}
	return st, nil
}

// existing is what of plan p's objects the kernel had before up changed
// it: tunnel and ce are objects up found without our mark (left alone if
// up fails), ours is the interface's own tunnel found by its mark (removed
// if up fails and cannot restore), nil when there is none.
type existing struct {
	tunnel, ce, table bool
	ours              *tunnel.Info
}

// probe looks at plan p's objects before up changes anything. A tunnel
// device of p's name that another interface owns is refused here, so a
// name collision changes nothing (see tunnel.DeviceName).
func probe(k kernel, p *Plan) (existing, error) {
	table, err := k.hasTable(p.Interface)
	if err != nil {
		return existing{}, codeErr(nftCode(err), nftHint(err))
	}
	in, err := k.lookupTunnel(p.Tunnel.Name)
	if err != nil {
		return existing{}, codeErr(tunnelCode(err), err)
	}
	e := existing{ce: k.hasCE(p.Link, p.ce()), table: table}
	switch {
	case in == nil:
	case in.Owner == p.Interface:
		e.ours = in
		e.ce = e.ce && !(in.Link == p.Link && in.Local == p.ce()) // the CE of our tunnel is ours
	case in.Owner != "":
		return existing{}, codeErr(CodeTunnelFailed, fmt.Errorf("%w: %s is the tunnel of interface %s (fix: rename interface %s)",
			tunnel.ErrOwnedByOther, p.Tunnel.Name, in.Owner, p.Interface))
	default:
		e.tunnel = true // unmarked: a previous version's, or someone else's
	}
	return e, nil
}

// readRecord is the interface's state file, or nil when there is none or
// it is damaged (truncated, empty, unreadable, another layout): then up
// and down go by the marks on the kernel objects instead, and the damaged
// file is removed so the next write can replace it.
func readRecord(env *Env, iface string) *state.Record {
	old, err := state.Read(env.StateDir, iface)
	if err == nil {
		return old
	}
	env.warn(fmt.Sprintf("ignoring %v; going by what the kernel marks as %s's", err, iface))
	if rerr := state.Remove(env.StateDir, iface); rerr != nil {
		env.warn(rerr.Error())
	}
	return nil
}

func (env *Env) warn(msg string) {
	if env.Warn != nil {
		env.Warn(msg)
	}
}

// apply makes the kernel match p and writes the record st.
func apply(env *Env, k kernel, p *Plan, old, st *state.Record) error {
	// Crash consistency: every CE address up may have put on a link is in
	// the state file from before it is added until after it is removed. The
	// new CE is recorded (st.CE) before ensureTunnel adds it; the previous
	// ones move from old.CE/old.StaleCE to st.StaleCE (set by Up) in the same
	// atomic write, and leave the record only in the final write after they are
	// gone. So a kill -9 at any point leaves them for the next up or down.
	st.State = state.SettingUp
	if err := state.Write(env.StateDir, st); err != nil {
		return codeErr(CodeFailed, err)
	}
	env.Trace.Mark("state-write")
	// The previous up's tunnel under another name (a version that cut long
	// names to 15 characters) would keep the endpoints the new device
	// needs: the kernel refuses two ip6tnl devices with the same ones.
	if old != nil && old.Tunnel != "" && old.Tunnel != p.Tunnel.Name {
		if err := removeOwnTunnel(k, old.Tunnel, p.Interface, nil); err != nil {
			return codeErr(tunnelCode(err), err)
		}
	}
	// The rules before the tunnel: from the moment the tunnel exists
	// (and a route leads into it) our SNAT and guard are in force, so no
	// packet leaves it with a private source (issue 12, item 6).
	link, err := firewall(k, p.Interface, p.Rules)
	if err != nil {
		return err
	}
	st.Include = link
	env.Trace.Mark("nft-apply")
	if err := k.ensureTunnel(p.Tunnel); err != nil {
		return codeErr(tunnelCode(err), err)
	}
	if err := k.guardTunnel(p.Tunnel.Name, p.Result.IPv4); err != nil {
		return codeErr(guardCode(err), guardHint(err))
	}
	env.Trace.Mark("tunnel")
	// After a prefix change the old CE addresses would linger on the link.
	if err := removeStale(k, st.StaleCE); err != nil {
		return codeErr(CodeTunnelFailed, err)
	}
	st.StaleCE = nil
	env.Trace.Mark("stale-ce")
	// Connections mapped by the previous rules (old IPv4, or ports outside
	// the new sets) would keep their mapping and be dropped by the BR or
	// our guard for as long as they keep sending. Without a record (under
	// netifd, down ran first and removed it) the old IPv4 is found as an
	// orphan: a source-NAT mapping to an address the router no longer has
	// (see natFilter). Best effort: the new rules are in either way.
	// Only when the mapping may have changed (no clean previous up of the
	// same IPv4, port sets and CE), since ICMP entries of the current
	// address are deleted too.
	if env.Conntrack != nil && (!old.IsUp() || old.IPv4 != st.IPv4 || old.CE != st.CE ||
		!slices.Equal(old.NATRanges(), st.NATRanges())) {
		var prev netip.Addr
		if old != nil {
			prev, _ = netip.ParseAddr(old.IPv4)
		}
		cur, _ := netip.ParseAddr(st.IPv4)
		if cur.Is4() {
			_, _ = flushStaleNAT(env.Conntrack, prev, cur, st.NATRanges(), localIPv4(env.Netlink))
		}
	}
	env.Trace.Mark("conntrack")
	st.State = state.Up
	st.Updated = stamp(env.Now())
	if err := state.Write(env.StateDir, st); err != nil {
		return codeErr(CodeFailed, err)
	}
	env.Trace.Mark("state-write")
	return nil
}

// unchanged records cause, a failure of an up that changed nothing in the
// kernel: a working previous up keeps its record, with the error added;
// otherwise the new record says "error" (keeping the stale CE addresses).
func unchanged(env *Env, old, st *state.Record, cause error) error {
	rec := st
	if old.IsUp() {
		prev := *old
		rec = &prev
	} else {
		rec.State, rec.Include = state.Failed, ""
	}
	return record(env, rec, cause)
}

// undo handles cause, a failure of apply: it restores the previous up, or
// removes everything of the interface. See Up.
func undo(env *Env, k kernel, p *Plan, old, st *state.Record, had existing, cause error) error {
	if old.Restorable() {
		prev, err := planOf(old)
		if err == nil {
			err = restore(k, prev)
		}
		if err == nil {
			rec := *old
			rec.StaleCE = slices.Clone(old.StaleCE)
			if !had.ce && !names(old, p.Link, p.ce()) {
				if err := k.removeCE(p.Link, p.ce()); err != nil {
					rec.StaleCE = append(rec.StaleCE, state.StaleCE{Link: p.Link, CE: p.ce().String()})
				}
			}
			return record(env, &rec, annotate(cause, "the previous setup was restored"))
		}
		cause = annotate(cause, fmt.Sprintf("restoring the previous setup failed (%v)", err))
	}
	// Ours: what this up created, and whatever an earlier up of ours
	// recorded. A device or address that was there without a record of ours
	// is left alone.
	var rb []error
	if !had.tunnel || old != nil {
		rb = append(rb, k.removeTunnel(p.Tunnel.Name))
	}
	if !had.ce || names(old, p.Link, p.ce()) {
		rb = append(rb, k.removeCE(p.Link, p.ce()))
	}
	staleErr := removeStale(k, st.StaleCE)
	if staleErr == nil {
		st.StaleCE = nil
	}
	rb = append(rb, staleErr)
	if !had.table || old != nil {
		rb = append(rb, unfirewall(k, p.Interface))
	} else {
		rb = append(rb, k.removeInclude(p.Interface))
	}
	st.State, st.Include = state.Failed, ""
	if rerr := errors.Join(rb...); rerr != nil {
		return record(env, st, annotate(cause, fmt.Sprintf("removing it incomplete: %v", rerr)))
	}
	msg := "everything of the interface was removed"
	if !old.IsUp() {
		msg = "what it made was removed"
	}
	if p.Netifd && old == nil {
		// netifd ran teardown (down) before this setup: there was
		// nothing to restore, and netifd keeps the interface down.
		msg += "; the interface stays down until the cause is fixed"
	}
	return record(env, st, annotate(cause, msg))
}

// restore applies the previous up's plan again: the tunnel with all its
// options (and the CE address, IPv4 address and route), the table and the
// include.
func restore(k kernel, prev *Plan) error {
	if _, err := firewall(k, prev.Interface, prev.Rules); err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	if err := k.ensureTunnel(prev.Tunnel); err != nil {
		return fmt.Errorf("tunnel: %w", err)
	}
	if err := k.guardTunnel(prev.Tunnel.Name, prev.Result.IPv4); err != nil {
		return fmt.Errorf("tunnel guard: %w", err)
	}
	return nil
}

// firewall installs the include of rs and then loads our table, both under
// fw4's lock (see kernel.lockFirewall), and returns the include's symlink.
// fw4 start/reload render the ruleset (reading our include) and load it
// under that lock: without it a reload that read the previous include
// before our rename could load the previous table after ours, and it
// would stay until the next reload. The include goes first so that any
// fw4 run after the lock is released loads the new text.
func firewall(k kernel, iface string, rs *firewall4.Ruleset) (string, error) {
	unlock, err := k.lockFirewall()
	if err != nil {
		return "", codeErr(CodeBusy, err)
	}
	defer unlock()
	link, err := k.installInclude(iface, rs)
	if err != nil {
		return "", codeErr(CodeFirewallFailed, err)
	}
	if err := k.applyRules(rs); err != nil {
		return "", codeErr(nftCode(err), nftHint(err))
	}
	return link, nil
}

// unfirewall removes the include and then our table, under fw4's lock
// when it can be had: a removal must not be refused because fw4 hangs,
// so a lock that cannot be had is reported after removing without it.
func unfirewall(k kernel, iface string) error {
	unlock, lerr := k.lockFirewall()
	if lerr == nil {
		defer unlock()
	} else {
		lerr = codeErr(CodeBusy, lerr)
	}
	var errs []error
	if err := k.removeInclude(iface); err != nil {
		errs = append(errs, codeErr(CodeFirewallFailed, err))
	}
	if err := k.deleteRules(iface); err != nil {
		errs = append(errs, codeErr(nftCode(err), err))
	}
	return errors.Join(append(errs, lerr)...)
}

// record writes rec with the error cause and returns cause (joined with a
// failure to write).
func record(env *Env, rec *state.Record, cause error) error {
	rec.Error, rec.ErrorCode, rec.Updated = cause.Error(), Code(cause), stamp(env.Now())
	if err := state.Write(env.StateDir, rec); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// annotate appends what up did about the failure to its message, keeping
// its code and cause.
func annotate(err error, what string) error {
	return &Error{code: Code(err), err: fmt.Errorf("%w; %s", err, what)}
}

// Down removes what up made for iface: the tunnel (with its address and
// route), the CE addresses, our nftables table, the include and the state
// file. Missing pieces are not errors, so down after a failed or partial
// up, or twice, succeeds; a state file of the older layout (an upgrade
// while up) is read like a current one.
//
// Down needs no state file: the table and the include are found by their
// names (mapehelper_<iface>, mapehelper-<iface>.nft), the tunnel by its
// name and its owner mark (tunnel.OwnerAlias; a device of our name marked
// for another interface is left alone), and the CE address is the local
// address of that tunnel on its link. A missing, truncated, empty,
// unreadable or foreign-layout file is reported through env.Warn and
// removed; it never makes down fail. What only a lost record knew (CE
// addresses of earlier prefixes, a tunnel already gone) stays: the next
// up of the same prefix or a reboot clears them.
func Down(ctx context.Context, env *Env, iface string) error {
	if err := ValidInterface(iface); err != nil {
		return codeErr(CodeFailed, err)
	}
	unlock, err := lock(ctx, env.StateDir, iface)
	if err != nil {
		return err
	}
	defer unlock()
	env.Trace.Mark("lock")
	st := readRecord(env, iface)
	env.Trace.Mark("state-read")
	k := env.objects()
	// The tunnel: the recorded one and the one of today's name (the same
	// unless the record is of a version that named it differently, or
	// there is no record), each only if it is not another interface's.
	// Each tunnel's local address is the CE address up put on its link,
	// so it goes even when no record names it.
	var ces []state.StaleCE
	if st != nil {
		ces = append(slices.Clone(st.StaleCE), state.StaleCE{Link: st.Link, CE: st.CE})
	}
	var errs []error
	names := []string{tunnel.DeviceName(iface)}
	if st != nil && st.Tunnel != "" && st.Tunnel != names[0] {
		names = append(names, st.Tunnel)
	}
	for _, name := range names {
		if err := removeOwnTunnel(k, name, iface, &ces); err != nil {
			errs = append(errs, codeErr(tunnelCode(err), err))
		}
	}
	var valid []state.StaleCE
	for _, c := range ces {
		valid = addStale(valid, c, "", netip.Addr{})
	}
	if err := removeStale(k, valid); err != nil {
		errs = append(errs, codeErr(tunnelCode(err), err))
	}
	env.Trace.Mark("tunnel")
	if err := unfirewall(k, iface); err != nil {
		errs = append(errs, err)
	}
	env.Trace.Mark("firewall-remove")
	// The mapping is gone with the tunnel: its conntrack entries go too,
	// or a flow that keeps sending would keep the old address (netifd
	// runs down before every up, and the next up has no record of it).
	if st != nil && env.Conntrack != nil {
		if ip, err := netip.ParseAddr(st.IPv4); err == nil && ip.Is4() {
			_, _ = flushMapping(env.Conntrack, ip, st.NATRanges())
		}
	}
	env.Trace.Mark("conntrack")
	if len(errs) > 0 {
		return errs[0]
	}
	if err := state.Remove(env.StateDir, iface); err != nil {
		return codeErr(CodeFailed, err)
	}
	return nil
}

// removeOwnTunnel removes tunnel device name unless another interface
// owns it (its mark names another interface; an unmarked device of our
// name counts as ours, as the previous version made them). The CE address
// it ran from is added to ces when ces is not nil.
func removeOwnTunnel(k kernel, name, iface string, ces *[]state.StaleCE) error {
	in, err := k.lookupTunnel(name)
	if err != nil {
		return err
	}
	if in == nil || (in.Owner != "" && in.Owner != iface) {
		return nil
	}
	if ces != nil && in.Local.IsValid() && in.Link != "" {
		*ces = append(*ces, state.StaleCE{Link: in.Link, CE: in.Local.String()})
	}
	return k.removeTunnel(name)
}

// removeStale removes the recorded stale CE addresses (missing ones are fine).
func removeStale(k kernel, stale []state.StaleCE) error {
	var errs []error
	for _, s := range stale {
		a, err := netip.ParseAddr(s.CE)
		if err != nil {
			continue
		}
		errs = append(errs, k.removeCE(s.Link, a))
	}
	return errors.Join(errs...)
}

// kernel is every change up and down make, one method per object, so
// their flow (what is removed or restored when a step fails) is tested
// with a fake whose steps fail on demand; sysKernel is the real one.
type kernel interface {
	lookupTunnel(name string) (*tunnel.Info, error) // nil: no ip6tnl device of that name
	hasCE(link string, ce netip.Addr) bool
	hasTable(iface string) (bool, error)
	ensureTunnel(c tunnel.Config) error // with the CE address, IPv4 and route
	// guardTunnel makes the tunnel drop every IPv4 packet whose source is
	// not ipv4, below nftables (see guard_linux.go).
	guardTunnel(name string, ipv4 netip.Addr) error
	// lockFirewall takes fw4's lock (firewall4.Include.LockFW4); unlock
	// releases it.
	lockFirewall() (unlock func(), err error)
	applyRules(rs *firewall4.Ruleset) error
	installInclude(iface string, rs *firewall4.Ruleset) (link string, err error)
	removeTunnel(name string) error
	removeCE(link string, ce netip.Addr) error
	deleteRules(iface string) error
	removeInclude(iface string) error
}

// objects is what up and down change: env.kernel when a test set one,
// else the real system.
func (env *Env) objects() kernel {
	if env.kernel != nil {
		return env.kernel
	}
	return &sysKernel{env: env}
}

// sysKernel changes the namespace and files of env through rtnetlink,
// nftables netlink (one connection, opened on first use) and the file
// system.
type sysKernel struct {
	env  *Env
	conn *nftables.Conn
}

func (k *sysKernel) nft() (*nftables.Conn, error) {
	if k.conn == nil {
		c, err := k.env.NFT()
		if err != nil {
			return nil, err
		}
		k.conn = c
	}
	return k.conn, nil
}

func (k *sysKernel) lookupTunnel(name string) (*tunnel.Info, error) {
	return tunnel.Lookup(k.env.Netlink, name)
}

func (k *sysKernel) hasCE(link string, ce netip.Addr) bool { return hasAddr(k.env.Netlink, link, ce) }

func (k *sysKernel) hasTable(iface string) (bool, error) {
	c, err := k.nft()
	if err != nil {
		return false, err
	}
	return firewall4.Exists(c, iface)
}

func (k *sysKernel) ensureTunnel(c tunnel.Config) error { return tunnel.Ensure(k.env.Netlink, c) }

func (k *sysKernel) guardTunnel(name string, ipv4 netip.Addr) error {
	return guard(k.env.Netlink, k.env.NetNS, name, ipv4)
}

func (k *sysKernel) lockFirewall() (func(), error) { return k.env.Include.LockFW4() }

func (k *sysKernel) applyRules(rs *firewall4.Ruleset) error {
	c, err := k.nft()
	if err != nil {
		return err
	}
	return firewall4.Apply(c, rs)
}

func (k *sysKernel) installInclude(iface string, rs *firewall4.Ruleset) (string, error) {
	return k.env.Include.Install(iface, rs)
}

func (k *sysKernel) removeTunnel(name string) error { return tunnel.Remove(k.env.Netlink, name) }

func (k *sysKernel) removeCE(link string, ce netip.Addr) error {
	return tunnel.RemoveCE(k.env.Netlink, link, ce)
}

func (k *sysKernel) deleteRules(iface string) error {
	c, err := k.nft()
	if err != nil {
		return err
	}
	return firewall4.Delete(c, iface)
}

func (k *sysKernel) removeInclude(iface string) error { return k.env.Include.Remove(iface) }

// hasAddr reports whether a is already on the device.
func hasAddr(h *netlink.Handle, dev string, a netip.Addr) bool {
	l, err := h.LinkByName(dev)
	if err != nil {
		return false
	}
	addrs, err := h.AddrList(l, unix.AF_INET6)
	if err != nil {
		return false
	}
	want := net.IP(a.AsSlice())
	for _, x := range addrs {
		if x.IP.Equal(want) {
			return true
		}
	}
	return false
}

// nftCode classifies an nftables failure.
func nftCode(err error) string {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return CodeNoPermission
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOENT), errors.Is(err, unix.EAFNOSUPPORT):
		return CodeNoKernelSupport
	}
	return CodeFirewallFailed
}

// nftHint adds the likely cause to errors whose errno alone says little.
func nftHint(err error) error {
	switch nftCode(err) {
	case CodeNoKernelSupport:
		return fmt.Errorf("%w (kernel lacks nftables NAT or ct count: install kmod-nft-nat and kmod-nft-connlimit)", err)
	case CodeNoPermission:
		return fmt.Errorf("%w (need root or CAP_NET_ADMIN)", err)
	}
	return err
}
