package status

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/state"
	"github.com/mapehelper/mapehelper/state/statetest"
)

type fakeSource struct {
	states []state.Record
	err    error
}

func (f fakeSource) Interfaces() ([]state.Record, error) { return f.states, f.err }

type fakeFlows struct {
	flows []Flow
	err   error
}

func (f fakeFlows) Flows() ([]Flow, error) { return f.flows, f.err }

type fakeProbe struct {
	up      map[string]bool
	present bool
	err     error
}

func (f fakeProbe) TunnelUp(dev string) (bool, error)       { return f.up[dev], f.err }
func (f fakeProbe) RulesPresent(state.Record) (bool, error) { return f.present, f.err }

type fakeRedirects = RedirectList

type fakePressure struct {
	p   Pressure
	err error
}

func (f fakePressure) Pressure() (Pressure, error) { return f.p, f.err }

type fakePorts []PortRange

func (f fakePorts) Ports() ([]PortRange, error) { return f, nil }

var somePressure = fakePressure{p: Pressure{Count: 72, Max: 15360, InsertFailed: 3, Drop: 1, EarlyDrop: 2}}

// yes is a check that was made and said yes.
func yes(b *bool) bool { return b != nil && *b }

func seedState() state.Record {
	return state.Record{
		Interface: "wan_mape", State: "up",
		ResultJSON: mapcalc.ResultJSON{ISP: "v6plus",
			BR: "2404:9200:225:100::64", CE: "240b:12:3456:7800:e:834:5600:7800",
			IPv4: "14.8.52.86", IP4Prefix: "14.8.0.0/16", IP6Prefix: "240b:12::/32",
			EALen: 24, PSIDLen: 8, PSID: 120, Offset: 4, Legacy: true, PortSets: v6plusSets()},
		Tunnel: "map-wan_mape", NFTTable: "inet mapehelper",
		Link: "wan", MTU: 1460, Updated: "2026-01-02T03:04:05Z",
	}
}

