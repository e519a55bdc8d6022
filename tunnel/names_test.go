package tunnel

import (
	"errors"
	"strings"
	"testing"
)

func TestValidLinkName(t *testing.T) {
	for _, ok := range []string{"eth1", "wan", "pppoe-wan", "eth0.10", "br-lan", "lan1@x"} {
		if err := ValidLinkName(ok); err != nil {
			t.Errorf("ValidLinkName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "a:b", "a b", `x"$(touch PWNED)`, "x`id`", "a'b", "a\\b", "a\nb", strings.Repeat("e", 16), strings.Repeat("e", 100000)} {
		err := ValidLinkName(bad)
		if !errors.Is(err, ErrNoLink) {
			t.Errorf("ValidLinkName(%.20q) = %v, want ErrNoLink", bad, err)
		} else if len(err.Error()) > 200 {
			t.Errorf("error echoes %d bytes", len(err.Error()))
		}
	}
}

// TestDescribeQuotes: the dry-run description never hands a shell an
// unquoted value, even for a name that bypassed validation (known bug 5).
func TestDescribeQuotes(t *testing.T) {
	c := Config{Name: "map-x", Link: `x"$(touch PWNED)'`}
	d := c.Describe()
	if !strings.Contains(d, `dev 'x"$(touch PWNED)'\'''`) {
		t.Fatalf("link not quoted:\n%s", d)
	}
	if c := (Config{Name: "map-wan_mape", Link: "wan"}); !strings.Contains(c.Describe(), "tunnel add map-wan_mape mode") {
		t.Fatalf("plain names quoted:\n%s", c.Describe())
	}
}
