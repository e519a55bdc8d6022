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
	"github.com/mapehelper/mapehelper/tunnel"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Env is the kernel and file system up and down work on. Tests point it at
// a network namespace and temporary directories.
type Env struct {
	Netlink *netlink.Handle // rtnetlink in the target namespace
	// Conntrack is a NETLINK_NETFILTER handle in the target namespace for
	// deleting stale NAT entries after up; nil skips that step.
	Conntrack *netlink.Handle
	NFT       func() (*nftables.Conn, error) // a fresh nftables connection
	StateDir  string                         // state and lock files (tmpfs)
	Include   firewall4.Include              // the fw4 include
	Now       func() time.Time               // clock for the state file
	Trace     *Trace                         // phase timings (MAPEHELPER_TRACE=1); nil: none
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
		Include:   firewall4.Include{RuntimeDir: DefaultStateDir, IncludeDir: DefaultIncludeDir},
		Now:       time.Now,
	}, nil
}

// Up applies plan p: tunnel, then nftables, then the fw4 include, under
// the interface's lock. When a step fails, everything this call created
// is removed again and the error carries a netifd code. On success the
// previous CE address (after a prefix change) is removed and the state
// file records what exists now.
func Up(ctx context.Context, env *Env, p *Plan) (*State, error) {
	unlock, err := lock(ctx, env.StateDir, p.Interface)
	if err != nil {
		return nil, err
	}
	defer unlock()
	env.Trace.Mark("lock")
	old, err := readState(env.StateDir, p.Interface)
	if err != nil {
		return nil, codeErr(CodeFailed, err)
	}
	env.Trace.Mark("state-read")
	st := newState(p, env.Now())
	st.StaleCE = staleFrom(old, p.Link, p.ce()) // see up: crash consistency
	if err := up(env, p, old, st); err != nil {
		st.State, st.Error, st.ErrorCode = "error", err.Error(), Code(err)
		st.Include = ""
		if old != nil && old.State == "up" {
			// The rollback kept what the previous up made; down must
			// still find it, and the new CE (if a rollback left it) is
			// stale now.
			newCE := StaleCE{Link: st.Link, CE: st.CE}
			st.Link, st.CE, st.Include = old.Link, old.CE, old.Include
			st.StaleCE = staleFrom(&State{StaleCE: append(st.StaleCE, newCE)}, st.Link, st.ceAddr())
		}
		if werr := writeState(env.StateDir, st); werr != nil {
			err = errors.Join(err, werr)
		}
		return nil, err
	}
	return st, nil
}

