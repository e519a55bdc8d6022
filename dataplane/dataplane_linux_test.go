package dataplane

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/mapehelper/mapehelper/dataplane/nstest"
	"github.com/mapehelper/mapehelper/firewall4"
	"github.com/mapehelper/mapehelper/state"
	"github.com/mapehelper/mapehelper/state/statetest"
	"github.com/mapehelper/mapehelper/tunnel"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// testEnv is a namespace with an up veth "wan0" carrying a global IPv6
// address, temporary state and fw4 include directories, and an Env bound
// to them.
func testEnv(t *testing.T) (*Env, *nstest.NS) {
	t.Helper()
	nstest.Require(t, "ip", "nft")
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "wan0", "type", "veth", "peer", "name", "wan1")
	ns.Run(t, "ip", "link", "set", "wan0", "up")
	ns.Run(t, "ip", "link", "set", "wan1", "up")
	// Carrier comes up asynchronously and changes link flags and the
	// routes' "linkdown": wait for it so snapshots compare only our objects.
	for i := 0; !strings.Contains(ns.Run(t, "ip", "link", "show", "wan0"), "LOWER_UP"); i++ {
		if i == 100 {
			t.Fatal("veth wan0 never got carrier")
		}
		time.Sleep(30 * time.Millisecond)
	}
	ns.Run(t, "ip", "-6", "addr", "add", "240b:12:3456:7800::1/64", "dev", "wan0", "nodad")
	h, err := netlink.NewHandleAt(ns.Handle, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	ct, err := netlink.NewHandleAt(ns.Handle, unix.NETLINK_NETFILTER)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ct.Close)
	dir := t.TempDir()
	incDir := filepath.Join(dir, "usr/share/nftables.d/ruleset-post")
	if err := os.MkdirAll(filepath.Dir(incDir), 0o755); err != nil {
		t.Fatal(err)
	}
	env := &Env{
		Netlink:   h,
		NetNS:     int(ns.Handle),
		Conntrack: ct,
		NFT:       func() (*nftables.Conn, error) { return firewall4.Open(nftables.WithNetNSFd(int(ns.Handle))) },
		StateDir:  filepath.Join(dir, "run"),
		Include: firewall4.Include{RuntimeDir: filepath.Join(dir, "run"), IncludeDir: incDir,
			Check: func(path string) error { _, err := ns.Try("nft", "-c", "-f", path); return err }},
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
	return env, ns
}

// snapshot is everything of ours that could be left behind.
func snapshot(t *testing.T, env *Env, ns *nstest.NS) string {
	t.Helper()
	var files []string
	for _, d := range []string{env.StateDir, env.Include.IncludeDir} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".lock") {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	// A netlink dump that raced a change (the kernel adding a link-local
	// address, say) says so and may be incomplete: take it again.
	for i := 0; ; i++ {
		out := ns.Run(t, "ip", "-o", "link", "show") + ns.Run(t, "ip", "-d", "link", "show", "type", "ip6tnl") +
			ns.Run(t, "ip", "-o", "addr", "show", "scope", "global") + ns.Run(t, "ip", "route", "show") +
			ns.Run(t, "ip", "-6", "route", "show") + ns.Run(t, "nft", "list", "ruleset") + strings.Join(files, "\n")
		if !strings.Contains(out, "Dump was interrupted") || i == 9 {
			return out
		}
	}
}

