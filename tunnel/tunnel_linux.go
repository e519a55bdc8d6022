package tunnel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Ensure makes the kernel match c: CE /128 on the link device, the ip6tnl
// device (created, or changed in place when an endpoint, the link, TTL or
// encapsulation limit differ), its MTU, up state, the IPv4 /32 (other IPv4
// addresses on our tunnel are removed) and the default route. h selects the
// network namespace (nil handle methods use the current one).
//
// Every netlink round trip costs about a millisecond on a small router (and
// in the emulated VM), so the common case, a new tunnel, takes as few as
// the checks allow: the device is created with its MTU and up in one
// message, the link device is looked up once, and a new device's IPv4
// addresses are not listed (it has none).
func Ensure(h *netlink.Handle, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	link, err := h.LinkByName(c.Link)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return fmt.Errorf("%w: %s (fix: set tunlink to the interface that has the IPv6 uplink)", ErrNoLink, c.Link)
		}
		return fmt.Errorf("find link device %s: %w", c.Link, classify(err))
	}
	if err := ensureCE(h, link, c.Local); err != nil {
		return err
	}
	tun, created, err := ensureDevice(h, c, link.Attrs().Index)
	if err != nil {
		return err
	}
	if c.IPv4.IsValid() {
		if err := ensureIPv4(h, tun, c.IPv4, !created); err != nil {
			return err
		}
	}
	if c.Route {
		r := &netlink.Route{LinkIndex: tun.Attrs().Index, Family: unix.AF_INET, Scope: netlink.SCOPE_LINK,
			Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, Src: c.IPv4.AsSlice()}
		if err := h.RouteReplace(r); err != nil {
			return fmt.Errorf("default route via %s: %w", c.Name, classify(err))
		}
	}
	return nil
}

// EnsureCE puts the CE address on the link device as a /128 without DAD
// (a tentative address cannot source tunnel packets for a second or more).
func EnsureCE(h *netlink.Handle, linkName string, ce netip.Addr) error {
	link, err := h.LinkByName(linkName)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrNoLink, linkName)
	}
	return ensureCE(h, link, ce)
}

func ensureCE(h *netlink.Handle, link netlink.Link, ce netip.Addr) error {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: ce.AsSlice(), Mask: net.CIDRMask(128, 128)}, Flags: unix.IFA_F_NODAD}
	if err := h.AddrReplace(link, a); err != nil {
		return fmt.Errorf("add CE address %v/128 to %s: %w", ce, link.Attrs().Name, classify(err))
	}
	return nil
}

// RemoveCE deletes the CE /128 from the link device; a missing device or
// address is not an error (down must work after a partial up).
func RemoveCE(h *netlink.Handle, linkName string, ce netip.Addr) error {
	link, err := h.LinkByName(linkName)
	if err != nil {
		return nil
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: ce.AsSlice(), Mask: net.CIDRMask(128, 128)}}
	if err := h.AddrDel(link, a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove CE address %v from %s: %w", ce, linkName, classify(err))
	}
	return nil
}

// Remove deletes our tunnel device (its addresses and routes go with it).
// A missing device is not an error; a device of that name that is not an
// ip6tnl is left alone and reported.
func Remove(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("find tunnel %s: %w", name, classify(err))
	}
	if _, ok := l.(*netlink.Ip6tnl); !ok {
		return fmt.Errorf("%w: %s is %s", ErrNotIP6Tnl, name, l.Type())
	}
	if err := h.LinkDel(l); err != nil {
		return fmt.Errorf("delete tunnel %s: %w", name, classify(err))
	}
	return nil
}

// alias is the owner mark of c's device, "" when c names no owner.
func alias(c Config) string {
	if c.Owner == "" {
		return ""
	}
	return OwnerAlias(c.Owner)
}

// Lookup reports the ip6tnl device name: nil when there is none (or the
// name is another kind of device, which Remove and Ensure refuse).
func Lookup(h *netlink.Handle, name string) (*Info, error) {
	l, err := h.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find tunnel %s: %w", name, classify(err))
	}
	t, ok := l.(*netlink.Ip6tnl)
	if !ok {
		return nil, nil
	}
	in := &Info{Name: name, Owner: OwnerOf(t.Alias)}
	if a, ok := netip.AddrFromSlice(t.Local); ok {
		in.Local = a
	}
	if t.ParentIndex != 0 { // see same: the kernel reports IFLA_IPTUN_LINK as IFLA_LINK
		if p, err := h.LinkByIndex(t.ParentIndex); err == nil {
			in.Link = p.Attrs().Name
		}
	}
	return in, nil
}

// want is the device c asks for, up (so creating it needs no second
// message to set it up).
func want(c Config, linkIndex int) *netlink.Ip6tnl {
	t := &netlink.Ip6tnl{
		LinkAttrs: netlink.LinkAttrs{Name: c.Name, MTU: c.MTU, Flags: net.FlagUp, Alias: alias(c)},
		Link:      uint32(linkIndex),
		Local:     c.Local.AsSlice(),
		Remote:    c.Remote.AsSlice(),
		Ttl:       uint8(c.TTL),
		Proto:     unix.IPPROTO_IPIP, // mode ip4ip6
	}
	if c.EncapLimit == EncapIgnore {
		t.Flags = uint32(netlink.IP6_TNL_F_IGN_ENCAP_LIMIT)
	} else {
		t.EncapLimit = uint8(c.EncapLimit)
	}
	return t
}

