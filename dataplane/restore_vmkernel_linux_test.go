//go:build linux && vmkernel

// Tests that need a kernel with ip6_tunnel. The CI host lacks the module,
// so rather than skip there they are built only with the vmkernel tag,
// which scripts/arches/vm-unit.sh sets when it cross-builds the test
// binaries for the VMs (make vm-unit-PROFILE; vm-unit-x86_64 runs in CI).

package dataplane

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/firewall4"
	"github.com/mapehelper/mapehelper/tunnel"
)

// TestUpFailureRestoresKernel is the restore contract of Up on a real
// kernel with ip6_tunnel (the VM; on the CI host, which lacks it, the
// fake-kernel tests in up_linux_test.go cover the flow): a re-up with a
// new prefix, ttl, encaplimit and MTU that fails after it changed the
// tunnel puts back exactly what the previous up had (`ip -d` shows the
// tunnel options), and one whose restore fails too leaves the pre-up state.
func TestUpFailureRestoresKernel(t *testing.T) {
	env, ns := testEnv(t)
	ctx := context.Background()
	before := snapshot(t, env, ns)
	if _, err := Up(ctx, env, seedPlan(t, "240b:12:3456:7800::/56")); err != nil {
		t.Fatal(err)
	}
	first := snapshot(t, env, ns)
	next, err := NewPlan(Options{Interface: "wan_mape", Link: "wan0", Result: resultFor(t, "240b:12:3457:7900::/56"),
		TTL: 32, EncapLimit: "4", MTU: 1400})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"applyRules", "installInclude"} {
		env.kernel = &failing{kernel: &sysKernel{env: env}, faults: faults{fail: map[string]int{step: 1}}}
		_, err := Up(ctx, env, next)
		if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "previous setup was restored") {
			t.Fatalf("%s: up = %v", step, err)
		}
		if now := snapshot(t, env, ns); now != first {
			t.Fatalf("%s failed: previous up not restored:\n--- before\n%s\n--- after\n%s", step, first, now)
		}
	}
	env.kernel = &failing{kernel: &sysKernel{env: env}, faults: faults{fail: map[string]int{"applyRules": -1}}}
	if _, err := Up(ctx, env, next); !strings.Contains(err.Error(), "everything of the interface was removed") {
		t.Fatalf("up with a failing restore = %v", err)
	}
	if now, want := snapshot(t, env, ns), before+filepath.Join(env.StateDir, "wan_mape.json"); now != want {
		t.Fatalf("failed restore left objects:\n--- want\n%s\n--- now\n%s", want, now)
	}
	env.kernel = nil
	downTo(t, env, ns, "wan_mape", before)
}

// failing is a real kernel whose changing steps fail on demand.
type failing struct {
	kernel
	faults
}

func (f *failing) ensureTunnel(c tunnel.Config) error {
	if err := f.step("ensureTunnel"); err != nil {
		return err
	}
	return f.kernel.ensureTunnel(c)
}

func (f *failing) applyRules(rs *firewall4.Ruleset) error {
	if err := f.step("applyRules"); err != nil {
		return err
	}
	return f.kernel.applyRules(rs)
}

func (f *failing) installInclude(iface string, rs *firewall4.Ruleset) (string, error) {
	if err := f.step("installInclude"); err != nil {
		return "", err
	}
	return f.kernel.installInclude(iface, rs)
}