func seedPlan(t *testing.T, prefix string) *Plan {
	t.Helper()
	p, err := NewPlan(Options{Interface: "wan_mape", Link: "wan0", Result: resultFor(t, prefix)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUpDown runs the whole cycle where the kernel has ip6_tunnel (the VM):
// up twice = same state, a prefix change moves everything, down restores
// the snapshot taken before up. On a kernel without ip6_tunnel (the CI
// host) it checks the other half of the contract: up fails with
// NO_KERNEL_SUPPORT and rolls back every object it made.
func TestUpDown(t *testing.T) {
	env, ns := testEnv(t)
	ctx := context.Background()
	before := snapshot(t, env, ns)
	p := seedPlan(t, "240b:12:3456:7800::/56")
	st, err := Up(ctx, env, p)
	if errors.Is(err, tunnel.ErrNoKernelSupport) && os.Getenv("MAPEHELPER_NEED_IP6TNL") != "1" {
		if Code(err) != CodeNoKernelSupport {
			t.Fatalf("code %q, want %s", Code(err), CodeNoKernelSupport)
		}
		after := snapshot(t, env, ns)
		wantAfter := before + filepath.Join(env.StateDir, "wan_mape.json") // the error is recorded for status
		if after != wantAfter {
			t.Fatalf("failed up left objects behind:\n--- before\n%s\n--- after\n%s", before, after)
		}
		s, rerr := state.Read(env.StateDir, "wan_mape")
		if rerr != nil || s.State != "error" || s.ErrorCode != CodeNoKernelSupport {
			t.Fatalf("state after failure = %+v, %v", s, rerr)
		}
		downTo(t, env, ns, "wan_mape", before)
		t.Logf("kernel lacks ip6_tunnel: checked rollback only (%v)", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.State != "up" || st.Tunnel != "map-wan_mape" || st.NFTTable != "ip mapehelper_wan_mape" || st.Ports != 240 {
		t.Errorf("state = %+v", st)
	}
	first := snapshot(t, env, ns)
	if _, err := Up(ctx, env, p); err != nil {
		t.Fatal(err)
	}
	if second := snapshot(t, env, ns); second != first {
		t.Fatalf("second up changed state:\n--- first\n%s\n--- second\n%s", first, second)
	}
	moved := seedPlan(t, "240b:12:3457:7900::/56") // another IPv4 (14.8.52.87) and PSID (121)
	if _, err := Up(ctx, env, moved); err != nil {
		t.Fatal(err)
	}
	now := snapshot(t, env, ns)
	if strings.Contains(now, p.Tunnel.Local.String()) || !strings.Contains(now, moved.Tunnel.Local.String()) ||
		strings.Contains(now, p.Result.IPv4.String()+"/32") || !strings.Contains(now, moved.Result.IPv4.String()+"/32") ||
		strings.Contains(now, "6016-6031") || !strings.Contains(now, "snat to 14.8.52.87:6032-6047") {
		t.Fatalf("prefix change did not move everything:\n%s", now)
	}
	downTo(t, env, ns, "wan_mape", before)
}

func TestUpMissingLink(t *testing.T) {
	env, ns := testEnv(t)
	before := snapshot(t, env, ns)
	p, err := NewPlan(Options{Interface: "wan_mape", Link: "nosuch0", Result: seedResult(t)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Up(context.Background(), env, p)
	if Code(err) != CodeNoTunlink {
		t.Fatalf("err = %v (code %q), want NO_TUNLINK", err, Code(err))
	}
	downTo(t, env, ns, "wan_mape", before)
}

// TestUpBusy: a second up waits for the lock and gives up with BUSY when
// its context ends.
func TestUpBusy(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lock(context.Background(), dir, "wan_mape")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err = lock(ctx, dir, "wan_mape")
	if Code(err) != CodeBusy {
		t.Fatalf("err = %v, want BUSY", err)
	}
	if ctx.Err() == nil {
		t.Fatal("gave up before the context ended")
	}
	unlock()
	u2, err := lock(context.Background(), dir, "wan_mape")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	u2()
}

// TestUpFW4Locked (issue 12 item 3): while fw4 holds its lock (a start or
// reload rendering the ruleset from the includes), up does not touch the
// include or the table; when the lock stays taken it fails with BUSY and
// one line naming the lock file, leaving nothing behind. Down removes
// everything even then (include first) and reports the lock.
func TestUpFW4Locked(t *testing.T) {
	env, ns := testEnv(t)
	env.Include.Lock = filepath.Join(t.TempDir(), "fw4.lock")
	env.Include.LockWait = 100 * time.Millisecond
	f, err := os.OpenFile(env.Include.Lock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil { // what `flock -x 1000` in fw4 does
		t.Fatal(err)
	}
	before := snapshot(t, env, ns)
	_, err = Up(context.Background(), env, seedPlan(t, "240b:12:3456:7800::/56"))
	if Code(err) != CodeBusy || !strings.Contains(err.Error(), env.Include.Lock) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("up = %v (code %q), want BUSY naming %s", err, Code(err), env.Include.Lock)
	}
	if after := snapshot(t, env, ns); after != before+filepath.Join(env.StateDir, "wan_mape.json") {
		t.Fatalf("up under fw4's lock left objects behind:\n--- before\n%s\n--- after\n%s", before, after)
	}
	if err := Down(context.Background(), env, "wan_mape"); Code(err) != CodeBusy {
		t.Fatalf("down = %v, want BUSY", err)
	}
	// Everything is gone; the state file stays, as after any down that
	// reports an error.
	if after := snapshot(t, env, ns); after != before+filepath.Join(env.StateDir, "wan_mape.json") {
		t.Fatalf("down under fw4's lock:\n%s", after)
	}
}

// TestUpWithoutPermission drops CAP_NET_ADMIN is not possible per thread in
// Go, so permission mapping is checked on the errno level.
func TestNFTCode(t *testing.T) {
	for errno, want := range map[syscall.Errno]string{
		syscall.EPERM: CodeNoPermission, syscall.EOPNOTSUPP: CodeNoKernelSupport,
		syscall.ENOENT: CodeNoKernelSupport, syscall.EINVAL: CodeFirewallFailed,
	} {
		if got := nftCode(errno); got != want {
			t.Errorf("nftCode(%v) = %s, want %s", errno, got, want)
		}
	}
}

// TestUpRejectedIncludeTouchesNothing is known bug 1 of docs/reliability.md:
// an up whose include nft -c rejects must fail before it changes the kernel,
// so a working previous up (here: our table from an earlier plan) stays
// exactly as it was, and no tunnel or CE address appears.
func TestUpRejectedIncludeTouchesNothing(t *testing.T) {
	env, ns := testEnv(t)
	nft, err := env.NFT()
	if err != nil {
		t.Fatal(err)
	}
	if err := firewall4.Apply(nft, seedPlan(t, "240b:12:3456:7800::/56").Rules); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, env, ns)
	env.Include.Check = func(string) error { return errors.New("rejected by test") }
	_, err = Up(context.Background(), env, seedPlan(t, "240b:12:3456:7900::/56"))
	if err == nil || Code(err) != CodeFirewallFailed {
		t.Fatalf("up = %v (code %q), want %s", err, Code(err), CodeFirewallFailed)
	}
	after := snapshot(t, env, ns)
	if want := before + filepath.Join(env.StateDir, "wan_mape.json"); after != want {
		t.Fatalf("rejected up changed the kernel:\n--- before\n%s\n--- after\n%s", before, after)
	}
}

// TestStaleCEAfterKill is known bug 2 of docs/reliability.md: an up that
// moves the prefix and is killed after its "setting-up" write must leave
// the old CE address recorded, so that the next up (same new prefix) or
// down removes it. The state file here is exactly what that write holds.
func TestStaleCEAfterKill(t *testing.T) {
	env, ns := testEnv(t)
	ctx := context.Background()
	oldPlan, newPlan := seedPlan(t, "240b:12:3456:7800::/56"), seedPlan(t, "240b:12:3456:7900::/56")
	oldCE := oldPlan.ce().String()
	ns.Run(t, "ip", "-6", "addr", "add", oldCE+"/128", "dev", "wan0", "nodad")
	if err := os.MkdirAll(env.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	prev := newRecord(oldPlan, env.Now())
	prev.State = state.Up
	st := newRecord(newPlan, env.Now())
	st.StaleCE = staleFrom(prev, newPlan.Link, newPlan.ce())
	st.State = state.SettingUp
	if len(st.StaleCE) != 1 || st.StaleCE[0] != (state.StaleCE{Link: "wan0", CE: oldCE}) {
		t.Fatalf("stale = %+v", st.StaleCE)
	}
	if err := state.Write(env.StateDir, st); err != nil {
		t.Fatal(err)
	}
	// The next up of the same new prefix (old.CE == new CE now). Without
	// ip6_tunnel it fails and removes everything the record names, the
	// stale CE too; it may drop the stale CE from the record only then.
	_, err := Up(ctx, env, newPlan)
	onLink := strings.Contains(ns.Run(t, "ip", "-6", "addr", "show", "dev", "wan0"), oldCE)
	if err == nil && onLink {
		t.Fatal("up left the stale CE on the link")
	}
	if s, _ := state.Read(env.StateDir, "wan_mape"); err != nil && onLink && (s == nil || len(s.StaleCE) != 1) {
		t.Fatalf("failed up dropped the stale CE from the record, and it is still on the link: %+v", s)
	}
	if err := Down(ctx, env, "wan_mape"); err != nil {
		t.Fatal(err)
	}
	if out := ns.Run(t, "ip", "-6", "addr", "show", "dev", "wan0"); strings.Contains(out, oldCE) {
		t.Fatalf("old CE %s still on wan0 after up+down:\n%s", oldCE, out)
	}
}

// oldObjects makes, in the test namespace, what the previous version's up
// of plan p made (without the tunnel, which the CI host cannot create),
// and installs its recorded state file (package statetest).
func oldObjects(t *testing.T, env *Env, ns *nstest.NS, p *Plan, record []byte, extraCE ...string) {
	t.Helper()
	for _, ce := range append([]string{p.ce().String()}, extraCE...) {
		ns.Run(t, "ip", "-6", "addr", "add", ce+"/128", "dev", "wan0", "nodad")
	}
	nft, err := env.NFT()
	if err != nil {
		t.Fatal(err)
	}
	if err := firewall4.Apply(nft, p.Rules); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Include.Install(p.Interface, p.Rules); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state.Path(env.StateDir, p.Interface), record, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDownVersion0: a router upgraded while an up of the previous version
// was being made (its "setting-up" record, package statetest) still takes
// everything down: both CE addresses, the table, the include, the record.
func TestDownVersion0(t *testing.T) {
	env, ns := testEnv(t)
	before := snapshot(t, env, ns)
	oldObjects(t, env, ns, seedPlan(t, "240b:12:3457:7900::/56"), statetest.V0SettingUp,
		seedPlan(t, "240b:12:3456:7800::/56").ce().String())
	downTo(t, env, ns, "wan_mape", before)
}

// TestUpOverVersion0: an up after an upgrade, over a previous version's up
// of another prefix (its "up" record, which cannot be restored), either
// succeeds and removes the old CE address, or (no ip6_tunnel) removes
// everything; down then returns the pre-up state.
func TestUpOverVersion0(t *testing.T) {
	env, ns := testEnv(t)
	ctx := context.Background()
	before := snapshot(t, env, ns)
	old := seedPlan(t, "240b:12:3456:7800::/56")
	oldObjects(t, env, ns, old, statetest.V0Up)
	_, err := Up(ctx, env, seedPlan(t, "240b:12:3457:7900::/56"))
	now := snapshot(t, env, ns)
	switch {
	case errors.Is(err, tunnel.ErrNoKernelSupport) && os.Getenv("MAPEHELPER_NEED_IP6TNL") != "1":
		if want := before + filepath.Join(env.StateDir, "wan_mape.json"); now != want {
			t.Fatalf("failed up over a version 0 record left:\n--- want\n%s\n--- now\n%s", want, now)
		}
	case err != nil:
		t.Fatal(err)
	case strings.Contains(now, old.ce().String()) || strings.Contains(now, "14.8.52.86/32"):
		t.Fatalf("up over a version 0 record left its objects:\n%s", now)
	}
	downTo(t, env, ns, "wan_mape", before)
}

// TestDamagedStateKernel: on a real kernel, down with a truncated,
// empty, foreign-version or unreadable state file returns the pre-up
// state, and up over such a file works. Where the kernel has ip6_tunnel
// (the VM, `make vm-unit-x86_64`) that includes the tunnel and the CE
// address found through the tunnel's owner mark; on a host without it,
// the table, the include and the file (made as up would) must go and down
// must succeed.
func TestDamagedStateKernel(t *testing.T) {
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			env, ns := testEnv(t)
			ctx := context.Background()
			before := snapshot(t, env, ns)
			p := seedPlan(t, "240b:12:3456:7800::/56")
			_, err := Up(ctx, env, p)
			if errors.Is(err, tunnel.ErrNoKernelSupport) && os.Getenv("MAPEHELPER_NEED_IP6TNL") != "1" {
				if err := Down(ctx, env, "wan_mape"); err != nil {
					t.Fatal(err)
				}
				nft, err := env.NFT()
				if err != nil {
					t.Fatal(err)
				}
				if err := firewall4.Apply(nft, p.Rules); err != nil {
					t.Fatal(err)
				}
				if _, err := env.Include.Install(p.Interface, p.Rules); err != nil {
					t.Fatal(err)
				}
				if err := state.Write(env.StateDir, newRecord(p, env.Now())); err != nil {
					t.Fatal(err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			d.make(t, state.Path(env.StateDir, "wan_mape"))
			if err := Down(ctx, env, "wan_mape"); err != nil {
				t.Fatalf("down with a damaged state file = %v", err)
			}
			if now := snapshot(t, env, ns); now != before {
				t.Fatalf("down with a damaged state file left:\n--- before\n%s\n--- after\n%s", before, now)
			}
			if err != nil {
				return // no ip6_tunnel: up cannot succeed here
			}
			if _, err := Up(ctx, env, p); err != nil {
				t.Fatal(err)
			}
			first := snapshot(t, env, ns)
			d.make(t, state.Path(env.StateDir, "wan_mape"))
			if _, err := Up(ctx, env, p); err != nil {
				t.Fatalf("up over a damaged state file = %v", err)
			}
			if now := snapshot(t, env, ns); now != first {
				t.Fatalf("up over a damaged state file:\n--- want\n%s\n--- now\n%s", first, now)
			}
			d.make(t, state.Path(env.StateDir, "wan_mape"))
			moved := seedPlan(t, "240b:12:3457:7900::/56")
			if _, err := Up(ctx, env, moved); err != nil {
				t.Fatalf("up to a new prefix over a damaged state file = %v", err)
			}
			if now := snapshot(t, env, ns); strings.Contains(now, p.ce().String()) {
				t.Fatalf("the previous CE address stayed:\n%s", now)
			}
			downTo(t, env, ns, "wan_mape", before)
		})
	}
}

// TestTunnelNamesKernel: two interfaces whose names the previous version
// cut to the same 15 characters (wan_mape_ocn1, wan_mape_ocn2) get two
// tunnels, each marked with its owner, and down of one leaves the other
// running. Where the kernel lacks ip6_tunnel (the CI host) both ups fail
// and down of each returns the pre-up state; the VM runs the real case.
func TestTunnelNamesKernel(t *testing.T) {
	env, ns := testEnv(t)
	ctx := context.Background()
	before := snapshot(t, env, ns)
	// As under netifd, which owns the IPv4 addresses and routes: on the
	// command line both ups would replace the one IPv4 default route.
	plan := func(iface, prefix string) *Plan {
		p, err := NewPlan(Options{Interface: iface, Link: "wan0", Result: resultFor(t, prefix), Netifd: true})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1, p2 := plan("wan_mape_ocn1", "240b:12:3456:7800::/56"), plan("wan_mape_ocn2", "240b:12:3457:7900::/56")
	_, err := Up(ctx, env, p1)
	if errors.Is(err, tunnel.ErrNoKernelSupport) && os.Getenv("MAPEHELPER_NEED_IP6TNL") != "1" {
		for _, iface := range []string{"wan_mape_ocn1", "wan_mape_ocn2"} {
			if err := Down(ctx, env, iface); err != nil {
				t.Fatal(err)
			}
		}
		if now := snapshot(t, env, ns); now != before {
			t.Fatalf("left:\n%s", now)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	only1 := snapshot(t, env, ns)
	if _, err := Up(ctx, env, p2); err != nil {
		t.Fatal(err)
	}
	links := ns.Run(t, "ip", "-d", "link", "show", "type", "ip6tnl")
	for _, want := range []string{p1.Tunnel.Name + "@wan0", "alias mapehelper:wan_mape_ocn1", p2.Tunnel.Name + "@wan0", "alias mapehelper:wan_mape_ocn2"} {
		if !strings.Contains(links, want) {
			t.Errorf("lacks %q:\n%s", want, links)
		}
	}
	downTo(t, env, ns, "wan_mape_ocn2", only1)
	downTo(t, env, ns, "wan_mape_ocn1", before)
}

// downTo runs down of iface and fails the test unless the kernel and the
// state directory are back to want, a snapshot taken before (the
// contract every failed or undone up must keep).
func downTo(t *testing.T, env *Env, ns *nstest.NS, iface, want string) {
	t.Helper()
	if err := Down(context.Background(), env, iface); err != nil {
		t.Fatalf("down %s: %v", iface, err)
	}
	if now := snapshot(t, env, ns); now != want {
		t.Fatalf("down %s did not return the state before:\n%s", iface, lineDiff(want, now))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+), so a
// failure in the VM, whose log keeps 150 lines, shows the difference.
func lineDiff(want, got string) string {
	count := map[string]int{}
	for _, l := range strings.Split(want, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(got, "\n") {
		count[l]--
	}
	var out []string
	for l, n := range count {
		for ; n > 0; n-- {
			out = append(out, "- "+l)
		}
		for ; n < 0; n++ {
			out = append(out, "+ "+l)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}
