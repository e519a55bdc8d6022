//go:build linux

package status

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/google/nftables"
	"github.com/mapehelper/mapehelper/state"
	"github.com/vishvananda/netlink"
)

// NetlinkProbe checks tunnels with rtnetlink and rules with nftables
// netlink, without calling ip or nft.
type NetlinkProbe struct{}

// TunnelUp reports whether dev exists with IFF_UP set. A missing device is
// a plain "no", not an error.
func (NetlinkProbe) TunnelUp(dev string) (bool, error) {
	l, err := netlink.LinkByName(dev)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up link: %w", err)
	}
	return l.Attrs().Flags&net.FlagUp != 0, nil
}

var familyOf = map[string]nftables.TableFamily{
	"ip": nftables.TableFamilyIPv4, "ip6": nftables.TableFamilyIPv6, "inet": nftables.TableFamilyINet,
	"arp": nftables.TableFamilyARP, "bridge": nftables.TableFamilyBridge, "netdev": nftables.TableFamilyNetdev,
}

// RulesPresent counts the rules in each chain of the state's table.
func (NetlinkProbe) RulesPresent(st state.Record) (bool, error) {
	if st.NFTTable == "" {
		return false, errors.New("the state file names no nft table")
	}
	fam, name, err := ParseTableRef(st.NFTTable)
	if err != nil {
		return false, err
	}
	conn, err := nftables.New()
	if err != nil {
		return false, fmt.Errorf("open nftables netlink: %w", err)
	}
	chains, err := conn.ListChainsOfTableFamily(familyOf[fam])
	if errors.Is(err, syscall.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("list chains: %w", err)
	}
	var counts map[string]int
	for _, c := range chains {
		if c.Table == nil || c.Table.Name != name {
			continue
		}
		if counts == nil {
			counts = make(map[string]int)
		}
		rules, err := conn.GetRules(c.Table, c)
		if err != nil {
			return false, fmt.Errorf("list rules of chain %s: %w", c.Name, err)
		}
		counts[c.Name] = len(rules)
	}
	return RulesLoaded(counts, st.NFTChains), nil
}
