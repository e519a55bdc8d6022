package dataplane

import (
	"strings"
	"testing"
)

// Interface names become file names under the state directory: nothing
// may reach outside it.
func TestValidInterface(t *testing.T) {
	for _, ok := range []string{"wan", "wan_mape", "WAN6-map.1", strings.Repeat("a", 64)} {
		if err := ValidInterface(ok); err != nil {
			t.Errorf("ValidInterface(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "../victim/important", "a/b", ".hidden", "wan map", "x$(id)", "a\nb", strings.Repeat("a", 65)} {
		err := ValidInterface(bad)
		if err == nil {
			t.Errorf("ValidInterface(%q) accepted", bad)
		} else if len(err.Error()) > 300 {
			t.Errorf("error echoes too much: %d bytes", len(err.Error()))
		}
	}
}
