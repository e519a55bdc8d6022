package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
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
// Calling it again (the same or a new IPv4) leaves exactly these two
// filters: the clsact qdisc is deleted (with every filter on it) and added
// anew. Up calls it with our table already loaded, whose guard chain
// covers the moment in between.
func guard(h *netlink.Handle, dev string, ipv4 netip.Addr) error {
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
	v4 := ipv4.As4()
	allow := &netlink.U32{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: idx, Parent: netlink.HANDLE_MIN_EGRESS, Priority: 1,
			Protocol: unix.ETH_P_IP},
		// The IPv4 header's source address: offset 12 from the network
		// header (an ip6tnl device has no link-layer header).
		Sel: &netlink.TcU32Sel{Flags: netlink.TC_U32_TERMINAL, Nkeys: 1,
			Keys: []netlink.TcU32Key{{Mask: 0xffffffff, Val: binary.BigEndian.Uint32(v4[:]), Off: 12}}},
		Actions: []netlink.Action{&netlink.GenericAction{ActionAttrs: netlink.ActionAttrs{Action: netlink.TC_ACT_OK}}},
	}
	drop := &netlink.U32{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: idx, Parent: netlink.HANDLE_MIN_EGRESS, Priority: 2,
			Protocol: unix.ETH_P_ALL},
		// nil Sel: match every packet.
		Actions: []netlink.Action{&netlink.GenericAction{ActionAttrs: netlink.ActionAttrs{Action: netlink.TC_ACT_SHOT}}},
	}
	// The allowing filter first: between the two calls a packet of ours
	// must never meet the dropping one alone.
	for _, f := range []*netlink.U32{allow, drop} {
		if err := h.FilterAdd(f); err != nil {
			return fmt.Errorf("tunnel guard: tc filter on %s: %w", dev, err)
		}
	}
	return nil
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
