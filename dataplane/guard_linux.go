package dataplane

import (
	"errors"
	"fmt"
	"net/netip"

	mdnetlink "github.com/mdlayher/netlink"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// guard makes tunnel dev drop every IPv4 packet it would send whose source
// is not ipv4, with two tc filters on the device's clsact egress: u32 "ip
// src ipv4/32 → ok" (priority 1), then "anything → drop" (priority 2).
//
// Why tc and not only the guard chain of our table (firewall4): `fw4
// flush` deletes every nftables table of every family, ours included (see
// docs/dataplane.md), and until the next `fw4 start` loads our include
// nothing would translate or stop a LAN packet routed into the tunnel: it
// would leave with its private source. tc filters belong to the device:
// nothing in nftables removes them, and they go with the tunnel when down
// deletes it. The egress qdisc runs after netfilter's postrouting hook, so
// translated packets (source ipv4) pass. Kernel: sch_ingress (clsact),
// cls_u32 and act_gact (OpenWrt: kmod-sched-core).
//
// h and netns (a namespace file descriptor; 0: the current namespace)
// must reach the same network namespace.
//
// Calling it again (the same or a new IPv4) leaves exactly these two
// filters: the clsact qdisc is deleted (with every filter on it) and added
// anew. Up calls it with our table already loaded, whose guard chain
// covers the moment in between.
func guard(h *netlink.Handle, netns int, dev string, ipv4 netip.Addr) error {
	if !ipv4.Is4() {
		return fmt.Errorf("tunnel guard: %v is not an IPv4 address", ipv4)
	}
	l, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("tunnel guard: %s: %w", dev, err)
	}
	idx := l.Attrs().Index
	q := &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: idx, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}}
	if err := h.QdiscDel(q); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("tunnel guard: clsact qdisc on %s: %w", dev, err)
	}
	if err := h.QdiscAdd(q); err != nil {
		return fmt.Errorf("tunnel guard: clsact qdisc on %s: %w", dev, err)
	}
	// The IPv4 header's source address: offset 12 from the network header
	// (an ip6tnl device has no link-layer header); key bytes in network
	// order, as the kernel compares them.
	v4 := ipv4.As4()
	src := nl.TcU32Key{Mask: 0xffffffff, Val: nl.NativeEndian().Uint32(v4[:]), Off: 12}
	c, err := mdnetlink.Dial(unix.NETLINK_ROUTE, &mdnetlink.Config{NetNS: netns})
	if err != nil {
		return fmt.Errorf("tunnel guard: rtnetlink: %w", err)
	}
	defer c.Close()
	// The allowing filter first: between the two calls a packet of ours
	// must never meet the dropping one alone.
	if err := addGuardFilter(c, idx, 1, unix.ETH_P_IP, src, netlink.TC_ACT_OK); err != nil {
		return fmt.Errorf("tunnel guard: tc filter on %s: %w", dev, err)
	}
	if err := addGuardFilter(c, idx, 2, unix.ETH_P_ALL, nl.TcU32Key{}, netlink.TC_ACT_SHOT); err != nil {
		return fmt.Errorf("tunnel guard: tc filter on %s: %w", dev, err)
	}
	return nil
}

// addGuardFilter adds, on the clsact egress of device idx, the u32 filter
// `prio P protocol PROTO u32 match KEY action ACT` (a zero key matches every
// packet), as tc(8) would send it.
//
// Written by hand on top of netlink's nl types because the library's
// FilterAdd links the encoders of every filter and action kind it knows
// (flower, pedit, police, bpf, …): 65 KB of the mipsel binary, which put it
// over its 4 MiB budget (docs/arches.md).
func addGuardFilter(c *mdnetlink.Conn, idx int, prio uint16, proto int, key nl.TcU32Key, act netlink.TcAct) error {
	msg := nl.TcMsg{Family: nl.FAMILY_ALL, Ifindex: int32(idx), Parent: netlink.HANDLE_MIN_EGRESS,
		Info: netlink.MakeHandle(prio, nl.Swap16(uint16(proto)))}
	sel := nl.TcU32Sel{Flags: nl.TC_U32_TERMINAL, Nkeys: 1, Keys: []nl.TcU32Key{key}}
	options := nl.NewRtAttr(nl.TCA_OPTIONS, nil)
	options.AddRtAttr(nl.TCA_U32_SEL, sel.Serialize())
	gact := options.AddRtAttr(nl.TCA_U32_ACT, nil).AddRtAttr(nl.TCA_ACT_TAB, nil)
	gact.AddRtAttr(nl.TCA_ACT_KIND, nl.ZeroTerminated("gact"))
	gen := nl.TcGen{Action: int32(act)}
	gact.AddRtAttr(nl.TCA_ACT_OPTIONS, nil).AddRtAttr(nl.TCA_GACT_PARMS, gen.Serialize())
	data := append([]byte(nil), msg.Serialize()...)
	data = append(data, nl.NewRtAttr(nl.TCA_KIND, nl.ZeroTerminated("u32")).Serialize()...)
	data = append(data, options.Serialize()...)
	_, err := c.Execute(mdnetlink.Message{
		Header: mdnetlink.Header{Type: unix.RTM_NEWTFILTER,
			Flags: mdnetlink.Request | mdnetlink.Acknowledge | mdnetlink.Create | mdnetlink.Excl},
		Data: data,
	})
	return err
}

// guardHint adds the package to install when the kernel lacks tc support.
func guardHint(err error) error {
	if guardCode(err) == CodeNoKernelSupport {
		return fmt.Errorf("%w (kernel lacks tc clsact, u32 or gact: install kmod-sched-core)", err)
	}
	return err
}

// guardCode classifies an error of guard: a kernel without clsact, u32 or
// gact answers ENOENT or EOPNOTSUPP (the module is missing).
func guardCode(err error) string {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return CodeNoPermission
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EINVAL):
		return CodeNoKernelSupport
	}
	return CodeTunnelFailed
}
