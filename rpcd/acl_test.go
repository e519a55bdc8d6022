package rpcd

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"testing"
)

// TestACL checks the ACL LuCI gets: read access to exactly the methods the
// plugin lists (both read-only), no write access, nothing else.
func TestACL(t *testing.T) {
	b, err := os.ReadFile("../openwrt/files/usr/share/rpcd/acl.d/luci-proto-mape.json")
	if err != nil {
		t.Fatal(err)
	}
	var acl map[string]struct {
		Description string                         `json:"description"`
		Read        map[string]map[string][]string `json:"read"`
		Write       map[string]any                 `json:"write"`
	}
	if err := json.Unmarshal(b, &acl); err != nil {
		t.Fatal(err)
	}
	g, ok := acl["luci-proto-mape"]
	if !ok || len(acl) != 1 {
		t.Fatalf("want one grant luci-proto-mape, got %v", acl)
	}
	if g.Write != nil {
		t.Errorf("ACL grants write access: %v", g.Write)
	}
	if len(g.Read) != 1 || len(g.Read["ubus"]) != 1 {
		t.Fatalf("read grants more than ubus mape: %v", g.Read)
	}
	got := append([]string(nil), g.Read["ubus"]["mape"]...)
	sort.Strings(got)
	var want []string
	for m := range signature {
		want = append(want, m)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ACL methods %v, plugin methods %v", got, want)
	}
}
