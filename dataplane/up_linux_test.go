package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mapehelper/mapehelper/firewall4"
	"github.com/mapehelper/mapehelper/state"
	"github.com/mapehelper/mapehelper/state/statetest"
	"github.com/mapehelper/mapehelper/tunnel"
)

// faults fails steps on demand: the next fail[step] calls of step fail
// (-1: every call).
type faults struct{ fail map[string]int }

var errInjected = errors.New("injected failure")

func (f *faults) step(name string) error {
	switch n := f.fail[name]; {
	case n == 0:
		return nil
	case n > 0:
		f.fail[name]--
	}
	return fmt.Errorf("%s: %w", name, errInjected)
}

// fakeKernel keeps the objects up and down make in maps.
type fakeKernel struct {
	faults
	tunnels  map[string]tunnel.Config
	ces      map[string]bool   // "link ce"
	tables   map[string]string // table name → the ruleset's Render()
	includes map[string]string // iface → the include text
	guards   map[string]string // tunnel → the IPv4 its guard lets out
	locked   bool              // fw4's lock is held
	calls    []string          // every changing step, in order, with "lock"/"unlock"
}

func newFake() *fakeKernel {
	return &fakeKernel{faults: faults{fail: map[string]int{}}, tunnels: map[string]tunnel.Config{}, ces: map[string]bool{},
		tables: map[string]string{}, includes: map[string]string{}, guards: map[string]string{}}
}

func ceKey(link string, ce netip.Addr) string { return link + " " + ce.String() }

func (f *fakeKernel) lookupTunnel(name string) (*tunnel.Info, error) {
	c, ok := f.tunnels[name]
	if !ok {
		return nil, nil
	}
	return &tunnel.Info{Name: name, Owner: c.Owner, Link: c.Link, Local: c.Local}, nil
}
func (f *fakeKernel) hasCE(link string, ce netip.Addr) bool { return f.ces[ceKey(link, ce)] }
func (f *fakeKernel) hasTable(iface string) (bool, error) {
	_, ok := f.tables[firewall4.TableName(iface)]
	return ok, f.step("hasTable")
}

func (f *fakeKernel) ensureTunnel(c tunnel.Config) error {
	f.calls = append(f.calls, "ensureTunnel")
	if err := f.step("ensureTunnel"); err != nil {
		return err
	}
	f.ces[ceKey(c.Link, c.Local)] = true
	f.tunnels[c.Name] = c
	return nil
}

func (f *fakeKernel) guardTunnel(name string, ipv4 netip.Addr) error {
	f.calls = append(f.calls, "guardTunnel")
	if err := f.step("guardTunnel"); err != nil {
		return err
	}
	if _, ok := f.tunnels[name]; !ok {
		return fmt.Errorf("guard: no tunnel %s", name)
	}
	f.guards[name] = ipv4.String()
	return nil
}

func (f *fakeKernel) lockFirewall() (func(), error) {
	if err := f.step("lockFirewall"); err != nil {
		return nil, err
	}
	if f.locked {
		return nil, errors.New("fw4 lock taken twice")
	}
	f.locked = true
	f.calls = append(f.calls, "lock")
	return func() { f.locked = false; f.calls = append(f.calls, "unlock") }, nil
}

func (f *fakeKernel) applyRules(rs *firewall4.Ruleset) error {
	f.calls = append(f.calls, "applyRules")
	if err := f.step("applyRules"); err != nil {
		return err
	}
	f.tables[rs.Table] = rs.Render()
	return nil
}

func (f *fakeKernel) installInclude(iface string, rs *firewall4.Ruleset) (string, error) {
	f.calls = append(f.calls, "installInclude")
	if err := f.step("installInclude"); err != nil {
		return "", err
	}
	f.includes[iface] = rs.Include()
	return "/fake/" + iface + ".nft", nil
}

func (f *fakeKernel) removeTunnel(name string) error {
	if err := f.step("removeTunnel"); err != nil {
		return err
	}
	delete(f.tunnels, name)
	delete(f.guards, name) // tc filters go with their device
	return nil
}

func (f *fakeKernel) removeCE(link string, ce netip.Addr) error {
	if err := f.step("removeCE"); err != nil {
		return err
	}
	delete(f.ces, ceKey(link, ce))
	return nil
}

