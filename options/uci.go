package options

// The mapping from a UCI `config interface` section (read by package
// ucibridge, which knows the file syntax only) to Interface: option
// names, forms and ranges, with the file and line of a bad value.

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/tunnel"
	"github.com/mapehelper/mapehelper/ucibridge"
)

// ErrNotMAP is the kind of error for a section that exists but is not a
// MAP interface (another section type, or another proto).
var ErrNotMAP = errors.New("not a MAP interface")

// ErrNoSection is the kind of error for a section name that is not there.
var ErrNoSection = errors.New("no such section")

// UCIError is a rejected option value: the place in the file, the
// option as the user wrote it, the problem and the fix. Kind is one of
// mapcalc's error kinds (ErrInvalidRule, ErrUnsupportedType) so callers map
// it to the same netifd error code as the calculator's own rejections.
type UCIError struct {
	File    string
	Line    int
	Section string
	Option  string
	Value   string
	Problem string
	Fix     string
	Kind    error
}

func (e *UCIError) Error() string {
	return fmt.Sprintf("%s:%d: interface '%s': option %s %s: %s; %s",
		e.File, e.Line, e.Section, e.Option, ucibridge.Quote(e.Value), e.Problem, e.Fix)
}

// Unwrap lets errors.Is match the kind.
func (e *UCIError) Unwrap() error { return e.Kind }

// IsMAPProto reports whether proto is one this helper implements: its own
// 'mape' and the stock package's 'map', which it replaces.
func IsMAPProto(proto string) bool { return proto == "mape" || proto == "map" }

// MapInterfaces lists, in file order, the reference (as accepted by
// FromUCI) of every `config interface` section whose proto is map or
// mape: what `mapehelper status` reports on.
func MapInterfaces(pkg *ucibridge.Package) []string {
	var out []string
	for _, s := range pkg.Sections {
		if proto, _ := s.Get("proto"); s.Type == "interface" && IsMAPProto(proto) {
			out = append(out, pkg.Ref(s))
		}
	}
	return out
}

// intOption describes one integer option: its field, range and the fix
// sentence a user reads when the value is wrong.
type intOption struct {
	name     string
	field    func(*Interface) *Int
	min, max int
	fix      string
}

// The ranges are what the value can mean at all (bit lengths of IPv4 and
// IPv6 fields, the tunnel package's limits); whether the values fit
// together is the calculator's check (Resolve).
var intOptions = []intOption{
	{"ip4prefixlen", func(o *Interface) *Int { return &o.IP4PrefLen }, 0, 32, "set ip4prefixlen to the rule's IPv4 prefix length, e.g. 16"},
	{"ip6prefixlen", func(o *Interface) *Int { return &o.IP6PrefLen }, 0, 128, "set ip6prefixlen to the rule's IPv6 prefix length, e.g. 32"},
	{"ealen", func(o *Interface) *Int { return &o.EALen }, 0, 48, "set ealen to the EA-bits length, e.g. 24"},
	{"psidlen", func(o *Interface) *Int { return &o.PSIDLen }, 0, 16, "set psidlen to the PSID length in bits, e.g. 8"},
	{"psid", func(o *Interface) *Int { return &o.PSID }, 0, 65535, "set psid to the port set ID (0-65535), or remove it to derive it from the prefix"},
	{"offset", func(o *Interface) *Int { return &o.Offset }, 0, 15, "set offset to the PSID offset in bits, e.g. 4 (legacy) or 6"},
	{"mtu", func(o *Interface) *Int { return &o.MTU }, 1280, 65535, "set mtu to the tunnel MTU, e.g. 1460, or remove it for the default"},
	{"ttl", func(o *Interface) *Int { return &o.TTL }, 1, 255, "set ttl to the tunnel hop limit (1-255), e.g. 64"},
}

