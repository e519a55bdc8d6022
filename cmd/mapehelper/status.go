package main

import (
	"encoding/json"

	"github.com/mapehelper/mapehelper/status"
)

// runStatus implements `mapehelper status [--json]`.
func runStatus(e *env, args []string) error {
	fs := e.newFlagSet("status", "Usage: mapehelper status [--json] [--interface NAME]\n\nShows every MAP interface: rule, addresses, port sets, ports in use per set,\ntunnel and nftables rules present, port forwards that can never work,\nfree external ports for a new forward, ports per LAN host, NAT pressure.")
	asJSON := fs.Bool("json", false, "print JSON (the same document as `ubus call mape status`)")
	iface := fs.String("interface", "", "show only this interface")
	stateDir := fs.String("state-dir", status.DefaultStateDir, "directory of the state files `mapehelper up` writes")
	firewall := fs.String("firewall", status.DefaultFirewallConfig, "UCI firewall file whose port forwards (redirects) are checked")
	leases := fs.String("upnp-leases", status.DefaultUPnPLeases, "miniupnpd lease file: its ports are not suggested as free")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	rep, err := collectStatus(*stateDir, *firewall, *leases, *iface)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return status.WriteText(e.stdout, rep)
}

// collectStatus gathers the report from the state files, the firewall's
// redirects, miniupnpd's leases and the running kernel, keeping only
// iface when it is not empty.
func collectStatus(stateDir, firewall, leases, iface string) (status.Report, error) {
	flows, probe := status.Kernel()
	c := status.Collector{
		States:    status.DirSource{Dir: stateDir},
		Flows:     flows,
		Probe:     probe,
		Redirects: status.FirewallFile{Path: firewall},
		Pressure:  status.KernelPressure(),
		UPnP:      status.UPnPLeaseFile{Path: leases},
	}
	rep, err := c.Collect()
	if err != nil {
		return rep, err
	}
	if iface != "" {
		kept := rep.Interfaces[:0]
		for _, it := range rep.Interfaces {
			if it.Interface == iface {
				kept = append(kept, it)
			}
		}
		rep.Interfaces = kept
	}
	return rep, nil
}