func (f *fakeKernel) deleteRules(iface string) error {
	f.calls = append(f.calls, "deleteRules")
	if err := f.step("deleteRules"); err != nil {
		return err
	}
	delete(f.tables, firewall4.TableName(iface))
	return nil
}

func (f *fakeKernel) removeInclude(iface string) error {
	f.calls = append(f.calls, "removeInclude")
	if err := f.step("removeInclude"); err != nil {
		return err
	}
	delete(f.includes, iface)
	return nil
}

// snapshot is every object of the fake, in a stable order.
func (f *fakeKernel) snapshot() string {
	var out []string
	for name, c := range f.tunnels {
		out = append(out, fmt.Sprintf("tunnel %s %+v", name, c))
	}
	for k := range f.ces {
		out = append(out, "ce "+k)
	}
	for k, v := range f.tables {
		out = append(out, "table "+k+"\n"+v)
	}
	for k, v := range f.includes {
		out = append(out, "include "+k+"\n"+v)
	}
	for k, v := range f.guards {
		out = append(out, "guard "+k+" "+v)
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func fakeEnv(t *testing.T, k kernel) *Env {
	t.Helper()
	return &Env{StateDir: t.TempDir(), kernel: k,
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
}

func planWith(t *testing.T, prefix string, ttl int, encap string, mtu int) *Plan {
	t.Helper()
	p, err := NewPlan(Options{Interface: "wan_mape", Link: "wan0", Result: resultFor(t, prefix), TTL: ttl, EncapLimit: encap, MTU: mtu})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUpFailureRestoresPrevious: a re-up with new tunnel options (to a new
// prefix, or the same one) that fails in any step after validation puts
// the previous up back exactly (tunnel options included) and keeps its
// record, with the error added; down then removes everything.
func TestUpFailureRestoresPrevious(t *testing.T) {
	const seed = "240b:12:3456:7800::/56"
	for _, tc := range []struct{ step, code, prefix string }{
		{"ensureTunnel", CodeTunnelFailed, "240b:12:3457:7900::/56"},
		{"applyRules", CodeFirewallFailed, "240b:12:3457:7900::/56"},
		{"installInclude", CodeFirewallFailed, "240b:12:3457:7900::/56"},
		{"removeCE", CodeTunnelFailed, "240b:12:3457:7900::/56"}, // the previous CE, now stale
		{"guardTunnel", CodeTunnelFailed, "240b:12:3457:7900::/56"},
		{"lockFirewall", CodeBusy, "240b:12:3457:7900::/56"},
		{"ensureTunnel", CodeTunnelFailed, seed},
		{"applyRules", CodeFirewallFailed, seed},
		{"installInclude", CodeFirewallFailed, seed},
	} {
		t.Run(tc.step+" "+tc.prefix, func(t *testing.T) {
			f := newFake()
			env := fakeEnv(t, f)
			ctx := context.Background()
			if _, err := Up(ctx, env, planWith(t, seed, 0, "", 0)); err != nil {
				t.Fatal(err)
			}
			first := f.snapshot()
			prev, err := state.Read(env.StateDir, "wan_mape")
			if err != nil {
				t.Fatal(err)
			}
			f.fail[tc.step] = 1
			_, err = Up(ctx, env, planWith(t, tc.prefix, 32, "4", 1400))
			if !errors.Is(err, errInjected) || Code(err) != tc.code || !strings.Contains(err.Error(), "previous setup was restored") {
				t.Fatalf("up = %v (code %q), want the injected failure, %s, restored", err, Code(err), tc.code)
			}
			if now := f.snapshot(); now != first {
				t.Fatalf("not restored:\n--- before\n%s\n--- after\n%s", first, now)
			}
			rec, err := state.Read(env.StateDir, "wan_mape")
			if err != nil {
				t.Fatal(err)
			}
			if rec.State != state.Up || rec.CE != prev.CE || rec.TTL != 64 || rec.EncapLimit != "ignore" || rec.MTU != 1460 ||
				rec.IPv4 != prev.IPv4 || rec.ErrorCode != tc.code || !strings.Contains(rec.Error, "injected") ||
				len(rec.StaleCE) != 0 || !rec.Restorable() {
				t.Errorf("record after the failed up = %+v", rec)
			}
			if err := Down(ctx, env, "wan_mape"); err != nil {
				t.Fatal(err)
			}
			if now := f.snapshot(); now != "" {
				t.Errorf("down left:\n%s", now)
			}
		})
	}
}

// TestUpFailureRemovesEverything: when the previous up cannot be put back
// (there is none, its record is of the older layout, or the restore fails
// too), a failed up leaves nothing of the interface; objects it found
// without a record of ours stay.
func TestUpFailureRemovesEverything(t *testing.T) {
	ctx := context.Background()
	seed, next := "240b:12:3456:7800::/56", "240b:12:3457:7900::/56"

	t.Run("no previous up", func(t *testing.T) {
		f := newFake()
		env := fakeEnv(t, f)
		f.fail["installInclude"] = -1
		_, err := Up(ctx, env, planWith(t, seed, 0, "", 0))
		if Code(err) != CodeFirewallFailed || !strings.Contains(err.Error(), "what it made was removed") {
			t.Fatalf("up = %v (code %q)", err, Code(err))
		}
		if now := f.snapshot(); now != "" {
			t.Fatalf("left:\n%s", now)
		}
		rec, _ := state.Read(env.StateDir, "wan_mape")
		if rec == nil || rec.State != state.Failed || rec.ErrorCode != CodeFirewallFailed || rec.Include != "" {
			t.Fatalf("record = %+v", rec)
		}
	})

	t.Run("restore fails too", func(t *testing.T) {
		f := newFake()
		env := fakeEnv(t, f)
		if _, err := Up(ctx, env, planWith(t, seed, 0, "", 0)); err != nil {
			t.Fatal(err)
		}
		f.fail["applyRules"] = -1
		_, err := Up(ctx, env, planWith(t, next, 32, "", 0))
		if Code(err) != CodeFirewallFailed || !strings.Contains(err.Error(), "restoring the previous setup failed") ||
			!strings.Contains(err.Error(), "everything of the interface was removed") {
			t.Fatalf("up = %v (code %q)", err, Code(err))
		}
		if now := f.snapshot(); now != "" {
			t.Fatalf("left:\n%s", now)
		}
		if rec, _ := state.Read(env.StateDir, "wan_mape"); rec == nil || rec.State != state.Failed || len(rec.StaleCE) != 0 {
			t.Fatalf("record = %+v", rec)
		}
	})

	t.Run("record of the older layout", func(t *testing.T) {
		f := newFake()
		env := fakeEnv(t, f)
		// What the previous version's up made, and its record.
		old := planWith(t, seed, 0, "", 0)
		_ = f.ensureTunnel(old.Tunnel)
		_ = f.applyRules(old.Rules)
		_, _ = f.installInclude("wan_mape", old.Rules)
		if err := os.MkdirAll(env.StateDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(state.Path(env.StateDir, "wan_mape"), statetest.V0Up, 0o644); err != nil {
			t.Fatal(err)
		}
		f.fail["applyRules"] = 1
		_, err := Up(ctx, env, planWith(t, next, 0, "", 0))
		if Code(err) != CodeFirewallFailed || !strings.Contains(err.Error(), "everything of the interface was removed") {
			t.Fatalf("up = %v (code %q)", err, Code(err))
		}
		if now := f.snapshot(); now != "" {
			t.Fatalf("left:\n%s", now)
		}
	})

	t.Run("foreign objects stay", func(t *testing.T) {
		f := newFake()
		env := fakeEnv(t, f)
		p := planWith(t, seed, 0, "", 0)
		f.tunnels[p.Tunnel.Name] = tunnel.Config{Name: p.Tunnel.Name} // someone's device of our name
		f.ces[ceKey(p.Link, p.ce())] = true                           // configured by hand
		before := f.snapshot()
		f.fail["ensureTunnel"] = -1
		if _, err := Up(ctx, env, p); Code(err) != CodeTunnelFailed {
			t.Fatalf("up = %v (code %q)", err, Code(err))
		}
		if now := f.snapshot(); now != before {
			t.Fatalf("removed what was not ours:\n--- before\n%s\n--- after\n%s", before, now)
		}
	})
}

// TestUpRejectedKeepsRecord: an up whose include nft -c rejects changes
// nothing, and the record of the working previous up stays (error added).
func TestUpRejectedKeepsRecord(t *testing.T) {
	f := newFake()
	env := fakeEnv(t, f)
	ctx := context.Background()
	inc := filepath.Join(t.TempDir(), "nftables.d", "ruleset-post")
	if err := os.MkdirAll(filepath.Dir(inc), 0o755); err != nil {
		t.Fatal(err)
	}
	env.Include = firewall4.Include{RuntimeDir: env.StateDir, IncludeDir: inc, Check: func(string) error { return nil }}
	if _, err := Up(ctx, env, planWith(t, "240b:12:3456:7800::/56", 0, "", 0)); err != nil {
		t.Fatal(err)
	}
	first := f.snapshot()
	prev, _ := state.Read(env.StateDir, "wan_mape")
	env.Include.Check = func(string) error { return errors.New("rejected by test") }
	if _, err := Up(ctx, env, planWith(t, "240b:12:3457:7900::/56", 0, "", 0)); Code(err) != CodeFirewallFailed {
		t.Fatalf("up = %v (code %q)", err, Code(err))
	}
	if now := f.snapshot(); now != first {
		t.Fatalf("rejected up changed the kernel:\n%s", now)
	}
	rec, _ := state.Read(env.StateDir, "wan_mape")
	if rec == nil || rec.State != state.Up || rec.CE != prev.CE || rec.ErrorCode != CodeFirewallFailed {
		t.Fatalf("record = %+v", rec)
	}
}

// damage is every way the state file can exist and be unusable.
var damage = []struct {
	name string
	make func(t *testing.T, path string)
}{
	{"truncated", func(t *testing.T, p string) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, b[:len(b)/2])
	}},
	{"empty", func(t *testing.T, p string) { writeFile(t, p, nil) }},
	{"foreign version", func(t *testing.T, p string) {
		writeFile(t, p, []byte(`{"version": 7, "interface": "wan_mape", "state": "up", "tunnel": "map-elsewhere"}`))
	}},
	{"unreadable", func(t *testing.T, p string) { // a directory: EISDIR for root too
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}},
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedState: a damaged state file never wedges the interface. Down
// removes the tunnel, the CE address (the tunnel's local address), the
// table and the include without it and succeeds; up succeeds over it, and
// after a prefix change removes the CE address it finds on our tunnel.
func TestDamagedState(t *testing.T) {
	ctx := context.Background()
	seed, next := "240b:12:3456:7800::/56", "240b:12:3457:7900::/56"
	for _, d := range damage {
		t.Run("down "+d.name, func(t *testing.T) {
			f := newFake()
			env := fakeEnv(t, f)
			var warned []string
			env.Warn = func(m string) { warned = append(warned, m) }
			if _, err := Up(ctx, env, planWith(t, seed, 0, "", 0)); err != nil {
				t.Fatal(err)
			}
			d.make(t, state.Path(env.StateDir, "wan_mape"))
			if err := Down(ctx, env, "wan_mape"); err != nil {
				t.Fatalf("down = %v", err)
			}
			if now := f.snapshot(); now != "" {
				t.Errorf("down left:\n%s", now)
			}
			if _, err := os.Lstat(state.Path(env.StateDir, "wan_mape")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("state file still there: %v", err)
			}
			if len(warned) != 1 || !strings.Contains(warned[0], "damaged") {
				t.Errorf("warnings = %q", warned)
			}
		})
		t.Run("up "+d.name, func(t *testing.T) {
			f := newFake()
			env := fakeEnv(t, f)
			if _, err := Up(ctx, env, planWith(t, seed, 0, "", 0)); err != nil {
				t.Fatal(err)
			}
			d.make(t, state.Path(env.StateDir, "wan_mape"))
			if _, err := Up(ctx, env, planWith(t, seed, 0, "", 0)); err != nil {
				t.Fatalf("up over the damaged file = %v", err)
			}
			d.make(t, state.Path(env.StateDir, "wan_mape"))
			p := planWith(t, next, 0, "", 0)
			st, err := Up(ctx, env, p)
			if err != nil {
				t.Fatalf("up to a new prefix over the damaged file = %v", err)
			}
			if st.State != state.Up || len(st.StaleCE) != 0 {
				t.Errorf("record = %+v", st)
			}
			want := newFake()
			env2 := fakeEnv(t, want)
			if _, err := Up(ctx, env2, p); err != nil {
				t.Fatal(err)
			}
			if now := f.snapshot(); now != want.snapshot() {
				t.Errorf("after up over a damaged file:\n%s\nwant (a fresh up):\n%s", now, want.snapshot())
			}
			if err := Down(ctx, env, "wan_mape"); err != nil {
				t.Fatal(err)
			}
			if now := f.snapshot(); now != "" {
				t.Errorf("down left:\n%s", now)
			}
		})
	}
}

// TestOrder (issue 12 items 3 and 6): up changes the include and then our
// table, both under fw4's lock, and only then creates the tunnel and its
// tc guard, so no packet can leave the tunnel before the rules are in;
// down and a failed up remove the include and then the table under the
// lock.
func TestOrder(t *testing.T) {
	const seed = "240b:12:3456:7800::/56"
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func(env *Env, f *fakeKernel) error
		want string
	}{
		{"up", func(env *Env, f *fakeKernel) error {
			_, err := Up(ctx, env, planWith(t, seed, 0, "", 0))
			return err
		}, "lock installInclude applyRules unlock ensureTunnel guardTunnel"},
		{"re-up", func(env *Env, f *fakeKernel) error {
			if _, err := Up(ctx, env, planWith(t, seed, 0, "", 0)); err != nil {
				return err
			}
			f.calls = nil
			_, err := Up(ctx, env, planWith(t, "240b:12:3457:7900::/56", 0, "", 0))
			return err
		}, "lock installInclude applyRules unlock ensureTunnel guardTunnel"},
		{"down", func(env *Env, f *fakeKernel) error {
			if _, err := Up(ctx, env, planWith(t, seed, 0, "", 0)); err != nil {
				return err
			}
			f.calls = nil
			return Down(ctx, env, "wan_mape")
		}, "lock removeInclude deleteRules unlock"},
		{"failed up", func(env *Env, f *fakeKernel) error {
			f.fail["ensureTunnel"] = -1
			if _, err := Up(ctx, env, planWith(t, seed, 0, "", 0)); Code(err) != CodeTunnelFailed {
				return fmt.Errorf("up = %v, want %s", err, CodeTunnelFailed)
			}
			return nil
		}, "lock installInclude applyRules unlock ensureTunnel lock removeInclude deleteRules unlock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if err := tc.run(fakeEnv(t, f), f); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(f.calls, " "); got != tc.want {
				t.Errorf("steps\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestTunnelNames: two interfaces whose names cut to 15 characters used
// to share one tunnel device; now each has its own, and down of one
// leaves the other running. A device of our name that another interface
// owns (a hash collision) makes up fail with TUNNEL_FAILED, changing
// nothing, and down leaves it alone.
func TestTunnelNames(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	env := fakeEnv(t, f)
	plan := func(iface, prefix string) *Plan {
		p, err := NewPlan(Options{Interface: iface, Link: "wan0", Result: resultFor(t, prefix)})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1, p2 := plan("wan_mape_ocn1", "240b:12:3456:7800::/56"), plan("wan_mape_ocn2", "240b:12:3457:7900::/56")
	if p1.Tunnel.Name == p2.Tunnel.Name {
		t.Fatalf("both interfaces get tunnel %s", p1.Tunnel.Name)
	}
	if _, err := Up(ctx, env, p1); err != nil {
		t.Fatal(err)
	}
	only1 := f.snapshot()
	if _, err := Up(ctx, env, p2); err != nil {
		t.Fatal(err)
	}
	if len(f.tunnels) != 2 {
		t.Fatalf("tunnels after two ups: %v", f.tunnels)
	}
	if err := Down(ctx, env, "wan_mape_ocn2"); err != nil {
		t.Fatal(err)
	}
	if now := f.snapshot(); now != only1 {
		t.Fatalf("down of ocn2 touched ocn1:\n--- want\n%s\n--- now\n%s", only1, now)
	}

	// A device of ocn2's name that ocn1 owns.
	f.tunnels[p2.Tunnel.Name] = tunnel.Config{Name: p2.Tunnel.Name, Owner: "wan_mape_ocn1", Link: "wan0", Local: p1.ce()}
	before := f.snapshot()
	_, err := Up(ctx, env, p2)
	if Code(err) != CodeTunnelFailed || !errors.Is(err, tunnel.ErrOwnedByOther) || !strings.Contains(err.Error(), "wan_mape_ocn1") {
		t.Fatalf("up over another interface's device = %v (code %q)", err, Code(err))
	}
	if now := f.snapshot(); now != before {
		t.Fatalf("refused up changed the kernel:\n--- before\n%s\n--- after\n%s", before, now)
	}
	if err := Down(ctx, env, "wan_mape_ocn2"); err != nil {
		t.Fatal(err)
	}
	if now := f.snapshot(); now != before {
		t.Fatalf("down removed another interface's device:\n--- before\n%s\n--- after\n%s", before, now)
	}
}

// TestUpRenamesLegacyTunnel: after an upgrade, the previous version's
// tunnel of a long interface name (cut to 15 characters, unmarked) is
// replaced by the new name, not left next to it with the same endpoints
// (which the kernel refuses for a second ip6tnl device).
func TestUpRenamesLegacyTunnel(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	env := fakeEnv(t, f)
	p, err := NewPlan(Options{Interface: "wan_mape_ocn1", Link: "wan0", Result: resultFor(t, "240b:12:3456:7800::/56")})
	if err != nil {
		t.Fatal(err)
	}
	legacy := p.Tunnel
	legacy.Name, legacy.Owner = "map-wan_mape_oc", ""
	f.tunnels[legacy.Name] = legacy
	f.ces[ceKey(p.Link, p.ce())] = true
	rec := newRecord(p, env.Now())
	rec.State, rec.Tunnel = state.Up, legacy.Name
	if err := state.Write(env.StateDir, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := Up(ctx, env, p); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.tunnels[legacy.Name]; ok || len(f.tunnels) != 1 {
		t.Fatalf("tunnels after up: %v", f.tunnels)
	}
	if err := Down(ctx, env, "wan_mape_ocn1"); err != nil {
		t.Fatal(err)
	}
	if now := f.snapshot(); now != "" {
		t.Fatalf("down left:\n%s", now)
	}
}

// TestUpGuardsTunnel: every up leaves the tunnel guarded with the IPv4 of
// its mapping, and a failed re-up restores the previous guard.
func TestUpGuardsTunnel(t *testing.T) {
	f := newFake()
	env := fakeEnv(t, f)
	ctx := context.Background()
	p := planWith(t, "240b:12:3456:7800::/56", 0, "", 0)
	if _, err := Up(ctx, env, p); err != nil {
		t.Fatal(err)
	}
	if g := f.guards[p.Tunnel.Name]; g != "14.8.52.86" {
		t.Fatalf("guard = %q, want 14.8.52.86", g)
	}
	f.fail["applyRules"] = 1
	if _, err := Up(ctx, env, planWith(t, "240b:12:3457:7800::/56", 0, "", 0)); Code(err) != CodeFirewallFailed {
		t.Fatalf("up = %v", err)
	}
	if g := f.guards[p.Tunnel.Name]; g != "14.8.52.86" {
		t.Fatalf("guard after the failed re-up = %q, want 14.8.52.86", g)
	}
}

// TestUpFailureUnderNetifd (issue 12 item 2): netifd runs down before
// every setup, so a failing up --netifd has no previous up to restore: it
// removes what it made, says that the interface stays down, and leaves a
// record "error" with nothing in the kernel.
func TestUpFailureUnderNetifd(t *testing.T) {
	for _, step := range []string{"lockFirewall", "installInclude", "applyRules", "ensureTunnel", "guardTunnel"} {
		t.Run(step, func(t *testing.T) {
			f := newFake()
			env := fakeEnv(t, f)
			ctx := context.Background()
			plan := func(prefix string) *Plan {
				p, err := NewPlan(Options{Interface: "wan_mape", Link: "wan0", Result: resultFor(t, prefix), Netifd: true})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			if _, err := Up(ctx, env, plan("240b:12:3456:7800::/56")); err != nil {
				t.Fatal(err)
			}
			if err := Down(ctx, env, "wan_mape"); err != nil { // netifd's teardown
				t.Fatal(err)
			}
			f.fail[step] = 1
			_, err := Up(ctx, env, plan("240b:12:3457:7900::/56"))
			if err == nil || strings.Contains(err.Error(), "restored") ||
				!strings.Contains(err.Error(), "what it made was removed; the interface stays down until the cause is fixed") {
				t.Fatalf("up = %v", err)
			}
			if now := f.snapshot(); now != "" {
				t.Fatalf("left:\n%s", now)
			}
			rec, _ := state.Read(env.StateDir, "wan_mape")
			if rec == nil || rec.State != state.Failed || rec.ErrorCode != Code(err) {
				t.Fatalf("record = %+v", rec)
			}
		})
	}
}
