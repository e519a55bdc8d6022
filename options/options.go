// Package options holds one MAP interface's configuration under the names
// that OpenWrt users already know from the stock map package's UCI options.
// The same struct is filled from a UCI section (FromUCI, over package
// ucibridge's file reader), from the JSON document netifd hands a protocol
// handler, or from command-line flags, so
// every entry point validates and resolves options in exactly one place.
package options

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Interface is the set of options of one `config interface` section with
// proto 'mape' or 'map'. Zero values mean "not set"; pointer-free optional
// integers use Int, which remembers whether it was set.
type Interface struct {
	Name       string `json:"-"`        // UCI section name, e.g. "wan_mape"
	Proto      string `json:"proto"`    // "mape" or "map"
	Type       string `json:"type"`     // map-e (default), map-t, lw4o6
	Tunlink    string `json:"tunlink"`  // logical interface carrying the tunnel, e.g. "wan6"
	Peeraddr   string `json:"peeraddr"` // BR IPv6 address
	IPAddr     string `json:"ipaddr"`   // rule IPv4 prefix (or the lw4o6 address)
	IP4PrefLen Int    `json:"ip4prefixlen"`
	IP6Prefix  string `json:"ip6prefix"` // rule IPv6 prefix
	IP6PrefLen Int    `json:"ip6prefixlen"`
	EALen      Int    `json:"ealen"`
	PSIDLen    Int    `json:"psidlen"`
	PSID       Int    `json:"psid"`
	Offset     Int    `json:"offset"`
	LegacyMap  Bool   `json:"legacymap"`
	Rule       string `json:"rule"` // DHCPv6 S46 rule string(s), stock mapcalc grammar
	MTU        Int    `json:"mtu"`
	TTL        Int    `json:"ttl"`
	EncapLimit string `json:"encaplimit"` // number or "ignore"
	Zone       string `json:"zone"`
	// VRange asks for the virtual range instead of the per-set counts
	// (firewall4's Config.VirtualRange; README "Option vrange").
	VRange Bool `json:"vrange"`
}

// Int is an optional integer option. netifd hands integers as JSON numbers
// when the handler declared them with proto_config_add_int, but as strings
// otherwise, so both are accepted.
type Int struct {
	Value int
	Set   bool
}

// SetInt returns a set Int.
func SetInt(v int) Int { return Int{Value: v, Set: true} }

// UnmarshalJSON accepts 24, "24" and "" (unset).
func (i *Int) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*i = Int{}
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		return i.Parse(str)
	}
	return i.Parse(s)
}

// MarshalJSON writes the number, or null when unset.
func (i Int) MarshalJSON() ([]byte, error) {
	if !i.Set {
		return []byte("null"), nil
	}
	return []byte(strconv.Itoa(i.Value)), nil
}

// Parse sets i from a decimal string; "" leaves it unset.
func (i *Int) Parse(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		*i = Int{}
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*i = Int{Value: v, Set: true}
	return nil
}

// Bool is an optional UCI boolean ('1', 'true', 'yes', 'on' and their
// opposites, or a JSON boolean or number).
type Bool struct {
	Value bool
	Set   bool
}

// UnmarshalJSON accepts true, 1, "1", "yes", … and "" (unset).
func (b *Bool) UnmarshalJSON(data []byte) error {
	s := strings.TrimSpace(string(data))
	if s == "null" {
		*b = Bool{}
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
	}
	return b.Parse(s)
}

// MarshalJSON writes true/false, or null when unset.
func (b Bool) MarshalJSON() ([]byte, error) {
	if !b.Set {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatBool(b.Value)), nil
}

// Parse sets b from a UCI boolean string; "" leaves it unset.
func (b *Bool) Parse(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		*b = Bool{}
	case "1", "true", "yes", "on", "enabled":
		*b = Bool{Value: true, Set: true}
	case "0", "false", "no", "off", "disabled":
		*b = Bool{Value: false, Set: true}
	default:
		return fmt.Errorf("%q is not a boolean (use 0 or 1)", s)
	}
	return nil
}
