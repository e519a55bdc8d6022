// Package status gathers what a user (or LuCI) needs to see about every MAP
// interface on the router: the computed rule, whether the tunnel and the
// nftables rules are really there, how many ports of each port set are in
// use right now, and which port forwards can never work because the ISP
// does not deliver their external port to us.
//
// The kernel and the file system are reached only through the small
// interfaces in this file, so the counting and checking logic is pure and
// tested with tables; the Linux implementations live in *_linux.go.
package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultStateDir is where `mapehelper up` records each interface it set
// up, one <interface>.json file per interface.
const DefaultStateDir = "/var/run/mapehelper"

// PortRange is one contiguous range of ports, both ends included. In JSON
// it is a [lo, hi] pair, the form the calculator writes; "lo-hi" strings are
// accepted too.
type PortRange struct{ Lo, Hi uint16 }

// Len is the number of ports in the range.
func (p PortRange) Len() int { return int(p.Hi) - int(p.Lo) + 1 }

// Contains reports whether port lies in the range.
func (p PortRange) Contains(port uint16) bool { return port >= p.Lo && port <= p.Hi }

func (p PortRange) String() string {
	if p.Lo == p.Hi {
		return strconv.Itoa(int(p.Lo))
	}
	return fmt.Sprintf("%d-%d", p.Lo, p.Hi)
}

// MarshalJSON writes [lo, hi].
func (p PortRange) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]uint16{p.Lo, p.Hi})
}

// UnmarshalJSON reads [lo, hi] or "lo-hi".
func (p *PortRange) UnmarshalJSON(b []byte) error {
	var pair [2]uint16
	if err := json.Unmarshal(b, &pair); err == nil {
		if pair[0] > pair[1] {
			return fmt.Errorf("port range [%d, %d] is reversed", pair[0], pair[1])
		}
		*p = PortRange{Lo: pair[0], Hi: pair[1]}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("port range must be [lo, hi] or \"lo-hi\": %s", b)
	}
	r, err := ParsePortRange(s)
	if err != nil {
		return err
	}
	*p = r
	return nil
}

// ParsePortRange reads "80", "8000-8010" or "8000:8010" (both forms appear
// in fw4 configurations).
func ParsePortRange(s string) (PortRange, error) {
	s = strings.TrimSpace(s)
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		lo, hi, found = strings.Cut(s, ":")
	}
	if !found {
		hi = lo
	}
	l, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	h, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
	if err1 != nil || err2 != nil {
		return PortRange{}, fmt.Errorf("%q is not a port or port range", s)
	}
	if l > h {
		return PortRange{}, fmt.Errorf("port range %q is reversed", s)
	}
	return PortRange{Lo: uint16(l), Hi: uint16(h)}, nil
}

// State is what `mapehelper up` records about one interface it set up. The
// keys from "isp" to "ports" are the calculator's JSON; the others describe
// the kernel objects and the outcome of the last setup.
type State struct {
	Interface string      `json:"interface"`
	State     string      `json:"state"` // "up", "down", "error", "setting-up"
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
	PortSets  []PortRange `json:"port_sets"`
	Ports     int         `json:"ports"`
	Tunnel    string      `json:"tunnel"`     // tunnel device, e.g. map-wan_mape
	Zone      string      `json:"zone"`       // firewall zone, "wan" when empty
	NFTTable  string      `json:"nft_table"`  // family and table of our rules, e.g. "inet mapehelper"
	NFTChains []string    `json:"nft_chains"` // chains of NFTTable that must hold rules; empty: any
	Error     string      `json:"error"`      // last error of up/down, "" when fine
	ErrorCode string      `json:"error_code"`
	Updated   string      `json:"updated"` // RFC 3339 time of the last write
	Link      string      `json:"link"`    // Linux device carrying the tunnel
	MTU       int         `json:"mtu"`
}

// Source lists the interfaces that `mapehelper up` has set up.
type Source interface {
	Interfaces() ([]State, error)
}

// DirSource reads every *.json state file in a directory. A missing
// directory means no interface has been set up yet, which is not an error.
type DirSource struct{ Dir string }

// maxStateFile bounds what we read from a state file: they are a few
// hundred bytes, anything huge is not ours.
const maxStateFile = 1 << 20

// Interfaces returns the states sorted by interface name. A file that
// cannot be parsed yields a State in state "error" naming the problem, so
// one bad file never hides the others.
func (d DirSource) Interfaces() ([]State, error) {
	paths, err := filepath.Glob(filepath.Join(d.Dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list state files: %w", err)
	}
	var out []State
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		st, err := readState(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by `down` while we listed
		}
		if err != nil {
			st = State{State: "error", Error: err.Error()}
		}
		if st.Interface == "" {
			st.Interface = name
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Interface < out[j].Interface })
	return out, nil
}

func readState(path string) (State, error) {
	f, err := os.Open(path)
	if err != nil {
		return State{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return State{}, fmt.Errorf("stat %s: %w", path, err)
	}
	if info.Size() > maxStateFile {
		return State{}, fmt.Errorf("state file %s is %d bytes, larger than %d", path, info.Size(), maxStateFile)
	}
	var st State
	if err := json.NewDecoder(f).Decode(&st); err != nil {
		return State{}, fmt.Errorf("parse state file %s: %w", path, err)
	}
	return st, nil
}
