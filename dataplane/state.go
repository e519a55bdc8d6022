package dataplane

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/mapehelper/mapehelper/state"
	"github.com/mapehelper/mapehelper/tunnel"
)

// newRecord is the state file of plan p as up writes it first ("setting-up"):
// the calculator's keys, the kernel objects, and every option the plan was
// built from, so a later failed up can rebuild it (see planOf).
func newRecord(p *Plan, now time.Time) *state.Record {
	return &state.Record{
		Version: state.Version, Interface: p.Interface, State: state.SettingUp, ResultJSON: p.Result.JSON(),
		Tunnel: p.Tunnel.Name, Zone: p.Zone, NFTTable: p.NFTTable(), NFTChains: p.Rules.Chains(),
		Updated: stamp(now), Link: p.Link, MTU: p.Tunnel.MTU, Netifd: p.Netifd,
		TTL: p.Tunnel.TTL, EncapLimit: encapText(p.Tunnel.EncapLimit), VirtualRange: p.Rules.Virtual,
	}
}

// stamp is the record's time format.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// encapText is the encaplimit option that tunnel.ParseEncapLimit reads
// back as v.
func encapText(v int) string {
	if v == tunnel.EncapIgnore {
		return "ignore"
	}
	return strconv.Itoa(v)
}

// staleFrom is every CE address the record old may leave on a link, except
// keep (the one in use now).
func staleFrom(old *state.Record, keepLink string, keep netip.Addr) []state.StaleCE {
	if old == nil {
		return nil
	}
	var out []state.StaleCE
	for _, s := range old.StaleCE {
		out = addStale(out, s, keepLink, keep)
	}
	return addStale(out, state.StaleCE{Link: old.Link, CE: old.CE}, keepLink, keep)
}

// addStale appends s to list unless it is there already, is no address
// on a link, or is keep on keepLink.
func addStale(list []state.StaleCE, s state.StaleCE, keepLink string, keep netip.Addr) []state.StaleCE {
	a, err := netip.ParseAddr(s.CE)
	if err != nil || s.Link == "" || (s.Link == keepLink && a == keep) {
		return list
	}
	s.CE = a.String()
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// names reports whether the record r names CE address ce on link (as its CE
// or a stale one), i.e. whether an earlier up of ours put it there.
func names(r *state.Record, link string, ce netip.Addr) bool {
	if r == nil {
		return false
	}
	if r.Link == link && r.CEAddr() == ce {
		return true
	}
	for _, s := range r.StaleCE {
		if a, err := netip.ParseAddr(s.CE); err == nil && s.Link == link && a == ce {
			return true
		}
	}
	return false
}
