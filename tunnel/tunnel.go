// Package tunnel creates, updates and removes the ip4ip6 tunnel of one MAP-E
// interface through rtnetlink: an ip6tnl device from the CE address to the
// BR over the link device, the CE /128 on the link device, the shared IPv4
// /32 on the tunnel and (outside netifd) the IPv4 default route through it.
//
// Every call is replace-style, so Ensure twice changes nothing the second
// time, and Ensure with new endpoints updates the device in place.
package tunnel

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strconv"
	"strings"
)

// Defaults of the Japanese IPoE services.
const (
	DefaultMTU = 1460
	DefaultTTL = 64
)

// EncapIgnore is the EncapLimit value meaning "send no encapsulation limit
// option" (ip -6 tunnel … encaplimit none). BRs of the Japanese services
// drop packets that carry the destination-options header, so it is the
// default.
const EncapIgnore = -1

// Error kinds, matched with errors.Is; package dataplane maps them to
// netifd error codes.
var (
	ErrNoLink          = errors.New("link device not found")
	ErrNotIP6Tnl       = errors.New("a device of that name exists and is not an ip6tnl tunnel")
	ErrNoKernelSupport = errors.New("the kernel cannot create ip6tnl devices (module ip6_tunnel missing)")
	ErrPermission      = errors.New("permission denied (need root or CAP_NET_ADMIN)")
	ErrOwnedByOther    = errors.New("the tunnel device belongs to another interface")
)

// Config describes the tunnel of one interface.
type Config struct {
	Name       string     // device name, see DeviceName
	Owner      string     // interface whose tunnel it is, kept in the device's alias (OwnerAlias); "" for none
	Link       string     // Linux device carrying IPv6 to the BR, e.g. "eth1"
	Local      netip.Addr // CE IPv6 address (also put on Link as /128)
	Remote     netip.Addr // BR IPv6 address
	EncapLimit int        // EncapIgnore or 0-255
	TTL        int        // hop limit of the outer header, 1-255
	MTU        int        // tunnel MTU, 1280-65535
	IPv4       netip.Addr // shared IPv4 put on the tunnel as /32; invalid: none
	Route      bool       // add the IPv4 default route via the tunnel
}

// DeviceName is the tunnel device of interface iface. The rule, which the
// LuCI page repeats in JavaScript (protocol/mape.js, tested against the
// same vectors, tunnel/testdata/names.json):
//
//   - "map-<iface>" when that fits the 15 bytes Linux allows (an interface
//     name of up to 11 characters), the stock map package's name, which
//     docs, firewall zones and users rely on;
//   - else "map-" + the first 5 characters + "-" + 5 hex digits of the
//     FNV-1a (32-bit) hash of the whole name, e.g. wan_mape_ocn1 →
//     map-wan_m-6443b. Cutting the name instead gave wan_mape_ocn1 and
//     wan_mape_ocn2 the same device, so the second up adopted the first's
//     tunnel and either down deleted it.
//
// 20 bits of hash leave two long names with the same first five characters
// a one-in-a-million chance to meet; that case, or a short name spelled
// like a hashed one, is caught when the device exists: every tunnel up
// makes carries its interface as owner (see OwnerAlias), and up refuses a
// device another interface owns.
func DeviceName(iface string) string {
	n := "map-" + iface
	if len(n) <= 15 {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(iface))
	return fmt.Sprintf("map-%s-%05x", iface[:5], h.Sum32()&0xfffff)
}

// ownerPrefix starts the alias (IFLA_IFALIAS, `ip link show` prints it as
// "alias mapehelper:IFACE") that marks a tunnel device as made by up for
// interface IFACE.
const ownerPrefix = "mapehelper:"

// OwnerAlias is the device alias that marks a tunnel as interface iface's.
func OwnerAlias(iface string) string { return ownerPrefix + iface }

// OwnerOf reads the interface out of a device alias; "" when the alias is
// not our mark (no alias: a device of the previous version, or not ours).
func OwnerOf(alias string) string {
	if o, ok := strings.CutPrefix(alias, ownerPrefix); ok {
		return o
	}
	return ""
}

