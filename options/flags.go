package options

import (
	"flag"
	"strconv"
)

// intFlag adapts Int to flag.Value (Int's own Set field names whether it
// was given, so the method lives on this wrapper).
type intFlag struct{ v *Int }

func (f intFlag) String() string {
	if f.v == nil || !f.v.Set {
		return ""
	}
	return strconv.Itoa(f.v.Value)
}

func (f intFlag) Set(s string) error { return f.v.Parse(s) }

// boolFlag adapts Bool to flag.Value.
type boolFlag struct{ v *Bool }

func (f boolFlag) String() string {
	if f.v == nil || !f.v.Set {
		return ""
	}
	return strconv.FormatBool(f.v.Value)
}

func (f boolFlag) Set(s string) error { return f.v.Parse(s) }

// IsBoolFlag lets `--legacymap` stand alone for `--legacymap=1`.
func (f boolFlag) IsBoolFlag() bool { return true }

// RegisterFlags adds one flag per UCI option, named like the option, so
// the command line, UCI and netifd's JSON share one vocabulary.
func (o *Interface) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Type, "type", o.Type, "MAP type: map-e (default), map-t or lw4o6")
	fs.StringVar(&o.Tunlink, "tunlink", o.Tunlink, "logical interface that carries the tunnel (e.g. wan6)")
	fs.StringVar(&o.Peeraddr, "peeraddr", o.Peeraddr, "BR IPv6 address (overrides the table's)")
	fs.StringVar(&o.IPAddr, "ipaddr", o.IPAddr, "rule IPv4 prefix (lw4o6: the IPv4 address)")
	fs.Var(intFlag{&o.IP4PrefLen}, "ip4prefixlen", "rule IPv4 prefix length (default 32)")
	fs.StringVar(&o.IP6Prefix, "ip6prefix", o.IP6Prefix, "rule IPv6 prefix")
	fs.Var(intFlag{&o.IP6PrefLen}, "ip6prefixlen", "rule IPv6 prefix length")
	fs.Var(intFlag{&o.EALen}, "ealen", "EA-bits length")
	fs.Var(intFlag{&o.PSIDLen}, "psidlen", "PSID length (k)")
	fs.Var(intFlag{&o.PSID}, "psid", "explicit PSID (lw4o6 or EA length 0)")
	fs.Var(intFlag{&o.Offset}, "offset", "PSID offset (a); default 6, 4 with legacymap, 0 for lw4o6")
	fs.Var(boolFlag{&o.LegacyMap}, "legacymap", "legacy (draft) interface-id layout, used by every Japanese ISP")
	fs.StringVar(&o.Rule, "rule", o.Rule, "DHCPv6 S46 rule string(s), stock mapcalc grammar")
	fs.Var(intFlag{&o.MTU}, "mtu", "tunnel MTU (default 1460)")
	fs.Var(intFlag{&o.TTL}, "ttl", "tunnel hop limit (default 64)")
	fs.StringVar(&o.EncapLimit, "encaplimit", o.EncapLimit, "tunnel encapsulation limit: a number or 'ignore' (default ignore)")
	fs.Var(boolFlag{&o.VRange}, "vrange", "SNAT into one virtual port range (kernel picks any free port) instead of per-set counts")
	fs.StringVar(&o.Zone, "zone", o.Zone, "firewall zone handed to netifd (default: none; status judges port forwards from wan)")
}
