package status

import (
	"reflect"
	"strings"
	"testing"
)

func TestCheckRedirects(t *testing.T) {
	sets := v6plusSets()
	tests := []struct {
		name    string
		r       Redirect
		verdict string // "" = not reported
		usable  []PortRange
		msg     string
	}{
		{"inside a set", Redirect{Name: "ssh", Src: "wan", SrcDPort: "6020", Enabled: true}, Usable, []PortRange{{Lo: 6020, Hi: 6020}}, "is in our port sets"},
		{"whole set", Redirect{Src: "wan", SrcDPort: "10112-10127", Proto: "tcp", Enabled: true}, Usable, []PortRange{{Lo: 10112, Hi: 10127}}, "in our port sets"},
		{"outside", Redirect{Name: "web", Src: "wan", SrcDPort: "80", Proto: "tcp udp", Enabled: true}, NotUsable, nil, "never delivers"},
		{"partly, colon form", Redirect{Src: "wan", SrcDPort: "6030:6040", Enabled: true}, Partly, []PortRange{{Lo: 6030, Hi: 6031}}, "only 2 of the 11"},
		{"every port", Redirect{Src: "wan", Enabled: true}, Partly, sets, "only 240 of the 65535"},
		{"garbage port", Redirect{Src: "wan", SrcDPort: "http", Enabled: true}, Invalid, nil, "not a port"},
		{"disabled", Redirect{Src: "wan", SrcDPort: "80", Enabled: false}, "", nil, ""},
		{"other zone", Redirect{Src: "lan", SrcDPort: "80", Enabled: true}, "", nil, ""},
		{"snat", Redirect{Src: "wan", SrcDPort: "80", Target: "SNAT", Enabled: true}, "", nil, ""},
		{"icmp only", Redirect{Src: "wan", Proto: "icmp", Enabled: true}, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckRedirects([]Redirect{tt.r}, "", sets)
			if tt.verdict == "" {
				if len(got) != 0 {
					t.Fatalf("reported %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d checks, want 1", len(got))
			}
			c := got[0]
			if c.Verdict != tt.verdict || !reflect.DeepEqual(c.Usable, tt.usable) || !strings.Contains(c.Message, tt.msg) {
				t.Errorf("got verdict %q usable %v msg %q; want %q %v ~%q", c.Verdict, c.Usable, c.Message, tt.verdict, tt.usable, tt.msg)
			}
		})
	}
}

func TestCheckRedirectsZone(t *testing.T) {
	r := []Redirect{{Src: "wan", SrcDPort: "80", Enabled: true}, {Src: "wanmap", SrcDPort: "6020", Enabled: true}}
	got := CheckRedirects(r, "wanmap", v6plusSets())
	if len(got) != 1 || got[0].Src != "wanmap" || got[0].Verdict != Usable {
		t.Fatalf("zone filter: %+v", got)
	}
}