func up(env *Env, p *Plan, old, st *State) (err error) {
	// The include is validated before anything in the kernel changes: a
	// rejected ruleset must leave a working previous up untouched.
	if err := env.Include.Validate(p.Interface, p.Rules); err != nil {
		return codeErr(CodeFirewallFailed, err)
	}
	env.Trace.Mark("include-validate")
	// What exists before we start decides what a rollback may remove.
	hadTunnel := tunnel.Exists(env.Netlink, p.Tunnel.Name)
	hadCE := hasAddr(env.Netlink, p.Link, p.ce())
	nft, err := env.NFT()
	if err != nil {
		return codeErr(nftCode(err), nftHint(err))
	}
	hadTable, err := firewall4.Exists(nft, p.Interface)
	if err != nil {
		return codeErr(nftCode(err), nftHint(err))
	}
	env.Trace.Mark("probe")
	defer func() {
		if err == nil {
			return
		}
		var rb []error
		if !hadTable {
			rb = append(rb, firewall4.Delete(nft, p.Interface))
		}
		if !hadTunnel {
			rb = append(rb, tunnel.Remove(env.Netlink, p.Tunnel.Name))
		}
		if !hadCE {
			rb = append(rb, tunnel.RemoveCE(env.Netlink, p.Link, p.ce()))
		}
		if rerr := errors.Join(rb...); rerr != nil {
			err = &Error{code: Code(err), err: fmt.Errorf("%w; rollback incomplete: %v", err, rerr)}
		}
	}()

	// Crash consistency: every CE address up may have put on a link is in
	// the state file from before it is added until after it is removed. The
	// new CE is recorded (st.CE) before tunnel.Ensure adds it; the previous
	// ones move from old.CE/old.StaleCE to st.StaleCE (set by Up) in the same
	// atomic write, and leave the record only in the final write after they are
	// gone. So a kill -9 at any point leaves them for the next up or down.
	st.State = "setting-up"
	if err := writeState(env.StateDir, st); err != nil {
		return codeErr(CodeFailed, err)
	}
	env.Trace.Mark("state-write")
	if err := tunnel.Ensure(env.Netlink, p.Tunnel); err != nil {
		return codeErr(tunnelCode(err), err)
	}
	env.Trace.Mark("tunnel")
	if err := firewall4.Apply(nft, p.Rules); err != nil {
		return codeErr(nftCode(err), nftHint(err))
	}
	env.Trace.Mark("nft-apply")
	link, err := env.Include.Install(p.Interface, p.Rules)
	if err != nil {
		return codeErr(CodeFirewallFailed, err)
	}
	st.Include = link
	env.Trace.Mark("include-install")
	// After a prefix change the old CE addresses would linger on the link.
	if err := removeStale(env.Netlink, st.StaleCE); err != nil {
		return codeErr(CodeTunnelFailed, err)
	}
	st.StaleCE = nil
	env.Trace.Mark("stale-ce")
	// Connections mapped by the previous rules (old IPv4, or ports outside
	// the new sets) would keep their mapping and be dropped by the BR.
	// Best effort: the entries expire anyway, and the new rules are in.
	// Only when the mapping may have changed (no clean previous up of the
	// same IPv4, port sets and CE), since ICMP entries of the current
	// address are deleted too (see natFilter).
	if env.Conntrack != nil && (old == nil || old.State != "up" || old.IPv4 != st.IPv4 || old.CE != st.CE ||
		!slices.Equal(old.PortSets, st.PortSets)) {
		var prev netip.Addr
		if old != nil {
			prev, _ = netip.ParseAddr(old.IPv4)
		}
		cur, _ := netip.ParseAddr(st.IPv4)
		if cur.Is4() {
			_, _ = flushStaleNAT(env.Conntrack, prev, cur, st.PortSets)
		}
	}
	env.Trace.Mark("conntrack")
	st.State = "up"
	st.Updated = env.Now().UTC().Format(time.RFC3339)
	if err := writeState(env.StateDir, st); err != nil {
		return codeErr(CodeFailed, err)
	}
	env.Trace.Mark("state-write")
	return nil
}

// Down removes what up made for iface: the tunnel (with its address and
// route), the CE address recorded in the state file, our nftables table,
// the include and the state file. Missing pieces are not errors, so down
// after a failed or partial up, or twice, succeeds.
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
	st, err := readState(env.StateDir, iface)
	if err != nil {
		return codeErr(CodeFailed, err)
	}
	env.Trace.Mark("state-read")
	name := tunnel.DeviceName(iface)
	if st != nil && st.Tunnel != "" {
		name = st.Tunnel
	}
	var errs []error
	if err := tunnel.Remove(env.Netlink, name); err != nil {
		errs = append(errs, codeErr(tunnelCode(err), err))
	}
	if st != nil && st.ceAddr().IsValid() && st.Link != "" {
		if err := tunnel.RemoveCE(env.Netlink, st.Link, st.ceAddr()); err != nil {
			errs = append(errs, codeErr(tunnelCode(err), err))
		}
	}
	if st != nil {
		if err := removeStale(env.Netlink, st.StaleCE); err != nil {
			errs = append(errs, codeErr(tunnelCode(err), err))
		}
	}
	env.Trace.Mark("tunnel")
	nft, err := env.NFT()
	if err == nil {
		err = firewall4.Delete(nft, iface)
	}
	if err != nil {
		errs = append(errs, codeErr(nftCode(err), err))
	}
	env.Trace.Mark("nft-delete")
	if err := env.Include.Remove(iface); err != nil {
		errs = append(errs, codeErr(CodeFirewallFailed, err))
	}
	env.Trace.Mark("include-remove")
	if len(errs) > 0 {
		return errs[0]
	}
	if err := removeState(env.StateDir, iface); err != nil {
		return codeErr(CodeFailed, err)
	}
	return nil
}

// removeStale removes the recorded stale CE addresses (missing ones are fine).
func removeStale(h *netlink.Handle, stale []StaleCE) error {
	var errs []error
	for _, s := range stale {
		a, err := netip.ParseAddr(s.CE)
		if err != nil {
			continue
		}
		errs = append(errs, tunnel.RemoveCE(h, s.Link, a))
	}
	return errors.Join(errs...)
}

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
		return fmt.Errorf("%w (kernel lacks nftables NAT: install kmod-nft-nat)", err)
	case CodeNoPermission:
		return fmt.Errorf("%w (need root or CAP_NET_ADMIN)", err)
	}
	return err
}
