package main

import (
	"fmt"
	"strings"

	"github.com/mapehelper/mapehelper/state"
	"github.com/mapehelper/mapehelper/status"
	"github.com/mapehelper/mapehelper/upnp"
)

// runUPnP implements `mapehelper upnp [--interface NAME]`: the
// miniupnpd.conf lines that keep miniupnpd inside our port sets (package
// upnp says why these lines). It reads only the state file `up` wrote, so
// it is cheap enough for a hook that runs on every ifup.
func runUPnP(e *env, args []string) error {
	fs := e.newFlagSet("upnp", "Usage: mapehelper upnp [--interface NAME]\n\nPrints the miniupnpd.conf lines (ext_ifname, ext_ip, one allow line per\nport set, a final deny) that make miniupnpd grant only external ports the\nISP delivers to this line. See docs/upnp.md.")
	iface := fs.String("interface", "", "the MAP interface (default: the only one that is up)")
	stateDir := fs.String("state-dir", state.DefaultDir, "directory of the state files `mapehelper up` writes")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	rec, err := upnpRecord(*stateDir, *iface)
	if err != nil {
		return err
	}
	return upnp.Write(e.stdout, rec)
}

// upnpRecord is the record of iface, or without a name the one interface
// that is up: miniupnpd has one external interface, so a choice between
// several is the user's.
func upnpRecord(dir, iface string) (*state.Record, error) {
	if iface != "" {
		rec, err := state.Read(dir, iface)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, fmt.Errorf("interface %s has no state in %s; fix: ifup %s first, or give --state-dir", iface, dir, iface)
		}
		return rec, nil
	}
	recs, err := status.DirSource{Dir: dir}.Interfaces()
	if err != nil {
		return nil, err
	}
	var up []state.Record
	var names []string
	for _, r := range recs {
		if r.IsUp() {
			up = append(up, r)
			names = append(names, r.Interface)
		}
	}
	switch len(up) {
	case 0:
		return nil, fmt.Errorf("no MAP interface is up (state files in %s); fix: ifup the MAP interface first", dir)
	case 1:
		return &up[0], nil
	}
	return nil, usagef("%d MAP interfaces are up (%s): choose one with --interface", len(up), strings.Join(names, ", "))
}
