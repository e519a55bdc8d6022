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
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/state"
)

// DefaultStateDir is where `mapehelper up` records each interface it set
// up, one <interface>.json file per interface (see package state).
const DefaultStateDir = state.DefaultDir

// PortRange is mapcalc.PortRange, the project's one port-range type (an
// alias, not a copy): its JSON form in the report is the calculator's
// [lo, hi] pair.
type PortRange = mapcalc.PortRange

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
