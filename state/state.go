// Package state is the record `mapehelper up` keeps of one interface in
// <dir>/<interface>.json on tmpfs. Package dataplane writes it and reads
// it back (down removes exactly what the record names, and a failed up
// restores the previous record); package status reads it for `mapehelper
// status` and the ubus status call. One type for the writer and every
// reader, so the file cannot drift from what its readers expect.
//
// The rule part is the calculator's JSON (mapcalc.ResultJSON, embedded, so
// its keys are the `calc --json` keys at the top level of the record).
// Keys are only ever added: a router upgraded while an interface is up
// must still be able to read, show and take down a record written by the
// previous version (see Version).
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/mapehelper/mapehelper/mapcalc"
)

// DefaultDir is where up records each interface, one <iface>.json each.
// It is on tmpfs: nothing survives a reboot and flash is not worn.
const DefaultDir = "/var/run/mapehelper"

// Version is the layout of a record made now; the writer sets
// Record.Version, and Write keeps whatever it says, so rewriting an old
// record never claims keys it lacks. Version 0 (no "version" key) is the
// layout before the record kept the tunnel's ttl and encaplimit: enough for
// status and down, not for rebuilding the previous tunnel (see Restorable).
const Version = 1

// Values of Record.State.
const (
	SettingUp = "setting-up" // up is changing the kernel (or was killed doing so)
	Up        = "up"         // the objects the record names exist and carry traffic
	Failed    = "error"      // the last up failed and removed what it could
)

// MaxSize bounds what Read accepts: records are a few kilobytes (OCN's 63
// port sets included), anything huge is not ours.
const MaxSize = 1 << 20

// Record is one interface's state file. The keys from "isp" to "ports"
// are the calculator's; the rest describe the kernel objects up made and
// the outcome of the last up.
type Record struct {
	Version   int    `json:"version,omitempty"` // layout, see Version
	Interface string `json:"interface"`         // logical interface (UCI section)
	State     string `json:"state"`             // SettingUp, Up or Failed
	mapcalc.ResultJSON
	Tunnel    string   `json:"tunnel"`     // tunnel device, e.g. map-wan_mape
	Zone      string   `json:"zone"`       // firewall zone, "" means wan
	NFTTable  string   `json:"nft_table"`  // family and table of our rules, e.g. "ip mapehelper_wan_mape"
	NFTChains []string `json:"nft_chains"` // chains of NFTTable that must hold rules; empty: any
	Error     string   `json:"error"`      // last error of up, "" when it succeeded
	ErrorCode string   `json:"error_code"` // its netifd code
	Updated   string   `json:"updated"`    // RFC 3339 time of the last write
	Link      string   `json:"link"`       // Linux device carrying the tunnel and the CE address
	MTU       int      `json:"mtu"`        // tunnel MTU
	Netifd    bool     `json:"netifd"`     // netifd owns the IPv4 address and route
	Include   string   `json:"include"`    // the fw4 include symlink up made, "" if none
	// TTL and EncapLimit are the tunnel options (version 1 on), so a failed
	// up can put the previous tunnel back exactly. EncapLimit is the
	// option's text ("ignore" or a number), as tunnel.ParseEncapLimit reads.
	TTL        int    `json:"ttl,omitempty"`
	EncapLimit string `json:"encaplimit,omitempty"`
	// VirtualRange: the rules SNAT TCP and UDP into the virtual range
	// 1..N (option vrange in effect, firewall4's Ruleset.Virtual: two port
	// sets or more), so conntrack holds virtual ports (NATRanges).
	VirtualRange bool `json:"vrange,omitempty"`
	// StaleCE are CE addresses of earlier ups (before a prefix change) that
	// may still be on their link; the next up or down removes them.
	StaleCE []StaleCE `json:"stale_ce,omitempty"`
}

// StaleCE is a CE address up made earlier and has not removed yet.
type StaleCE struct {
	Link string `json:"link"`
	CE   string `json:"ce"`
}

// CEAddr is the recorded CE address (invalid when none or unparsable).
func (r *Record) CEAddr() netip.Addr {
	a, _ := netip.ParseAddr(r.CE)
	return a
}

// IsUp reports whether r records a working up (false for no record).
func (r *Record) IsUp() bool { return r != nil && r.State == Up }

// Restorable reports whether the record describes a working up that has
// everything needed to rebuild it (Version 1 on): a failed up puts such a
// state back; older records lack the tunnel options.
func (r *Record) Restorable() bool {
	return r.IsUp() && r.Version >= 1 && r.TTL != 0 && r.Link != ""
}

