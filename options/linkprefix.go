package options

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
)

// linkStatus is the part of netifd's interface status (`ubus call
// network.interface.NAME status`) the rule's prefix comes from.
type linkStatus struct {
	Prefixes  []linkAddr `json:"ipv6-prefix"`
	Addresses []linkAddr `json:"ipv6-address"`
}

// linkAddr is one entry; Preferred is nil when netifd gives no lifetime
// (static configuration), 0 when the prefix is deprecated.
type linkAddr struct {
	Address   string `json:"address"`
	Mask      int    `json:"mask"`
	Preferred *int64 `json:"preferred"`
}

// ErrNoLinkPrefix: the link has no global IPv6 prefix or address yet.
var ErrNoLinkPrefix = errors.New("the tunnel link has no global IPv6 prefix or address")

// LinkPrefix chooses, from netifd's status of the tunnel link, the prefix
// the MAP rule is computed from, for the handler's setup and hotplug
// scripts: the first delegated prefix (masked, e.g.
// 240b:12:3456:7800::/56), else the /64 of the first global address.
// Deprecated entries (preferred lifetime 0) come after the others, and ULA
// and link-local ones never count.
//
// used is the prefix the running setup was built from (as netifd recorded
// it, "" for none). While it is still on the link and not deprecated, it
// is returned unchanged, whatever else the link gained or however netifd
// ordered its lists: only then does the hotplug script's string
// comparison say "unchanged" exactly when the rule's input is. A new
// address in the same /64, a second prefix, or a reordered list must not
// re-run setup, which drops every flow. used may be a bare address (what
// earlier versions recorded), meaning its /64.
func LinkPrefix(status []byte, used string) (string, error) {
	var st linkStatus
	if err := json.Unmarshal(status, &st); err != nil {
		return "", fmt.Errorf("link status: %w", err)
	}
	var fresh, deprecated []netip.Prefix
	add := func(e linkAddr, isPrefix bool) {
		a, err := netip.ParseAddr(e.Address)
		if err != nil || !a.Is6() || a.Is4In6() || !a.IsGlobalUnicast() || a.IsPrivate() {
			return
		}
		bits := 64
		if isPrefix {
			if e.Mask < 1 || e.Mask > 64 {
				return
			}
			bits = e.Mask
		}
		p := netip.PrefixFrom(a, bits).Masked()
		if e.Preferred != nil && *e.Preferred == 0 {
			deprecated = append(deprecated, p)
		} else {
			fresh = append(fresh, p)
		}
	}
	for _, e := range st.Prefixes {
		add(e, true)
	}
	for _, e := range st.Addresses {
		add(e, false)
	}
	if used != "" {
		if u, err := ParseInput(used); err == nil {
			for _, p := range fresh {
				if p == u.Masked() {
					return used, nil
				}
			}
		}
	}
	all := append(fresh, deprecated...)
	if len(all) == 0 {
		return "", ErrNoLinkPrefix
	}
	return all[0].String(), nil
}