func TestCollect(t *testing.T) {
	c := Collector{
		States: fakeSource{states: []state.Record{seedState()}},
		Flows: fakeFlows{flows: []Flow{tcp(6016), udp(63360), tcp(80), snat(ProtoUDP, "192.168.1.10", 10112),
			dnat(ProtoTCP, 14208)}},
		Probe: fakeProbe{up: map[string]bool{"map-wan_mape": true}, present: true},
		Redirects: fakeRedirects{{Name: "web", Src: "wan", SrcDPort: "80", Enabled: true},
			{Name: "ssh", Src: "wan", SrcDPort: "6020-6021", Enabled: true}},
		Pressure: somePressure,
		UPnP:     fakePorts{{Lo: 6022, Hi: 6022}},
	}
	rep, err := c.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Interfaces) != 1 {
		t.Fatalf("interfaces = %d", len(rep.Interfaces))
	}
	it := rep.Interfaces[0]
	if it.Ports != 240 || !yes(it.TunnelUp) || !yes(it.NFTRules) || len(it.Problems) != 0 {
		t.Errorf("ports %d tunnel %v nft %v problems %v", it.Ports, it.TunnelUp, it.NFTRules, it.Problems)
	}
	if it.InUse.Sets[0].TCP != 1 || it.InUse.Sets[14].UDP != 1 || it.InUse.Outside.TCP != 1 {
		t.Errorf("usage = %+v", it.InUse)
	}
	if len(it.Redirects) != 2 || it.Redirects[0].Verdict != NotUsable {
		t.Errorf("redirects = %+v", it.Redirects)
	}
	if len(it.UsableExternalPorts) != 15 || it.UsableExternalPorts[0] != (PortRange{Lo: 6016, Hi: 6031}) {
		t.Errorf("usable = %v", it.UsableExternalPorts)
	}

	// The JSON keys are the ubus contract LuCI reads.
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"interfaces":[`, `"state":"up"`, `"isp":"v6plus"`, `"psid":120`, `"tunnel_up":true`,
		`"nft_rules":true`, `"link":"wan","mtu":1460,`, `"port_sets":[[6016,6031],`, `"ports_in_use":{"sets":[{"set":[6016,6031],"tcp":1,"udp":0}`,
		`"usable_external_ports":[[6016,6031]`, `"verdict":"not-usable"`, `"last_error":""`,
		// 6016: a flow; 6020-6021: a forward; 6022: UPnP; 10112: a LAN
		// host's flow; 14208: an inbound flow; 63360: a flow.
		`"free_ports":{"sets":[{"set":[6016,6031],"free":12},{"set":[10112,10127],"free":15},{"set":[14208,14223],"free":15},`,
		`"total":233,"suggestions":[6017,10113,14209,18304,22400,26496,30592,34688]}`,
		`"lan_hosts":{"total":1,"top":[{"address":"192.168.1.10","tcp":0,"udp":1,"flows":1}]}`,
		`"nat_pressure":{"count":72,"max":15360,"insert_failed":3,"drop":1,"early_drop":2}`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("JSON lacks %s:\n%s", k, b)
		}
	}
}

func TestCollectDegrades(t *testing.T) {
	st := seedState()
	st.State, st.Error, st.ErrorCode = "error", "rule invalid", "INVALID_MAP_RULE"
	c := Collector{
		States: fakeSource{states: []state.Record{st}},
		Flows:  fakeFlows{err: errors.New("permission denied")},
		Probe:  fakeProbe{err: errors.New("netlink down")},
	}
	rep, err := c.Collect()
	if err != nil {
		t.Fatal(err)
	}
	it := rep.Interfaces[0]
	joined := strings.Join(it.Problems, "|")
	for _, want := range []string{"conntrack: permission denied", "tunnel map-wan_mape: netlink down", "nftables: netlink down"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems %q lack %q", joined, want)
		}
	}
	if it.LastError != "rule invalid" || it.ErrorCode != "INVALID_MAP_RULE" || it.TunnelUp != nil || it.NFTRules != nil ||
		it.InUse != nil || len(it.UsableExternalPorts) != 0 {
		t.Errorf("got %+v", it)
	}

	if _, err := (Collector{States: fakeSource{err: errors.New("boom")}}).Collect(); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("source error not returned: %v", err)
	}
	rep, err = Collector{States: fakeSource{}}.Collect()
	if err != nil || rep.Interfaces == nil || len(rep.Interfaces) != 0 {
		t.Errorf("empty: %+v %v", rep, err)
	}
	if b, _ := json.Marshal(rep); string(b) != `{"interfaces":[]}` {
		t.Errorf("empty JSON = %s", b)
	}
}

func TestDirSource(t *testing.T) {
	dir := t.TempDir()
	good := `{"interface":"wan_mape","state":"up","ipv4":"14.8.52.86","port_sets":[[6016,6031],[10112,10127]],"tunnel":"map-wan_mape"}`
	if err := os.WriteFile(filepath.Join(dir, "wan_mape.json"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"port_sets":[[5,4]]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte(`x`), 0o644); err != nil {
		t.Fatal(err)
	}
	states, err := DirSource{Dir: dir}.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 {
		t.Fatalf("states = %+v", states)
	}
	if states[0].Interface != "broken" || states[0].State != "error" || !strings.Contains(states[0].Error, "reversed") {
		t.Errorf("broken = %+v", states[0])
	}
	if s := states[1]; s.Interface != "wan_mape" || len(s.PortSets) != 2 || s.PortSets[1] != (PortRange{Lo: 10112, Hi: 10127}) {
		t.Errorf("good = %+v", s)
	}
	states, err = DirSource{Dir: filepath.Join(dir, "missing")}.Interfaces()
	if err != nil || len(states) != 0 {
		t.Errorf("missing dir: %v %v", states, err)
	}
}

func TestRulesLoaded(t *testing.T) {
	tests := []struct {
		counts map[string]int
		want   []string
		ok     bool
	}{
		{nil, nil, false},
		{map[string]int{}, nil, false},
		{map[string]int{"a": 0, "b": 2}, nil, true},
		{map[string]int{"a": 0, "b": 2}, []string{"b"}, true},
		{map[string]int{"a": 0, "b": 2}, []string{"a", "b"}, false},
		{map[string]int{"b": 2}, []string{"c"}, false},
	}
	for _, tt := range tests {
		if got := RulesLoaded(tt.counts, tt.want); got != tt.ok {
			t.Errorf("RulesLoaded(%v, %v) = %v", tt.counts, tt.want, got)
		}
	}
	for in, want := range map[string][2]string{"inet mapehelper": {"inet", "mapehelper"}, "nat": {"ip", "nat"}} {
		f, n, err := ParseTableRef(in)
		if err != nil || f != want[0] || n != want[1] {
			t.Errorf("ParseTableRef(%q) = %q %q %v", in, f, n, err)
		}
	}
	for _, in := range []string{"", "foo bar", "inet a b"} {
		if _, _, err := ParseTableRef(in); err == nil {
			t.Errorf("ParseTableRef(%q) accepted", in)
		}
	}
}

func TestWriteText(t *testing.T) {
	c := Collector{
		States:    fakeSource{states: []state.Record{seedState()}},
		Flows:     fakeFlows{flows: []Flow{tcp(6016), tcp(80)}},
		Probe:     fakeProbe{up: map[string]bool{"map-wan_mape": true}, present: true},
		Redirects: fakeRedirects{{Name: "web", Src: "wan", SrcDPort: "80", Proto: "tcp", DestIP: "192.168.1.2", DestPort: "80", Enabled: true}},
		Pressure:  somePressure,
	}
	c.Flows = fakeFlows{flows: append(c.Flows.(fakeFlows).flows, snat(ProtoTCP, "192.168.1.10", 6017), snat(ProtoTCP, "192.168.1.10", 6018),
		snat(ProtoUDP, "192.168.1.11", 6019), snat(ProtoUDP, "14.8.52.86", 10113))}
	rep, _ := c.Collect()
	var b bytes.Buffer
	if err := WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"interface              wan_mape\n",
		"ipv4                   14.8.52.86\n",
		"tunnel                 map-wan_mape (up: yes) over wan, mtu 1460\n",
		"updated                2026-01-02T03:04:05Z\n",
		"nft rules              yes\n",
		"ports                  240 in 15 sets; in use: tcp 3, udp 2; icmp flows 0\n",
		"usable external ports  6016-6031 10112-10127 14208-14223 18304-18319 22400-22415 26496-26511\n",
		"                       30592-30607 34688-34703 38784-38799 42880-42895 46976-46991 51072-51087\n",
		"6016-6031      3    1    12\n",
		"10112-10127    0    1    15\n",
		"outside sets!  1    0\n",
		"free external ports    235 of 240; try 6020 10112 14208 18304 22400 26496 30592 34688\n",
		"ports of LAN host      192.168.1.10: tcp 2, udp 0 (2 flows)\n",
		"ports of LAN host      192.168.1.11: tcp 0, udp 1 (1 flows)\n",
		"ports of LAN host      14.8.52.86 (this router): tcp 0, udp 1 (1 flows)\n",
		"conntrack              72 of 15360 entries; insert_failed 3, drop 1, early_drop 2\n",
		"port forward           web: tcp 80 -> 192.168.1.2:80: not-usable:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	_ = WriteText(&b, Report{})
	if !strings.Contains(b.String(), "no MAP interface") {
		t.Errorf("empty report: %q", b.String())
	}
}

// TestVersion0StateFile: a state file of the layout before package state
// (recorded in package statetest, as up wrote it for the v6plus seed)
// still gives the full report after an upgrade that left the interface up.
func TestVersion0StateFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "wan_mape.json"), statetest.V0Up, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Collector{States: DirSource{Dir: dir}, Flows: fakeFlows{flows: []Flow{tcp(6016)}},
		Probe: fakeProbe{up: map[string]bool{"map-wan_mape": true}, present: true}, Pressure: somePressure}.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Interfaces) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	it := rep.Interfaces[0]
	if it.Interface != "wan_mape" || it.State != "up" || it.ISP != "v6plus" || it.IPv4 != "14.8.52.86" ||
		it.PSID != 120 || it.Ports != 240 || len(it.PortSets) != 15 || it.PortSets[14] != (PortRange{Lo: 63360, Hi: 63375}) ||
		it.Rule.IP6Prefix != "240b:12::/32" || !it.Rule.Legacy || it.Link != "wan0" || it.MTU != 1460 ||
		!yes(it.TunnelUp) || !yes(it.NFTRules) || it.InUse == nil || it.InUse.Flows != 1 || len(it.Problems) != 0 {
		t.Errorf("report of a version 0 file = %+v", it)
	}
}

// TestCollectNoPortSets: a record without port sets (a failed or early
// up) reports empty lists, not null, as before the port-range type was
// shared with the calculator.
func TestCollectNoPortSets(t *testing.T) {
	st := seedState()
	st.PortSets = nil
	rep, err := Collector{States: fakeSource{states: []state.Record{st}}, Probe: fakeProbe{}}.Collect()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep.Interfaces[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"port_sets":[]`, `"usable_external_ports":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("json lacks %s: %s", want, b)
		}
	}
}

// TestStatusUnknown: what status could not check reads as unknown, in the
// JSON (null) and the text ("unknown"), never as "no" or "0 in use"; and
// an interface that is not up (a failed up) lists no usable ports and no
// per-set table, though its probes work.
func TestStatusUnknown(t *testing.T) {
	eperm := errors.New("operation not permitted")
	failed := seedState()
	failed.State, failed.Error, failed.ErrorCode = "error", "tunnel: injected", "TUNNEL_FAILED"
	for _, tc := range []struct {
		name     string
		c        Collector
		json     []string
		text     []string
		notInTxt []string
	}{
		{"non-root: nothing checkable", Collector{
			States: fakeSource{states: []state.Record{seedState()}},
			Flows:  fakeFlows{err: eperm}, Probe: fakeProbe{err: eperm},
			Pressure: fakePressure{err: eperm},
		}, []string{`"tunnel_up":null`, `"nft_rules":null`, `"ports_in_use":null`, `"usable_external_ports":[[6016,6031]`,
			`"free_ports":null`, `"lan_hosts":null`, `"nat_pressure":null`},
			[]string{"(up: unknown)", "nft rules              unknown\n", "in use: unknown\n", "not checked            conntrack: operation not permitted",
				"free external ports    unknown\n", "conntrack              unknown\n",
				"not checked            NAT pressure counters: operation not permitted"},
			[]string{"nft rules              no", "tcp 0", "port set", "ports of LAN host", "of 240"}},
		{"no kernel probe at all", Collector{States: fakeSource{states: []state.Record{seedState()}}},
			[]string{`"tunnel_up":null`, `"nft_rules":null`, `"ports_in_use":null`},
			[]string{"(up: unknown)", "nft rules              unknown\n", "in use: unknown\n"}, []string{"tcp 0"}},
		{"failed up", Collector{
			States: fakeSource{states: []state.Record{failed}},
			Flows:  fakeFlows{flows: []Flow{tcp(6016), snat(ProtoTCP, "192.168.1.10", 6017)}}, Probe: fakeProbe{up: map[string]bool{}, present: false},
			Pressure: somePressure,
		}, []string{`"tunnel_up":false`, `"nft_rules":false`, `"ports_in_use":null`, `"usable_external_ports":[]`, `"port_sets":[[6016,6031]`,
			`"free_ports":null`, `"lan_hosts":null`, `"nat_pressure":{"count":72,`},
			[]string{"(up: no)", "nft rules              no\n", "in use: - (not up)\n", "usable external ports  - (not up)\n",
				"conntrack              72 of 15360 entries"},
			[]string{"6016-6031 10112", "port set", "tcp 1", "free external ports", "ports of LAN host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := tc.c.Collect()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(rep)
			for _, k := range tc.json {
				if !bytes.Contains(b, []byte(k)) {
					t.Errorf("JSON lacks %s:\n%s", k, b)
				}
			}
			var txt bytes.Buffer
			if err := WriteText(&txt, rep); err != nil {
				t.Fatal(err)
			}
			for _, k := range tc.text {
				if !strings.Contains(txt.String(), k) {
					t.Errorf("text lacks %q:\n%s", k, txt.String())
				}
			}
			for _, k := range tc.notInTxt {
				if strings.Contains(txt.String(), k) {
					t.Errorf("text claims %q:\n%s", k, txt.String())
				}
			}
		})
	}
}

// jsonPaths lists the object keys of v as paths ("interfaces.free_ports.total");
// array elements share their array's path.
func jsonPaths(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out[prefix+k] = true
			jsonPaths(prefix+k+".", e, out)
		}
	case []any:
		for _, e := range x {
			jsonPaths(prefix, e, out)
		}
	}
}

// luciFixture is the status document the LuCI page's tests render
// (openwrt/luci-proto-mape/test/mape.test.js reads the same file). It is
// embedded so the test also runs where the repository is not, e.g. in the
// architecture VMs.
//
//go:embed testdata/luci-status.json
var luciFixture []byte

// TestLuCIFixtureKeys: the status document the LuCI tests render uses only
// keys the backend emits, so the page is tested against the real contract,
// and it has the port-forwarding keys.
func TestLuCIFixtureKeys(t *testing.T) {
	var fixture any
	if err := json.Unmarshal(luciFixture, &fixture); err != nil {
		t.Fatal(err)
	}
	rep, err := Collector{
		States: fakeSource{states: []state.Record{seedState()}},
		Flows:  fakeFlows{flows: []Flow{tcp(6016), snat(ProtoTCP, "192.168.1.10", 6017)}},
		Probe:  fakeProbe{up: map[string]bool{"map-wan_mape": true}, present: true},
		Redirects: fakeRedirects{{Name: "web", Src: "wan", SrcDPort: "80", Enabled: true},
			{Name: "ssh", Src: "wan", SrcDPort: "6020", Enabled: true}},
		Pressure: somePressure,
	}.Collect()
	if err != nil {
		t.Fatal(err)
	}
	var emitted any
	b, _ := json.Marshal(rep)
	if err := json.Unmarshal(b, &emitted); err != nil {
		t.Fatal(err)
	}
	have, want := map[string]bool{}, map[string]bool{}
	jsonPaths("", fixture, have)
	jsonPaths("", emitted, want)
	for k := range have {
		if !want[k] {
			t.Errorf("the LuCI fixture has key %s, which status never emits", k)
		}
	}
	for _, k := range []string{"interfaces.free_ports.sets.free", "interfaces.free_ports.total", "interfaces.free_ports.suggestions",
		"interfaces.lan_hosts.top.address", "interfaces.lan_hosts.total", "interfaces.nat_pressure.insert_failed",
		"interfaces.nat_pressure.drop", "interfaces.nat_pressure.early_drop", "interfaces.nat_pressure.count", "interfaces.nat_pressure.max"} {
		if !have[k] {
			t.Errorf("the LuCI fixture lacks %s", k)
		}
	}
}
