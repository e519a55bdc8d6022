// Package upnp keeps miniupnpd (UPnP IGD, NAT-PMP and PCP, the daemon
// OpenWrt users run as the `miniupnpd` package) inside the ports a MAP-E
// line really receives. Without it miniupnpd grants any external port a
// LAN host asks for (port 80, 3074, …) and announces whatever address it
// finds on its external interface: the BR never sends us a port outside
// our port sets, so such a mapping can never be reached.
//
// The mechanism is miniupnpd's own permission list, nothing else: Conf
// turns the record `mapehelper up` keeps (package state) into
// miniupnpd.conf lines
//
//	ext_ifname=<our tunnel>
//	ext_ip=<the shared IPv4>
//	allow <set lo-hi> 0.0.0.0/0 1024-65535   (one per port set)
//	deny 0-65535 0.0.0.0/0 0-65535
//
// miniupnpd checks every request against these lines, first match wins,
// before it installs a mapping: UPnP AddPortMapping outside the sets is
// refused, and NAT-PMP/PCP (which may move a mapping) search upwards for
// the next allowed port, so they land inside a set. Its DNAT then works
// with our SNAT as any fw4 redirect does (conntrack undoes the DNAT on the
// replies, so they leave from the granted in-set port; our SNAT rules only
// see new outbound flows).
//
// Why this and not more: the permission list is the one interface
// miniupnpd offers for "which external ports may be granted", it works
// unchanged for the three protocols, and it needs no change to
// miniupnpd, to its nftables chains or to our rules. We do not rewrite the
// user's /etc/config/upnpd: it is on flash, it is the user's (LuCI edits
// it too), and its perm_rule sections come after the presets' own
// "allow 1024-65535 <lan> 1024-65535" in newer OpenWrt releases, so they
// would not even be consulted first. The lines are printed by `mapehelper
// upnp` for a config file the user points miniupnpd at (docs/upnp.md).
//
// The internal port range 1024-65535 is the range OpenWrt's default
// preset (accept-high-ports) allows: a LAN host may not map a privileged
// internal port through UPnP.
package upnp

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/mapehelper/mapehelper/state"
)

// Conf returns the miniupnpd.conf lines for the interface rec records: a
// comment naming it, ext_ifname, ext_ip, one allow line per port set and
// the final deny. It fails for an interface that is not up or whose
// record lacks what the lines need, so a hook never hands miniupnpd a
// config without its deny line.
func Conf(rec *state.Record) ([]string, error) {
	if !rec.IsUp() {
		st := rec.State
		if st == "" {
			st = "unknown"
		}
		return nil, fmt.Errorf("interface %s is not up (state %s); fix: ifup %s first", rec.Interface, st, rec.Interface)
	}
	ip, err := netip.ParseAddr(rec.IPv4)
	if err != nil || !ip.Is4() {
		return nil, fmt.Errorf("interface %s: state has no IPv4 address (%q); fix: ifup %s again", rec.Interface, rec.IPv4, rec.Interface)
	}
	if rec.Tunnel == "" {
		return nil, fmt.Errorf("interface %s: state names no tunnel device; fix: ifup %s again", rec.Interface, rec.Interface)
	}
	if len(rec.PortSets) == 0 {
		return nil, fmt.Errorf("interface %s: state has no port sets; fix: ifup %s again", rec.Interface, rec.Interface)
	}
	ports := 0
	for _, p := range rec.PortSets {
		ports += p.Len()
	}
	lines := []string{
		fmt.Sprintf("# mapehelper upnp: interface %s, PSID %d, %d ports in %d sets", rec.Interface, rec.PSID, ports, len(rec.PortSets)),
		"ext_ifname=" + rec.Tunnel,
		"ext_ip=" + ip.String(),
	}
	for _, p := range rec.PortSets {
		lines = append(lines, fmt.Sprintf("allow %s 0.0.0.0/0 1024-65535", p.Span()))
	}
	return append(lines, "deny 0-65535 0.0.0.0/0 0-65535"), nil
}

// Write prints Conf's lines, one per line.
func Write(w io.Writer, rec *state.Record) error {
	lines, err := Conf(rec)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}
