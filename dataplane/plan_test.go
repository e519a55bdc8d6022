package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/options"
	"github.com/mapehelper/mapehelper/ruletable"
	"github.com/mapehelper/mapehelper/state"
	"github.com/mapehelper/mapehelper/tunnel"
)

// seedResult is the v6plus seed: 240b:12:3456:7800::/56.
func seedResult(t testing.TB) *mapcalc.Result {
	t.Helper()
	return resultFor(t, "240b:12:3456:7800::/56")
}

func resultFor(t testing.TB, prefix string) *mapcalc.Result {
	t.Helper()
	r, err := options.Resolve(options.Interface{}, ruletable.Builtin(), netip.MustParsePrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewPlanSeed(t *testing.T) {
	p, err := NewPlan(Options{Interface: "wan_mape", Link: "wan0", Result: seedResult(t)})
	if err != nil {
		t.Fatal(err)
	}
	tc := p.Tunnel
	if tc.Name != "map-wan_mape" || tc.MTU != 1460 || tc.TTL != 64 || tc.EncapLimit != tunnel.EncapIgnore ||
		tc.Local.String() != "240b:12:3456:7800:e:834:5600:7800" || tc.Remote.String() != "2404:9200:225:100::64" ||
		tc.IPv4.String() != "14.8.52.86" || !tc.Route {
		t.Errorf("tunnel = %+v", tc)
	}
	if p.NFTTable() != "ip mapehelper_wan_mape" || len(p.Rules.PortSets) != 15 || p.Rules.MSS != 1420 {
		t.Errorf("rules = %+v", p.Rules)
	}
	dry := p.DryRun()
	for _, want := range []string{"ip -6 tunnel add map-wan_mape mode ip4ip6", "numgen inc mod 15 vmap", "snat to 14.8.52.86:63360-63375"} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run lacks %q", want)
		}
	}

	p, err = NewPlan(Options{Interface: "wan_mape", Link: "wan0", Result: seedResult(t), Netifd: true, MTU: 1500, TTL: 32, EncapLimit: "4"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Tunnel.Route || p.Tunnel.IPv4.IsValid() || p.Tunnel.MTU != 1500 || p.Tunnel.TTL != 32 || p.Tunnel.EncapLimit != 4 || p.Rules.MSS != 1460 {
		t.Errorf("netifd plan: tunnel %+v, mss %d", p.Tunnel, p.Rules.MSS)
	}
}

func TestNewPlanErrors(t *testing.T) {
	noBR := seedResult(t)
	noBR.Rule.BR = netip.Addr{}
	v4BR := seedResult(t)
	v4BR.Rule.BR = netip.MustParseAddr("192.0.2.1")
	mapt := seedResult(t)
	mapt.Rule.Type = mapcalc.TypeMAPT
	tests := []struct {
		name string
		o    Options
		code string
	}{
		{"no link", Options{Interface: "x", Result: seedResult(t)}, CodeNoTunlink},
		{"no BR", Options{Interface: "x", Link: "l", Result: noBR}, CodeInvalidRule},
		{"IPv4 BR", Options{Interface: "x", Link: "l", Result: v4BR}, CodeInvalidRule},
		{"map-t", Options{Interface: "x", Link: "l", Result: mapt}, CodeUnsupportedType},
		{"bad encaplimit", Options{Interface: "x", Link: "l", Result: seedResult(t), EncapLimit: "lots"}, CodeInvalidRule},
		{"bad mtu", Options{Interface: "x", Link: "l", Result: seedResult(t), MTU: 100}, CodeTunnelFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPlan(tc.o)
			if err == nil || Code(err) != tc.code {
				t.Fatalf("err = %v (code %q), want code %s", err, Code(err), tc.code)
			}
		})
	}
}

func TestCode(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&mapcalc.OptionError{Kind: mapcalc.ErrInvalidRule}, CodeInvalidRule},
		{&mapcalc.OptionError{Kind: mapcalc.ErrInconsistentRule}, CodeInvalidRule},
		{&mapcalc.OptionError{Kind: mapcalc.ErrNoMatchingPrefix}, CodeNoMatchingPD},
		{&mapcalc.OptionError{Kind: mapcalc.ErrBadPrefix}, CodeNoMatchingPD},
		{&mapcalc.OptionError{Kind: mapcalc.ErrUnsupportedType}, CodeUnsupportedType},
		{fmt.Errorf("wrapped: %w", codef(CodeBusy, "busy")), CodeBusy},
		{errors.New("other"), CodeFailed},
	}
	for _, tc := range tests {
		if got := Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	for err, want := range map[error]string{
		fmt.Errorf("x: %w", tunnel.ErrNoLink):          CodeNoTunlink,
		fmt.Errorf("x: %w", tunnel.ErrPermission):      CodeNoPermission,
		fmt.Errorf("x: %w", tunnel.ErrNoKernelSupport): CodeNoKernelSupport,
		errors.New("x"): CodeTunnelFailed,
	} {
		if got := tunnelCode(err); got != want {
			t.Errorf("tunnelCode(%v) = %q, want %q", err, got, want)
		}
	}
}

// TestPlanOfRecord: the record of a plan rebuilds the same plan (tunnel
// with every option, ruleset), which is what restoring a previous up
// applies. A record of the older layout is not restorable.
func TestPlanOfRecord(t *testing.T) {
	for _, o := range []Options{
		{Interface: "wan_mape", Link: "wan0", Result: seedResult(t)},
		{Interface: "ocn", Link: "eth1", Result: resultFor(t, "2400:4050:9234:5600::/56"), TTL: 32, EncapLimit: "4", MTU: 1400, Zone: "wan2", Netifd: true},
	} {
		p, err := NewPlan(o)
		if err != nil {
			t.Fatal(err)
		}
		r := newRecord(p, time.Unix(0, 0))
		r.State = state.Up
		if !r.Restorable() {
			t.Fatalf("%s: record not restorable: %+v", o.Interface, r)
		}
		back, err := planOf(r)
		if err != nil {
			t.Fatal(err)
		}
		if back.Tunnel != p.Tunnel || back.Rules.Render() != p.Rules.Render() || back.Zone != p.Zone ||
			back.Netifd != p.Netifd || back.Link != p.Link || back.Interface != p.Interface {
			t.Errorf("%s: rebuilt plan\n%+v\nwant\n%+v", o.Interface, back, p)
		}
		r.TTL, r.Version = 0, 0 // as a version 0 file reads
		if r.Restorable() {
			t.Errorf("%s: a record without ttl is restorable", o.Interface)
		}
	}
}
