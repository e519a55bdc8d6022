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
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mapehelper/mapehelper/state"
)

// DefaultStateDir is where `mapehelper up` records each interface it set
// up, one <interface>.json file per interface (see package state).
const DefaultStateDir = state.DefaultDir

// PortRange is one contiguous range of ports, both ends included. In the
// report's JSON it is a [lo, hi] pair, the form the calculator writes;
// "lo-hi" strings are accepted too.
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

// Source lists the interfaces that `mapehelper up` has set up, as the
// records up wrote (package state: the one type writer and readers share).
type Source interface {
	Interfaces() ([]state.Record, error)
}

// DirSource reads every *.json state file in a directory. A missing
// directory means no interface has been set up yet, which is not an error.
type DirSource struct{ Dir string }

// Interfaces returns the records sorted by interface name. A file that
// cannot be parsed yields a record in state "error" naming the problem, so
// one bad file never hides the others.
func (d DirSource) Interfaces() ([]state.Record, error) {
	paths, err := filepath.Glob(filepath.Join(d.Dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list state files: %w", err)
	}
	var out []state.Record
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		rec, err := state.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by `down` while we listed
		}
		if err != nil {
			rec = &state.Record{State: state.Failed, Error: err.Error()}
		}
		st := *rec
		if st.Interface == "" {
			st.Interface = name
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Interface < out[j].Interface })
	return out, nil
}