// same reports whether the existing device already has what w asks for.
func same(have, w *netlink.Ip6tnl) bool {
	const ign = uint32(netlink.IP6_TNL_F_IGN_ENCAP_LIMIT)
	// netlink v1.3.1 does not parse IFLA_IPTUN_LINK back; the kernel
	// reports the same index as the device's IFLA_LINK (ParentIndex).
	if uint32(have.ParentIndex) != w.Link || !have.Local.Equal(w.Local) || !have.Remote.Equal(w.Remote) ||
		have.Ttl != w.Ttl || have.Proto != w.Proto || have.Flags&ign != w.Flags&ign {
		return false
	}
	return w.Flags&ign != 0 || have.EncapLimit == w.EncapLimit
}

// ensureDevice makes the tunnel device match c and reports whether it
// created it.
func ensureDevice(h *netlink.Handle, c Config, linkIndex int) (l netlink.Link, created bool, err error) {
	w := want(c, linkIndex)
	cur, err := h.LinkByName(c.Name)
	var nf netlink.LinkNotFoundError
	switch {
	case errors.As(err, &nf):
		if err := h.LinkAdd(w); err != nil {
			if errors.Is(err, unix.ENODEV) { // some kernels answer an unknown kind so
				err = fmt.Errorf("%w: %w", ErrNoKernelSupport, err)
			}
			return nil, false, fmt.Errorf("create tunnel %s: %w", c.Name, classify(err))
		}
		created = true
	case err != nil:
		return nil, false, fmt.Errorf("find tunnel %s: %w", c.Name, classify(err))
	default:
		have, ok := cur.(*netlink.Ip6tnl)
		if !ok {
			return nil, false, fmt.Errorf("%w: %s is %s (fix: remove it or rename the interface)", ErrNotIP6Tnl, c.Name, cur.Type())
		}
		if o := OwnerOf(have.Alias); o != "" && c.Owner != "" && o != c.Owner {
			return nil, false, fmt.Errorf("%w: %s is the tunnel of interface %s (fix: rename interface %s, or remove %s if %s is gone)",
				ErrOwnedByOther, c.Name, o, c.Owner, c.Name, o)
		}
		if !same(have, w) {
			if err := h.LinkModify(w); err != nil {
				return nil, false, fmt.Errorf("update tunnel %s: %w", c.Name, classify(err))
			}
		}
	}
	// Read back: the kernel may ignore attributes it does not know.
	l, err = h.LinkByName(c.Name)
	if err != nil {
		return nil, false, fmt.Errorf("find tunnel %s after creating it: %w", c.Name, classify(err))
	}
	if have, ok := l.(*netlink.Ip6tnl); !ok || !same(have, w) {
		return nil, false, fmt.Errorf("tunnel %s does not have the requested parameters after update (have %+v)", c.Name, l)
	}
	if a := alias(c); a != "" && l.Attrs().Alias != a { // a device of the previous version: mark it
		if err := h.LinkSetAlias(l, a); err != nil {
			return nil, false, fmt.Errorf("mark %s as %s's: %w", c.Name, c.Owner, classify(err))
		}
	}
	if l.Attrs().MTU != c.MTU {
		if err := h.LinkSetMTU(l, c.MTU); err != nil {
			return nil, false, fmt.Errorf("set mtu %d on %s: %w", c.MTU, c.Name, classify(err))
		}
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		if err := h.LinkSetUp(l); err != nil {
			return nil, false, fmt.Errorf("set %s up: %w", c.Name, classify(err))
		}
	}
	return l, created, nil
}

// ensureIPv4 leaves exactly addr/32 as the tunnel's IPv4 address; others
// are looked for only when the device existed before (stale says so).
func ensureIPv4(h *netlink.Handle, tun netlink.Link, addr netip.Addr, stale bool) error {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(32, 32)}}
	if err := h.AddrReplace(tun, a); err != nil {
		return fmt.Errorf("add %v/32 to %s: %w", addr, tun.Attrs().Name, classify(err))
	}
	if !stale {
		return nil
	}
	have, err := h.AddrList(tun, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", tun.Attrs().Name, classify(err))
	}
	for _, o := range have {
		if ip, ok := netip.AddrFromSlice(o.IP); ok && ip.Unmap() != addr {
			if err := h.AddrDel(tun, &o); err != nil {
				return fmt.Errorf("remove stale %v from %s: %w", o.IPNet, tun.Attrs().Name, classify(err))
			}
		}
	}
	return nil
}

// classify wraps kernel errors that have a clear cause in our error kinds
// (keeping the original for errors.Is).
func classify(err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%w: %w", ErrPermission, err)
	case errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("%w: %w", ErrNoKernelSupport, err)
	}
	return err
}
