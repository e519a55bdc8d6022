package dataplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// State is the record of one interface in <StateDir>/<iface>.json. The keys
// up to "error_code" are the ones `mapehelper status` reads (the
// calculator's JSON plus the kernel objects); "link", "mtu", "netifd" and
// "include" are what down needs to remove exactly what up made.
type State struct {
	Interface string      `json:"interface"`
	State     string      `json:"state"` // "setting-up", "up" or "error"
	ISP       string      `json:"isp"`
	BR        string      `json:"br"`
	CE        string      `json:"ce"`
	IPv4      string      `json:"ipv4"`
	IP4Prefix string      `json:"ip4prefix"`
	IP6Prefix string      `json:"ip6prefix"`
	EALen     int         `json:"ealen"`
	PSIDLen   int         `json:"psidlen"`
	PSID      int         `json:"psid"`
	Offset    int         `json:"offset"`
	Legacy    bool        `json:"legacy"`
	PortSets  [][2]uint16 `json:"port_sets"`
	Ports     int         `json:"ports"`
	Tunnel    string      `json:"tunnel"`
	Zone      string      `json:"zone"`
	NFTTable  string      `json:"nft_table"`
	NFTChains []string    `json:"nft_chains"`
	Error     string      `json:"error"`
	ErrorCode string      `json:"error_code"`
	Updated   string      `json:"updated"`
	Link      string      `json:"link"`
	MTU       int         `json:"mtu"`
	Netifd    bool        `json:"netifd"`
	Include   string      `json:"include"` // the fw4 include symlink we made, "" if none
	// StaleCE are CE addresses of earlier ups (before a prefix change) that
	// may still be on their link. See up for the crash-consistency rule.
	StaleCE []StaleCE `json:"stale_ce,omitempty"`
}

// StaleCE is a CE address up made earlier and has not removed yet.
type StaleCE struct {
	Link string `json:"link"`
	CE   string `json:"ce"`
}

// staleFrom is every CE address the record old may leave on a link, except
// keep (the one in use now).
func staleFrom(old *State, keepLink string, keep netip.Addr) []StaleCE {
	if old == nil {
		return nil
	}
	var out []StaleCE
	add := func(s StaleCE) {
		a, err := netip.ParseAddr(s.CE)
		if err != nil || s.Link == "" || (s.Link == keepLink && a == keep) {
			return
		}
		for _, x := range out {
			if x == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, s := range old.StaleCE {
		add(s)
	}
	add(StaleCE{Link: old.Link, CE: old.CE})
	return out
}

// newState records plan p.
func newState(p *Plan, now time.Time) *State {
	r := p.Result
	s := &State{
		Interface: p.Interface, ISP: r.Rule.ISP, BR: r.Rule.BR.String(), CE: r.CE.String(), IPv4: r.IPv4.String(),
		IP4Prefix: r.Rule.IP4Prefix.String(), IP6Prefix: r.Rule.IP6Prefix.String(), EALen: r.Rule.EALen,
		PSIDLen: r.Rule.PSIDLen, PSID: int(r.PSID), Offset: r.Rule.Offset, Legacy: r.Rule.Legacy,
		PortSets: make([][2]uint16, 0, len(r.PortSets)), Ports: r.Ports(), Tunnel: p.Tunnel.Name, Zone: p.Zone,
		NFTTable: p.NFTTable(), NFTChains: p.Rules.Chains(), Link: p.Link, MTU: p.Tunnel.MTU, Netifd: p.Netifd,
		Updated: now.UTC().Format(time.RFC3339),
	}
	for _, ps := range r.PortSets {
		s.PortSets = append(s.PortSets, [2]uint16{ps.Lo, ps.Hi})
	}
	return s
}

// ceAddr is the recorded CE address (invalid when none).
func (s *State) ceAddr() netip.Addr {
	a, _ := netip.ParseAddr(s.CE)
	return a
}

func statePath(dir, iface string) string { return filepath.Join(dir, iface+".json") }

// readState returns the recorded state, or nil when there is none.
func readState(dir, iface string) (*State, error) {
	b, err := os.ReadFile(statePath(dir, iface))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("state file %s: %w", statePath(dir, iface), err)
	}
	return &s, nil
}

// writeState replaces the state file atomically (write, then rename), so a
// reader never sees half a file.
func writeState(dir string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(statePath(dir, s.Interface), append(b, '\n'))
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// removeState deletes the state file; a missing one is fine.
func removeState(dir, iface string) error {
	if err := os.Remove(statePath(dir, iface)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove state: %w", err)
	}
	return nil
}