// Result rebuilds the calculator result the record was written from (the
// parts up uses: rule, CE, IPv4, PSID and port sets).
func (r *Record) Result() (*mapcalc.Result, error) {
	var res mapcalc.Result
	var errs []error
	parse := func(what, s string, f func(string) error) {
		if err := f(s); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", what, s, err))
		}
	}
	parse("br", r.BR, func(s string) (err error) { res.Rule.BR, err = netip.ParseAddr(s); return })
	parse("ce", r.CE, func(s string) (err error) { res.CE, err = netip.ParseAddr(s); return })
	parse("ipv4", r.IPv4, func(s string) (err error) { res.IPv4, err = netip.ParseAddr(s); return })
	parse("ip4prefix", r.IP4Prefix, func(s string) (err error) { res.Rule.IP4Prefix, err = netip.ParsePrefix(s); return })
	parse("ip6prefix", r.IP6Prefix, func(s string) (err error) { res.Rule.IP6Prefix, err = netip.ParsePrefix(s); return })
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("state of %s: %w", r.Interface, err)
	}
	res.Rule.Type = mapcalc.TypeMAPE
	res.Rule.ISP, res.Rule.EALen, res.Rule.PSIDLen = r.ISP, r.EALen, r.PSIDLen
	res.Rule.Offset, res.Rule.Legacy, res.Rule.PSID = r.Offset, r.Legacy, int(r.PSID)
	res.PSID = r.PSID
	res.PortSets = append([]mapcalc.PortRange(nil), r.PortSets...)
	return &res, nil
}

// NATRanges are the port ranges conntrack's TCP and UDP mappings of this
// interface lie in: the port sets, or with the virtual range the range
// 1..N, whose port i the rules send as the i-th port of the sets
// (mapcalc.RealPort).
func (r *Record) NATRanges() []mapcalc.PortRange {
	if r.VirtualRange {
		return []mapcalc.PortRange{mapcalc.VirtualRange(r.PortSets)}
	}
	return r.PortSets
}

// check rejects what no writer produces, so a reader never acts on it.
func (r *Record) check() error {
	for _, p := range r.PortSets {
		if p.Lo > p.Hi {
			return fmt.Errorf("port set %v is reversed", p.Span())
		}
	}
	for _, s := range r.StaleCE {
		if s.Link == "" {
			return fmt.Errorf("stale CE %q has no link", s.CE)
		}
	}
	return nil
}

// Path is the state file of iface in dir.
func Path(dir, iface string) string { return filepath.Join(dir, iface+".json") }

// ErrDamaged marks a state file that exists but cannot be used: unreadable,
// truncated, empty, not JSON, written by a newer layout, or naming another
// interface. Up and down then go by what the kernel marks as ours instead
// (package dataplane), so a damaged file never wedges the interface.
var ErrDamaged = errors.New("state file damaged")

// Read returns the record of iface, or nil when there is none. Any other
// failure wraps ErrDamaged.
func Read(dir, iface string) (*Record, error) {
	r, err := ReadFile(Path(dir, iface))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r.Interface != iface {
		return nil, fmt.Errorf("%w: %s records interface %q", ErrDamaged, Path(dir, iface), r.Interface)
	}
	return r, nil
}

// ReadFile parses one state file of any version up to Version. A missing
// file is an error wrapping fs.ErrNotExist; every other failure wraps
// ErrDamaged.
func ReadFile(path string) (*Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrDamaged, path, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrDamaged, path, MaxSize)
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDamaged, path, err)
	}
	return r, nil
}

// Parse reads a record of any version from its JSON.
func Parse(b []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	// A newer layout may mean something else by the keys we know (keys are
	// only added within a layout), so its objects are found by their marks.
	if r.Version > Version || r.Version < 0 {
		return nil, fmt.Errorf("layout version %d: this mapehelper reads up to %d", r.Version, Version)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Write replaces the state file of r.Interface in dir atomically (write a
// temporary file, then rename), so a reader or a crash never sees half a
// record.
func Write(dir string, r *Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state of %s: %w", r.Interface, err)
	}
	return writeAtomic(Path(dir, r.Interface), append(b, '\n'))
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

// Remove deletes the state file of iface; a missing one is fine.
func Remove(dir, iface string) error {
	if err := os.Remove(Path(dir, iface)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove state: %w", err)
	}
	return nil
}
