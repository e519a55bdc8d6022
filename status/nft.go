package status

import (
	"fmt"
	"strings"
)

// nftFamilies are the family words nft accepts in "family table".
var nftFamilies = map[string]bool{"ip": true, "ip6": true, "inet": true, "arp": true, "bridge": true, "netdev": true}

// ParseTableRef splits "inet mapehelper" into family and name. A bare name
// means family ip, as in nft itself.
func ParseTableRef(s string) (family, name string, err error) {
	f := strings.Fields(s)
	switch {
	case len(f) == 1:
		return "ip", f[0], nil
	case len(f) == 2 && nftFamilies[f[0]]:
		return f[0], f[1], nil
	}
	return "", "", fmt.Errorf("nft table %q is not \"[family] name\"", s)
}

// RulesLoaded decides whether our rules are present from the rule count of
// each chain of our table (nil map: table missing). With no chains named,
// any rule in the table counts; otherwise every named chain must hold at
// least one rule, since a chain left empty by `fw4 reload` is the failure
// this check exists to catch.
func RulesLoaded(rulesPerChain map[string]int, want []string) bool {
	if rulesPerChain == nil {
		return false
	}
	if len(want) == 0 {
		for _, n := range rulesPerChain {
			if n > 0 {
				return true
			}
		}
		return false
	}
	for _, c := range want {
		if rulesPerChain[c] == 0 {
			return false
		}
	}
	return true
}
