package upnp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/state"
)

func record(mod func(*state.Record)) *state.Record {
	r := &state.Record{Version: state.Version, Interface: "wanmap", State: state.Up, Tunnel: "map-wanmap"}
	r.IPv4 = "14.8.52.86"
	r.PSID = 120
	r.PortSets = []mapcalc.PortRange{{Lo: 6016, Hi: 6031}, {Lo: 10112, Hi: 10127}}
	if mod != nil {
		mod(r)
	}
	return r
}

func TestConf(t *testing.T) {
	tests := []struct {
		name    string
		rec     *state.Record
		want    []string
		wantErr string
	}{
		{"v6plus two sets", record(nil), []string{
			"# mapehelper upnp: interface wanmap, PSID 120, 32 ports in 2 sets",
			"ext_ifname=map-wanmap",
			"ext_ip=14.8.52.86",
			"allow 6016-6031 0.0.0.0/0 1024-65535",
			"allow 10112-10127 0.0.0.0/0 1024-65535",
			"deny 0-65535 0.0.0.0/0 0-65535",
		}, ""},
		{"single-port set keeps both ends", record(func(r *state.Record) {
			r.PortSets = []mapcalc.PortRange{{Lo: 4096, Hi: 4096}}
		}), []string{
			"# mapehelper upnp: interface wanmap, PSID 120, 1 ports in 1 sets",
			"ext_ifname=map-wanmap",
			"ext_ip=14.8.52.86",
			"allow 4096-4096 0.0.0.0/0 1024-65535",
			"deny 0-65535 0.0.0.0/0 0-65535",
		}, ""},
		{"failed up", record(func(r *state.Record) { r.State = state.Failed }), nil, "not up (state error); fix: ifup wanmap"},
		{"setting up", record(func(r *state.Record) { r.State = state.SettingUp }), nil, "not up (state setting-up)"},
		{"no state", record(func(r *state.Record) { r.State = "" }), nil, "not up (state unknown)"},
		{"no IPv4", record(func(r *state.Record) { r.IPv4 = "" }), nil, "no IPv4 address"},
		{"IPv6 instead of IPv4", record(func(r *state.Record) { r.IPv4 = "2001:db8::1" }), nil, "no IPv4 address"},
		{"no tunnel", record(func(r *state.Record) { r.Tunnel = "" }), nil, "names no tunnel device"},
		{"no port sets", record(func(r *state.Record) { r.PortSets = nil }), nil, "no port sets"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Conf(tc.rec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// sets is the port sets of a PSID by RFC 7597 section 5.1, written out
// here (offset a, PSID length k): A from 1, so ports below 2^(16-a) are
// never in a set.
func sets(a, k, psid int) []mapcalc.PortRange {
	var out []mapcalc.PortRange
	m := 16 - a - k
	for i := 1; i < 1<<a; i++ {
		lo := i<<(16-a) | psid<<m
		out = append(out, mapcalc.PortRange{Lo: uint16(lo), Hi: uint16(lo + 1<<m - 1)})
	}
	return out
}

// Every port the lines allow is in a port set, every port of a set is
// allowed, and the last line denies the rest: miniupnpd's first-match
// evaluation, written out here, grants exactly our ports (v6 plus: 240
// ports in 15 sets; OCN: 1008 in 63).
func TestConfGrantsExactlyTheSets(t *testing.T) {
	tests := []struct {
		name  string
		sets  []mapcalc.PortRange
		ports int
	}{
		{"v6plus PSID 120", sets(4, 8, 120), 240},
		{"OCN PSID 22", sets(6, 6, 22), 1008},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := record(func(r *state.Record) { r.PortSets = tc.sets })
			lines, err := Conf(rec)
			if err != nil {
				t.Fatal(err)
			}
			type rule struct {
				allow  bool
				lo, hi int
			}
			var rules []rule
			for _, l := range lines {
				var lo, hi int
				if f := strings.Fields(l); len(f) == 4 && (f[0] == "allow" || f[0] == "deny") {
					if _, err := fmt.Sscanf(f[1], "%d-%d", &lo, &hi); err != nil {
						t.Fatalf("%q: %v", l, err)
					}
					rules = append(rules, rule{f[0] == "allow", lo, hi})
				}
			}
			if len(rules) != len(tc.sets)+1 {
				t.Fatalf("%d permission lines for %d sets", len(rules), len(tc.sets))
			}
			granted := 0
			for port := 0; port <= 65535; port++ {
				ok := true // miniupnpd's default when no line matches
				for _, r := range rules {
					if port >= r.lo && port <= r.hi {
						ok = r.allow
						break
					}
				}
				inSet := false
				for _, p := range rec.PortSets {
					inSet = inSet || p.Contains(uint16(port))
				}
				if ok != inSet {
					t.Fatalf("port %d: granted %v, in a set %v", port, ok, inSet)
				}
				if ok {
					granted++
				}
			}
			if granted != tc.ports {
				t.Errorf("%d ports granted, want %d", granted, tc.ports)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, record(nil)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "deny 0-65535 0.0.0.0/0 0-65535\n") || strings.Count(b.String(), "\n") != 6 {
		t.Errorf("Write = %q", b.String())
	}
	b.Reset()
	if err := Write(&b, record(func(r *state.Record) { r.State = state.Failed })); err == nil || b.Len() != 0 {
		t.Errorf("failed record: err %v, wrote %q", err, b.String())
	}
}
