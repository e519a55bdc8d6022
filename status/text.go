package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mapehelper/mapehelper/state"
)

// WriteText prints the report for a terminal: one block per interface,
// then a table of port sets with the ports in use in each.
func WriteText(w io.Writer, rep Report) error {
	if len(rep.Interfaces) == 0 {
		_, err := fmt.Fprintln(w, "no MAP interface is set up (nothing in "+DefaultStateDir+")")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, it := range rep.Interfaces {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		writeOne(tw, it)
	}
	return tw.Flush()
}

// yesNo reads a kernel check: nil is a check that could not be made.
func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "unknown"
	case *b:
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeOne(w io.Writer, it Interface) {
	isp := it.ISP
	if isp == "" {
		isp = "explicit rule"
	}
	fmt.Fprintf(w, "interface\t%s\n", it.Interface)
	fmt.Fprintf(w, "state\t%s\n", orDash(it.State))
	fmt.Fprintf(w, "isp\t%s\n", isp)
	fmt.Fprintf(w, "rule\t%s -> %s ealen %d psidlen %d offset %d%s\n", orDash(it.Rule.IP6Prefix),
		orDash(it.Rule.IP4Prefix), it.Rule.EALen, it.Rule.PSIDLen, it.Rule.Offset, map[bool]string{true: " legacy"}[it.Rule.Legacy])
	fmt.Fprintf(w, "br\t%s\n", orDash(it.BR))
	fmt.Fprintf(w, "ce\t%s\n", orDash(it.CE))
	fmt.Fprintf(w, "ipv4\t%s\n", orDash(it.IPv4))
	fmt.Fprintf(w, "psid\t%d\n", it.PSID)
	fmt.Fprintf(w, "tunnel\t%s (up: %s) over %s, mtu %d\n", orDash(it.Tunnel), yesNo(it.TunnelUp), orDash(it.Link), it.MTU)
	fmt.Fprintf(w, "nft rules\t%s\n", yesNo(it.NFTRules))
	up := it.State == state.Up
	switch {
	case !up:
		fmt.Fprintf(w, "ports\t%d in %d sets; in use: - (not up)\n", it.Ports, len(it.PortSets))
	case it.InUse == nil:
		fmt.Fprintf(w, "ports\t%d in %d sets; in use: unknown\n", it.Ports, len(it.PortSets))
	default:
		tcp, udp := it.InUse.InUse()
		fmt.Fprintf(w, "ports\t%d in %d sets; in use: tcp %d, udp %d; icmp flows %d\n",
			it.Ports, len(it.PortSets), tcp, udp, it.InUse.ICMPFlows)
	}
	if up {
		writeRanges(w, "usable external ports", it.UsableExternalPorts)
	} else {
		fmt.Fprintf(w, "usable external ports\t- (not up)\n")
	}
	switch {
	case !up:
	case it.FreePorts == nil:
		fmt.Fprintf(w, "free external ports\tunknown\n")
	default:
		try := make([]string, len(it.FreePorts.Suggestions))
		for i, p := range it.FreePorts.Suggestions {
			try[i] = fmt.Sprint(p)
		}
		fmt.Fprintf(w, "free external ports\t%d of %d; try %s\n", it.FreePorts.Total, it.Ports, orDash(strings.Join(try, " ")))
	}
	if it.LANHosts != nil {
		for _, h := range it.LANHosts.Top {
			self := ""
			if h.Address == it.IPv4 {
				self = " (this router)"
			}
			fmt.Fprintf(w, "ports of LAN host\t%s%s: tcp %d, udp %d (%d flows)\n", h.Address, self, h.TCP, h.UDP, h.Flows)
		}
		if n := it.LANHosts.Total - len(it.LANHosts.Top); n > 0 {
			fmt.Fprintf(w, "ports of LAN host\t… and %d more hosts\n", n)
		}
	}
	if p := it.NATPressure; p != nil {
		fmt.Fprintf(w, "conntrack\t%d of %d entries; insert_failed %d, drop %d, early_drop %d\n",
			p.Count, p.Max, p.InsertFailed, p.Drop, p.EarlyDrop)
	} else {
		fmt.Fprintf(w, "conntrack\tunknown\n")
	}
	fmt.Fprintf(w, "updated\t%s\n", orDash(it.Updated))
	fmt.Fprintf(w, "last error\t%s\n", orDash(strings.TrimSpace(it.LastError+" "+bracket(it.ErrorCode))))
	for _, p := range it.Problems {
		fmt.Fprintf(w, "not checked\t%s\n", p)
	}
	if it.InUse != nil && len(it.InUse.Sets) > 0 {
		fmt.Fprintf(w, "\tport set\ttcp\tudp\tfree\n")
		for i, s := range it.InUse.Sets {
			free := "-"
			if it.FreePorts != nil && i < len(it.FreePorts.Sets) {
				free = fmt.Sprint(it.FreePorts.Sets[i].Free)
			}
			fmt.Fprintf(w, "\t%s\t%d\t%d\t%s\n", s.Set, s.TCP, s.UDP, free)
		}
		if o := it.InUse.Outside; o.TCP+o.UDP > 0 {
			fmt.Fprintf(w, "\toutside sets!\t%d\t%d\n", o.TCP, o.UDP)
		}
	}
	for _, r := range it.Redirects {
		name := r.Name
		if name == "" {
			name = "(unnamed)"
		}
		fmt.Fprintf(w, "port forward\t%s: %s %s -> %s:%s: %s: %s\n", name, orDash(r.Proto), orDash(r.SrcDPort),
			orDash(r.DestIP), orDash(r.DestPort), r.Verdict, r.Message)
	}
}

func bracket(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// writeRanges lists port ranges six to a line, the label on the first.
func writeRanges(w io.Writer, label string, rs []PortRange) {
	if len(rs) == 0 {
		fmt.Fprintf(w, "%s\t-\n", label)
		return
	}
	const perLine = 6
	for i := 0; i < len(rs); i += perLine {
		parts := make([]string, 0, perLine)
		for _, r := range rs[i:min(i+perLine, len(rs))] {
			parts = append(parts, r.String())
		}
		fmt.Fprintf(w, "%s\t%s\n", label, strings.Join(parts, " "))
		label = ""
	}
}