// Info is what the kernel says about an existing tunnel device: enough to
// tell whose it is and to find the CE address it was made with, when the
// state file that recorded them is lost or damaged.
type Info struct {
	Name  string
	Owner string     // interface in the device's alias (OwnerOf), "" if unmarked
	Link  string     // name of the device it runs over, "" if gone
	Local netip.Addr // its local address: the CE address up put on Link
}

// ParseEncapLimit reads the encaplimit option: "" or "ignore" (also "none")
// mean EncapIgnore, otherwise a number 0-255.
func ParseEncapLimit(s string) (int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "ignore", "none":
		return EncapIgnore, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("encaplimit %q: use a number 0-255 or 'ignore'", s)
	}
	return n, nil
}

// Validate checks cfg before anything touches the kernel.
func (c Config) Validate() error {
	switch {
	case c.Name == "" || len(c.Name) > 15 || strings.ContainsAny(c.Name, "/ \t\n:"):
		return fmt.Errorf("tunnel name %q: must be 1-15 characters without '/', ':' or spaces", c.Name)
	case ValidLinkName(c.Link) != nil:
		return ValidLinkName(c.Link)
	case !c.Local.Is6() || c.Local.Is4In6():
		return fmt.Errorf("CE address %v is not IPv6", c.Local)
	case !c.Remote.Is6() || c.Remote.Is4In6():
		return fmt.Errorf("BR address %v is not IPv6 (fix: set peeraddr to the BR's IPv6 address)", c.Remote)
	case c.EncapLimit < EncapIgnore || c.EncapLimit > 255:
		return fmt.Errorf("encaplimit %d: use 0-255 or ignore", c.EncapLimit)
	case c.TTL < 1 || c.TTL > 255:
		return fmt.Errorf("ttl %d: use 1-255", c.TTL)
	case c.MTU < 1280 || c.MTU > 65535:
		return fmt.Errorf("mtu %d: use 1280-65535", c.MTU)
	case c.IPv4.IsValid() && !c.IPv4.Is4():
		return fmt.Errorf("shared address %v is not IPv4", c.IPv4)
	case c.Route && !c.IPv4.IsValid():
		return errors.New("a default route needs the shared IPv4 address")
	}
	return nil
}

// ValidLinkName checks a Linux device name as the kernel would accept it
// (1-15 bytes, no '/', ':' or whitespace), and also refuses quotes, '$',
// '`', '\\' and control characters, so a name from a config file can be
// printed (dry run, errors) and logged without quoting. Errors wrap
// ErrNoLink.
func ValidLinkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: no link device given (fix: --link DEVICE, or tunlink)", ErrNoLink)
	}
	if len(name) > 15 || name == "." || name == ".." {
		return fmt.Errorf("%w: link device %q is not a Linux device name (1-15 bytes)", ErrNoLink, trunc(name))
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("/:'\"`$\\", r) {
			return fmt.Errorf("%w: link device %q: character %q is not allowed in a device name", ErrNoLink, name, r)
		}
	}
	return nil
}

// Describe is the one-paragraph, ip(8)-like description of the tunnel that
// `up --dry-run` prints.
func (c Config) Describe() string {
	enc := "none"
	if c.EncapLimit != EncapIgnore {
		enc = strconv.Itoa(c.EncapLimit)
	}
	var b strings.Builder
	name, link := shellQuote(c.Name), shellQuote(c.Link)
	fmt.Fprintf(&b, "ip -6 tunnel add %s mode ip4ip6 local %v remote %v dev %s encaplimit %s hoplimit %d\n",
		name, c.Local, c.Remote, link, enc, c.TTL)
	fmt.Fprintf(&b, "ip link set %s mtu %d up\n", name, c.MTU)
	fmt.Fprintf(&b, "ip -6 addr replace %v/128 dev %s nodad\n", c.Local, link)
	if c.IPv4.IsValid() {
		fmt.Fprintf(&b, "ip addr replace %v/32 dev %s\n", c.IPv4, name)
	}
	if c.Route {
		fmt.Fprintf(&b, "ip route replace default dev %s src %v\n", name, c.IPv4)
	}
	return b.String()
}

// shellQuote returns s as one shell word: unchanged when it holds only
// characters no shell interprets, else in single quotes. Names are
// validated before they get here; this keeps the dry run inert even so.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@%+=:,/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// trunc bounds a user-supplied name quoted in an error message.
func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