// FromUCI maps the `config interface` section ref (a name or
// `@interface[N]`) to Interface. Option names are the stock map
// package's; options of other protocols or of netifd itself (device,
// auto, metric, …) are ignored because real sections carry many of them.
// The stock 'maptype' wins over 'type', as in the stock handler. Values
// are checked for form and range here, with the line they came from;
// whether they make a consistent rule is Resolve's job.
func FromUCI(pkg *ucibridge.Package, ref string) (Interface, error) {
	var o Interface
	s := pkg.Section(ref)
	if s == nil {
		return o, fmt.Errorf("%s: interface '%s': %w: expected a config interface '%s' section with proto 'mape'", pkg.File, ref, ErrNoSection, ref)
	}
	if s.Type != "interface" {
		return o, fmt.Errorf("%s:%d: section '%s' is a config %s: %w: expected a config interface section", pkg.File, s.Line, ref, s.Type, ErrNotMAP)
	}
	proto, _ := s.Get("proto")
	if !IsMAPProto(proto) {
		line := s.Line
		if opt := s.Option("proto"); opt != nil {
			line = opt.Line
		}
		if proto == "" {
			return o, fmt.Errorf("%s:%d: interface '%s' has no proto: %w: set option proto 'mape'", pkg.File, line, ref, ErrNotMAP)
		}
		return o, fmt.Errorf("%s:%d: interface '%s' has proto '%s': %w: set option proto 'mape' (or the stock 'map')", pkg.File, line, ref, proto, ErrNotMAP)
	}
	o.Name = ref
	o.Proto = proto
	bad := func(name, value, problem, fix string, kind error) error {
		line := s.Line
		if opt := s.Option(name); opt != nil {
			line = opt.Line
		}
		return &UCIError{File: pkg.File, Line: line, Section: ref, Option: name, Value: value, Problem: problem, Fix: fix, Kind: kind}
	}

	str := func(name string) string { v, _ := s.Get(name); return strings.TrimSpace(v) }
	o.Tunlink = str("tunlink")
	o.Peeraddr = str("peeraddr")
	o.IPAddr = str("ipaddr")
	o.IP6Prefix = str("ip6prefix")
	o.Rule = str("rule")
	o.EncapLimit = str("encaplimit")
	o.Zone = str("zone")

	o.Type = str("type")
	typeOpt := "type"
	if mt := str("maptype"); mt != "" {
		o.Type, typeOpt = mt, "maptype"
	}
	switch o.Type {
	case "", "map-e", "map-t", "lw4o6":
	default:
		return o, bad(typeOpt, o.Type, "not a MAP type", "set "+typeOpt+" to map-e (the default), map-t or lw4o6", mapcalc.ErrUnsupportedType)
	}

	for _, io := range intOptions {
		v, ok := s.Get(io.name)
		if !ok {
			continue
		}
		f := io.field(&o)
		if err := f.Parse(v); err != nil {
			return o, bad(io.name, v, err.Error(), io.fix, mapcalc.ErrInvalidRule)
		}
		if f.Set && (f.Value < io.min || f.Value > io.max) {
			return o, bad(io.name, v, fmt.Sprintf("%d is outside %d-%d", f.Value, io.min, io.max), io.fix, mapcalc.ErrInvalidRule)
		}
	}
	if v, ok := s.Get("legacymap"); ok {
		if err := o.LegacyMap.Parse(v); err != nil {
			return o, bad("legacymap", v, err.Error(), "set legacymap to 1 for the Japanese ISPs' legacy layout, or 0", mapcalc.ErrInvalidRule)
		}
	}

	if v, ok := s.Get("vrange"); ok {
		if err := o.VRange.Parse(v); err != nil {
			return o, bad("vrange", v, err.Error(), "set vrange to 1 for one virtual port range, or 0 (the default: per-set counts)", mapcalc.ErrInvalidRule)
		}
	}

	if o.Peeraddr != "" {
		a, err := netip.ParseAddr(o.Peeraddr)
		if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
			return o, bad("peeraddr", o.Peeraddr, "not an IPv6 address", "set peeraddr to the BR's IPv6 address, e.g. 2404:9200:225:100::64", mapcalc.ErrInvalidRule)
		}
	}
	if o.IPAddr != "" {
		a, err := netip.ParseAddr(o.IPAddr)
		if err != nil || !a.Is4() {
			return o, bad("ipaddr", o.IPAddr, "not an IPv4 address", "set ipaddr to the rule's IPv4 prefix address, e.g. 14.8.0.0", mapcalc.ErrInvalidRule)
		}
	}
	if o.IP6Prefix != "" {
		addr, _, _ := strings.Cut(o.IP6Prefix, "/")
		a, err := netip.ParseAddr(addr)
		if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
			return o, bad("ip6prefix", o.IP6Prefix, "not an IPv6 prefix", "set ip6prefix to the rule's IPv6 prefix, e.g. 240b:10::", mapcalc.ErrInvalidRule)
		}
	}
	if _, err := tunnel.ParseEncapLimit(o.EncapLimit); err != nil {
		return o, bad("encaplimit", o.EncapLimit, "not a number from 0 to 255", "set encaplimit to ignore (the default) or a number from 0 to 255", mapcalc.ErrInvalidRule)
	}
	return o, nil
}

// LoadUCI reads the UCI file at path and maps the interface section ref:
// what `mapehelper up --config FILE --interface NAME` needs.
func LoadUCI(path, ref string) (Interface, error) {
	pkg, err := ucibridge.Load(path)
	if err != nil {
		return Interface{}, err
	}
	return FromUCI(pkg, ref)
}

// LinkDevice returns the Linux device of the logical interface tunlink
// (its `device` option, or `ifname` in pre-21.02 files), following
// '@other' aliases, so `up --config` can find the link without netifd.
// Under netifd the handler asks netifd instead, which also knows devices
// that only exist at run time (PPP, DHCPv6 on a VLAN made by a script).
func LinkDevice(pkg *ucibridge.Package, tunlink string) (string, error) {
	if tunlink == "" {
		return "", fmt.Errorf("%s: no tunlink: set option tunlink to the IPv6 interface, e.g. 'wan6'", pkg.File)
	}
	name := tunlink
	for range 8 { // aliases nest rarely; 8 levels is plenty and stops loops
		s := pkg.Section(name)
		if s == nil || s.Type != "interface" {
			return "", fmt.Errorf("%s: tunlink '%s': %w: expected a config interface '%s' section", pkg.File, name, ErrNoSection, name)
		}
		dev, ok := s.Get("device")
		if !ok {
			dev, _ = s.Get("ifname")
		}
		dev = strings.TrimSpace(dev)
		switch {
		case dev == "":
			return "", fmt.Errorf("%s:%d: interface '%s' has no device: set option device, or pass --link", pkg.File, s.Line, name)
		case strings.HasPrefix(dev, "@"):
			name = dev[1:]
		case len(dev) > 15 || strings.ContainsAny(dev, " /\t\n:"):
			return "", fmt.Errorf("%s:%d: interface '%s' device '%s' is not one Linux device name: pass --link", pkg.File, s.Line, name, dev)
		default:
			return dev, nil
		}
	}
	return "", fmt.Errorf("%s: tunlink '%s': '@' aliases nest too deep (a loop?): pass --link", pkg.File, tunlink)
}
