//go:build linux

package status

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// NetlinkFlows reads the IPv4 conntrack table through netlink
// (the `conntrack -L -f ipv4` equivalent).
type NetlinkFlows struct{}

// Flows lists every IPv4 conntrack entry's reply tuple and the
// addresses of its original one.
func (NetlinkFlows) Flows() ([]Flow, error) {
	list, err := netlink.ConntrackTableList(netlink.ConntrackTable, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list conntrack table: %w", err)
	}
	out := make([]Flow, 0, len(list))
	for _, f := range list {
		dst, ok := netip.AddrFromSlice(f.Reverse.DstIP)
		if !ok {
			continue
		}
		osrc, _ := netip.AddrFromSlice(f.Forward.SrcIP)
		odst, _ := netip.AddrFromSlice(f.Forward.DstIP)
		out = append(out, Flow{Proto: f.Reverse.Protocol, ReplyDst: dst.Unmap(), ReplyDstPort: f.Reverse.DstPort,
			OrigSrc: osrc.Unmap(), OrigDst: odst.Unmap(), OrigDstPort: f.Forward.DstPort})
	}
	return out, nil
}
