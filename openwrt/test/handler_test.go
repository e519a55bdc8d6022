package handlertest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const (
	seedPD   = "240b:12:3456:7800::/56" // v6plus: 14.8.52.86, PSID 120
	seedAddr = "240b:12:3456:7800:1234:5678:9abc:def0"
	// seedAddr64 is the prefix the rule is computed from when the link
	// has only seedAddr: its /64 (options.LinkPrefix).
	seedAddr64 = "240b:12:3456:7800::/64"
	otherPD    = "240b:12:abcd:ef00::/56" // v6plus: 14.8.171.205, PSID 239
)

// upArgv is what the handler must run for interface cfg on link dev.
func upArgv(cfg, dev, prefix string) []string {
	return []string{"up", "--netifd", "--stdin-json", "--interface", cfg, "--link", dev, "--prefix", prefix}
}

// success is the exact netifd conversation of a good setup.
func success(cfg, tunlink, tunnel, ipv4, prefix, zone string) [][]string {
	c := [][]string{
		{"proto_add_host_dependency", cfg, "", tunlink},
		{"ubus", "call", "network.interface." + tunlink, "status"},
		{"proto_init_update", tunnel, "1"},
		{"proto_add_ipv4_address", ipv4, "32"},
		{"proto_add_ipv4_route", "0.0.0.0", "0"},
		{"proto_add_data"},
	}
	if zone != "" {
		c = append(c, []string{"json_add_string", "zone", zone})
	}
	return append(c,
		[]string{"json_add_string", "prefix", prefix},
		[]string{"json_add_string", "tunlink", tunlink},
		[]string{"proto_close_data"},
		[]string{"proto_send_update", cfg},
	)
}

func TestSetup(t *testing.T) {
	stockMap := `{"peeraddr":"2404:9200:225:100::64","ipaddr":"14.8.0.0","ip4prefixlen":16,` +
		`"ip6prefix":"240b:12::","ip6prefixlen":32,"ealen":24,"psidlen":8,"offset":4,` +
		`"legacymap":true,"tunlink":"wan6","mtu":1460,"zone":"wan","encaplimit":"ignore","maptype":"map-e"}`
	tests := []struct {
		name         string
		proto        string
		cfg          string
		config       string
		link         map[string]any
		env          []string
		wantCalls    [][]string
		wantBinArgv  [][]string
		wantTunlink  string
		wantLinkFrom string
	}{
		{
			name:        "minimal mape config with a delegated /56",
			proto:       "mape",
			cfg:         "wanmap",
			config:      `{"tunlink":"wan6"}`,
			link:        linkStatus("eth1", seedPD, "240b:12:3456:7800::1/64"),
			wantCalls:   success("wanmap", "wan6", "map-wanmap", "14.8.52.86", seedPD, ""),
			wantBinArgv: [][]string{upArgv("wanmap", "eth1", seedPD)},
		},
		{
			name:        "a /64 address and no delegation",
			proto:       "mape",
			cfg:         "wanmap",
			config:      `{"tunlink":"wan6","zone":"wan"}`,
			link:        linkStatus("eth1", "", seedAddr+"/64"),
			wantCalls:   success("wanmap", "wan6", "map-wanmap", "14.8.52.86", seedAddr64, "wan"),
			wantBinArgv: [][]string{upArgv("wanmap", "eth1", seedAddr64)},
		},
		{
			name:        "stock map config with every rule option",
			proto:       "map",
			cfg:         "wan_map_long_name",
			config:      stockMap,
			link:        linkStatus("pppoe-wan", seedPD, ""),
			wantCalls:   success("wan_map_long_name", "wan6", "map-wan_m-f5153", "14.8.52.86", seedPD, "wan"), // tunnel.DeviceName
			wantBinArgv: [][]string{append(upArgv("wan_map_long_name", "pppoe-wan", seedPD), "--type", "map-e")},
		},
		{
			// netifd then waits for whichever interface has the IPv6
			// default route (host dependency on ::), as for the stock handler.
			name:   "stock map config without tunlink uses the IPv6 uplink",
			proto:  "map",
			cfg:    "wanmap",
			config: `{"zone":"-"}`,
			link:   linkStatus("eth1", seedPD, ""),
			env:    []string{"FAKE_WAN6=wan6"},
			wantCalls: append([][]string{{"proto_add_host_dependency", "wanmap", "::"}},
				success("wanmap", "wan6", "map-wanmap", "14.8.52.86", seedPD, "")[1:]...),
			wantBinArgv: [][]string{upArgv("wanmap", "eth1", seedPD)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.setUbus(t, "network.interface.wan6", tc.link)
			got := w.setup(t, tc.proto, tc.cfg, tc.config, tc.env...)
			if !reflect.DeepEqual(got, tc.wantCalls) {
				t.Errorf("netifd calls:\n got %q\nwant %q", got, tc.wantCalls)
			}
			bin := w.binCalls(t)
			var argv [][]string
			for _, c := range bin {
				argv = append(argv, c.Argv)
			}
			if !reflect.DeepEqual(argv, tc.wantBinArgv) {
				t.Errorf("mapehelper calls:\n got %q\nwant %q", argv, tc.wantBinArgv)
			}
			// The options reach the binary exactly as netifd handed them.
			if len(bin) > 0 && !sameJSON(t, bin[0].Stdin, tc.config) {
				t.Errorf("stdin = %s, want %s", bin[0].Stdin, tc.config)
			}
		})
	}
}

func TestSetupErrors(t *testing.T) {
	tests := []struct {
		name       string
		config     string
		link       map[string]any
		env        []string
		wantError  []string // proto_notify_error arguments after cfg; "*" matches any message
		wantBlock  bool     // proto_block_restart (else proto_setup_failed)
		wantUp     bool     // the binary was asked (and so must be asked to clean up)
		wantNoDown bool     // ... except when another up/down holds the lock
		real       bool     // the real binary answers up
	}{
		{
			name: "broken rule option", config: `{"tunlink":"wan6","ip6prefix":"240b:12::","ip6prefixlen":32,"ipaddr":"14.8.0.0","ealen":99}`,
			link: linkStatus("eth1", seedPD, ""), wantError: []string{"INVALID_MAP_RULE", "*ealen*"}, wantBlock: true, wantUp: true,
		},
		{
			name: "unsupported type", config: `{"tunlink":"wan6","type":"map-x"}`,
			link: linkStatus("eth1", seedPD, ""), wantError: []string{"UNSUPPORTED_TYPE", "*map-x*"}, wantBlock: true, wantUp: true,
		},
		{
			name: "prefix outside every rule", config: `{"tunlink":"wan6"}`,
			link: linkStatus("eth1", "2001:db8:1:100::/56", ""), wantError: []string{"NO_MATCHING_PD", "*2001:db8:1:100::/56*"}, wantBlock: true, wantUp: true,
		},
		{
			name: "stock maptype wins over type", config: `{"tunlink":"wan6","type":"map-e","maptype":"map-x"}`,
			link: linkStatus("eth1", seedPD, ""), wantError: []string{"UNSUPPORTED_TYPE", "*map-x*"}, wantBlock: true, wantUp: true,
		},
		{
			name: "tunnel link without IPv6 yet", config: `{"tunlink":"wan6"}`,
			link: linkStatus("eth1", "", ""), wantError: []string{"MISSING_PREFIX", "*wan6*"}, wantBlock: true,
		},
		{
			name: "no tunlink and no IPv6 uplink", config: `{}`,
			link: linkStatus("eth1", seedPD, ""), wantError: []string{"NO_TUNLINK", "*tunlink*"}, wantBlock: true,
		},
		{
			name: "binary fails without an answer", config: `{"tunlink":"wan6"}`,
			link: linkStatus("eth1", seedPD, ""), env: []string{"MAPEHELPER_FAKE_MODE=crash"},
			wantError: []string{"FAILED"}, wantBlock: true, wantUp: true,
		},
		{
			name: "kernel without ip6_tunnel", config: `{"tunlink":"wan6"}`,
			link: linkStatus("eth1", seedPD, ""), env: []string{"MAPEHELPER_FAKE_MODE=nokernel"},
			wantError: []string{"NO_KERNEL_SUPPORT", "*ip6_tunnel*"}, wantBlock: true, wantUp: true,
		},
		{
			name: "another up holds the lock", config: `{"tunlink":"wan6"}`,
			link: linkStatus("eth1", seedPD, ""), env: []string{"MAPEHELPER_FAKE_MODE=busy"},
			wantError: []string{"BUSY", "*lock*"}, wantBlock: false, wantUp: true, wantNoDown: true,
		},
	}
	// The rule errors again, answered by the real cmd/mapehelper: its
	// --netifd error output is what the handler reads. (Its success path
	// needs ip6_tunnel, which this host lacks; the fake covers that.)
	for _, tc := range tests[:4] {
		tc.name, tc.real = "real binary: "+tc.name, true
		tests = append(tests, tc)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.setUbus(t, "network.interface.wan6", tc.link)
			env := tc.env
			if tc.real {
				env = append(env, "MAPEHELPER_REAL="+realBinary(t))
			}
			got := w.setup(t, "mape", "wanmap", tc.config, env...)
			var notify []string
			var block, failed bool
			for _, c := range got {
				switch c[0] {
				case "proto_notify_error":
					notify = c[1:]
				case "proto_block_restart":
					block = true
				case "proto_setup_failed":
					failed = true
				case "proto_init_update", "proto_send_update", "proto_add_ipv4_address", "proto_add_ipv4_route":
					t.Errorf("failed setup reported %q to netifd", c)
				}
			}
			if len(notify) == 0 || notify[0] != "wanmap" || !matchArgs(notify[1:], tc.wantError) {
				t.Errorf("proto_notify_error = %q, want wanmap %q", notify, tc.wantError)
			}
			if block != tc.wantBlock || failed == tc.wantBlock {
				t.Errorf("block_restart=%v setup_failed=%v, want block_restart=%v", block, failed, tc.wantBlock)
			}
			bin := w.binCalls(t)
			if !tc.wantUp {
				if len(bin) != 0 {
					t.Errorf("binary called although setup could not start: %q", bin)
				}
				return
			}
			if tc.wantNoDown {
				if len(bin) != 1 || bin[0].Argv[0] != "up" {
					t.Errorf("binary calls = %q, want up alone (the lock holder's work is not ours)", bin)
				}
				return
			}
			// Nothing is left behind: whatever up made is removed again.
			if len(bin) != 2 || bin[0].Argv[0] != "up" ||
				!reflect.DeepEqual(bin[1].Argv, []string{"down", "--interface", "wanmap"}) {
				t.Errorf("binary calls = %q, want up then down --interface wanmap", bin)
			}
		})
	}
}

func TestTeardown(t *testing.T) {
	for _, proto := range []string{"mape", "map"} {
		w := newWorld(t)
		if got := w.teardown(t, proto, "wanmap"); len(got) != 0 {
			t.Errorf("%s teardown told netifd %q, want nothing (netifd drops address and route itself)", proto, got)
		}
		bin := w.binCalls(t)
		if len(bin) != 1 || !reflect.DeepEqual(bin[0].Argv, []string{"down", "--interface", "wanmap"}) {
			t.Errorf("%s teardown ran %q, want down --interface wanmap", proto, bin)
		}
	}
}

// TestInitConfig checks that both protocols declare every stock map option
// with the stock types, so netifd hands all of them to the handler, and
// our own vrange.
func TestInitConfig(t *testing.T) {
	want := map[string]string{
		"maptype": "string", "type": "string", "rule": "string", "ipaddr": "string", "ip4prefixlen": "int",
		"ip6prefix": "string", "ip6prefixlen": "int", "peeraddr": "string", "ealen": "int",
		"psidlen": "int", "psid": "int", "offset": "int", "legacymap": "boolean",
		"tunlink": "string", "mtu": "int", "ttl": "int", "zone": "string", "encaplimit": "string",
		"vrange": "boolean",
	}
	for _, proto := range []string{"mape", "map"} {
		w := newWorld(t)
		calls := w.run(t, `INCLUDE_ONLY=1; . "$RECORDER"; . ./`+proto+`.sh; proto_`+proto+`_init_config; _rec flags "$no_device" "$available"`)
		got := map[string]string{}
		for _, c := range calls {
			if typ, ok := strings.CutPrefix(c[0], "proto_config_add_"); ok {
				got[c[1]] = typ
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s declares %v, want %v", proto, got, want)
		}
		if last := calls[len(calls)-1]; !reflect.DeepEqual(last, []string{"flags", "1", "1"}) {
			t.Errorf("%s: no_device/available = %q, want 1 1", proto, last[1:])
		}
	}
}

// TestHostileValues feeds values that would run commands if they ever
// reached a shell unquoted or through eval; none may, and each must arrive
// byte for byte where it belongs.
func TestHostileValues(t *testing.T) {
	hostile := "a'b\"c$(touch PWNED)`touch PWNED2`;touch PWNED3\n$HOME ${HOME} \\\" -x"
	long := strings.Repeat("$(touch PWNED4)", 600) // 9 KB
	zone := hostile + long

	t.Run("zone", func(t *testing.T) {
		w := newWorld(t)
		w.setUbus(t, "network.interface.wan6", linkStatus("eth1", seedPD, ""))
		config := mustJSON(t, map[string]any{"tunlink": "wan6", "zone": zone, "encaplimit": hostile})
		got := w.setup(t, "mape", "wanmap", config)
		if !reflect.DeepEqual(got, success("wanmap", "wan6", "map-wanmap", "14.8.52.86", seedPD, zone)) {
			t.Errorf("netifd calls: %q", got)
		}
		bin := w.binCalls(t)
		if len(bin) != 1 || !sameJSON(t, bin[0].Stdin, config) {
			t.Errorf("binary did not get the options verbatim: %q", bin)
		}
		noPwned(t, w)
	})
	t.Run("rule", func(t *testing.T) {
		w := newWorld(t)
		w.setUbus(t, "network.interface.wan6", linkStatus("eth1", seedPD, ""))
		got := w.setup(t, "mape", "wanmap", mustJSON(t, map[string]any{"tunlink": "wan6", "rule": hostile, "peeraddr": long}))
		if len(got) < 3 || got[2][0] != "proto_notify_error" || got[2][2] != "INVALID_MAP_RULE" {
			t.Errorf("netifd calls: %q", got)
		}
		noPwned(t, w)
	})
	t.Run("interface name", func(t *testing.T) {
		w := newWorld(t)
		w.setUbus(t, "network.interface.wan6", linkStatus("eth1", seedPD, ""))
		cfg := "x$(touch PWNED)'\"\n"
		got := w.setup(t, "mape", cfg, `{"tunlink":"wan6"}`)
		if len(got) == 0 || got[len(got)-1][0] != "proto_send_update" || got[len(got)-1][1] != cfg {
			t.Errorf("netifd calls: %q", got)
		}
		if bin := w.binCalls(t); len(bin) != 1 || bin[0].Argv[4] != cfg {
			t.Errorf("binary calls: %q", bin)
		}
		noPwned(t, w)
	})
	t.Run("tunlink", func(t *testing.T) {
		w := newWorld(t)
		got := w.setup(t, "mape", "wanmap", mustJSON(t, map[string]any{"tunlink": "wan6 $(touch PWNED)"}))
		want := [][]string{
			{"proto_notify_error", "wanmap", "NO_TUNLINK", "tunlink must name an interface"},
			{"proto_block_restart", "wanmap"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("netifd calls:\n got %q\nwant %q", got, want)
		}
		noPwned(t, w)
	})
}

// TestPrefixChange: the hotplug script sets up again exactly the MAP
// interfaces whose prefix is stale or that waited for one, and the new
// setup uses the new prefix.
func TestPrefixChange(t *testing.T) {
	uci := mustJSON(t, map[string]any{
		"wanmap":  map[string]any{".type": "interface", "proto": "mape", "tunlink": "wan6"},
		"automap": map[string]any{".type": "interface", "proto": "map"}, // no tunlink: the IPv6 uplink
		"oldmap":  map[string]any{".type": "interface", "proto": "map", "tunlink": "wan6"},
		"other":   map[string]any{".type": "interface", "proto": "mape", "tunlink": "wan6b"},
		"lan":     map[string]any{".type": "interface", "proto": "static", "tunlink": "wan6"},
		"dev":     map[string]any{".type": "device", "proto": "mape", "tunlink": "wan6"},
	})
	w := newWorld(t)
	w.setUbus(t, "network.interface.wan6", linkStatus("eth1", seedPD, ""))
	w.setup(t, "mape", "wanmap", `{"tunlink":"wan6"}`)
	w.binCalls(t)

	hotplug := func(action string, env ...string) []string {
		t.Helper()
		calls := w.run(t, `. "$HOTPLUG"`, append([]string{"HOTPLUG=" + w.hotplug, "FAKE_UCI=" + uci,
			"ACTION=" + action, "INTERFACE=wan6"}, env...)...)
		var ifups []string
		for _, c := range calls {
			if c[0] == "ifup" {
				ifups = append(ifups, c[1])
			}
		}
		return ifups
	}
	up := func(name, prefix string) {
		w.setUbus(t, "network.interface."+name, map[string]any{"up": true, "data": map[string]any{"prefix": prefix, "tunlink": "wan6"}})
	}
	down := func(name, code string) {
		w.setUbus(t, "network.interface."+name, map[string]any{"up": false, "errors": []any{map[string]any{"subsystem": "mape", "code": code}}})
	}

	up("wanmap", seedPD)
	up("automap", seedPD)
	down("oldmap", "INVALID_MAP_RULE")
	if got := hotplug("ifupdate", "IFUPDATE_PREFIXES=1"); len(got) != 0 {
		t.Errorf("prefix unchanged: ifup %q, want none", got)
	}

	if got := hotplug("ifup"); len(got) != 0 {
		t.Errorf("wan6 up, nothing stale or waiting: ifup %q, want none", got)
	}
	if got := hotplug("ifdown", "IFUPDATE_PREFIXES=1"); len(got) != 0 {
		t.Errorf("ACTION=ifdown: ifup %q, want none", got)
	}
	down("oldmap", "MISSING_PREFIX")
	if got := hotplug("ifup"); !reflect.DeepEqual(got, []string{"oldmap"}) {
		t.Errorf("wan6 up, oldmap blocked for want of a prefix: ifup %q, want [oldmap]", got)
	}
	down("oldmap", "INVALID_MAP_RULE")

	// The link up without any prefix: nothing blocked is retried (it would
	// fail again), only a running interface is (its prefix is gone).
	down("oldmap", "MISSING_PREFIX")
	w.setUbus(t, "network.interface.wan6", map[string]any{"up": true, "l3_device": "eth1", "device": "eth1"})
	if got := hotplug("ifupdate", "IFUPDATE_PREFIXES=1"); !sameSet(got, "wanmap", "automap") {
		t.Errorf("every prefix gone: ifup %q, want wanmap and automap (running), not oldmap (waiting)", got)
	}
	down("oldmap", "INVALID_MAP_RULE")

	w.setUbus(t, "network.interface.wan6", linkStatus("eth1", otherPD, ""))
	if got := hotplug("ifupdate"); len(got) != 0 {
		t.Errorf("ifupdate without address or prefix change: ifup %q, want none", got)
	}
	if got := hotplug("ifupdate", "IFUPDATE_PREFIXES=1"); !sameSet(got, "wanmap", "automap") {
		t.Errorf("prefix changed: ifup %q, want wanmap and automap (set up over wan6)", got)
	}
	down("oldmap", "MISSING_PREFIX")
	down("automap", "NO_TUNLINK")
	if got := hotplug("ifupdate", "IFUPDATE_ADDRESSES=1"); !sameSet(got, "wanmap", "oldmap") {
		t.Errorf("prefix changed, oldmap waiting for a prefix: ifup %q, want wanmap and oldmap", got)
	}
	if got := hotplug("ifup", "FAKE_WAN6=wan6"); !sameSet(got, "wanmap", "oldmap", "automap") {
		t.Errorf("wan6 up and now the IPv6 uplink: ifup %q, want wanmap, oldmap and automap", got)
	}
	up("automap", otherPD)
	down("oldmap", "INVALID_MAP_RULE")

	// What ifup then does: setup again, now from the new prefix.
	got := w.setup(t, "mape", "wanmap", `{"tunlink":"wan6"}`)
	if want := success("wanmap", "wan6", "map-wanmap", "14.8.171.205", otherPD, ""); !reflect.DeepEqual(got, want) {
		t.Errorf("re-setup:\n got %q\nwant %q", got, want)
	}
	if bin := w.binCalls(t); len(bin) != 1 || !reflect.DeepEqual(bin[0].Argv, upArgv("wanmap", "eth1", otherPD)) {
		t.Errorf("re-setup binary calls: %q", bin)
	}
}

// TestPrefixChangeSameRule: the hotplug script compares the prefix the
// rule is computed from, not address strings. Reordered lists, a new
// address in the same /64 and an extra prefix leave a running interface
// alone (an ifup drops every flow); the prefix in use leaving the link or
// being deprecated sets it up again.
func TestPrefixChangeSameRule(t *testing.T) {
	uci := mustJSON(t, map[string]any{
		"wanmap": map[string]any{".type": "interface", "proto": "mape", "tunlink": "wan6"},
	})
	entry := func(addr string, mask, preferred int) map[string]any {
		return map[string]any{"address": addr, "mask": mask, "preferred": preferred, "valid": 7200}
	}
	const (
		a1 = "240b:12:3456:7800:1234:5678:9abc:def0"
		a2 = "240b:12:3456:7800::99" // same /64
		a3 = "240b:12:3456:7801::5"  // another /64
	)
	for _, tc := range []struct {
		name     string
		used     string // data.prefix of the running setup
		prefixes []any
		addrs    []any
		ifup     bool
	}{
		{"prefixes reordered", seedPD, []any{entry("240b:12:abcd:ef00::", 56, 3600), entry("240b:12:3456:7800::", 56, 3600)}, nil, false},
		{"a second prefix", seedPD, []any{entry("240b:12:3456:7800::", 56, 3600), entry("240b:12:abcd:ef00::", 56, 3600)}, nil, false},
		{"addresses reordered, PD unchanged", seedPD, []any{entry("240b:12:3456:7800::", 56, 3600)},
			[]any{entry(a2, 64, 3600), entry(a1, 64, 3600)}, false},
		{"no PD: a new address in the same /64 first", seedAddr64, nil, []any{entry(a2, 64, 3600), entry(a1, 64, 3600)}, false},
		{"no PD: recorded as a bare address by an earlier version", seedAddr, nil, []any{entry(a2, 64, 3600), entry(a1, 64, 3600)}, false},
		{"prefix in use gone", seedPD, []any{entry("240b:12:abcd:ef00::", 56, 3600)}, nil, true},
		{"prefix in use deprecated", seedPD, []any{entry("240b:12:3456:7800::", 56, 0), entry("240b:12:abcd:ef00::", 56, 3600)}, nil, true},
		{"no PD: the /64 in use gone", seedAddr64, nil, []any{entry(a3, 64, 3600)}, true},
		{"every prefix and address gone, link still up", seedPD, nil, nil, true},
		{"no PD: every address gone, link still up", seedAddr64, nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			link := map[string]any{"up": true, "l3_device": "eth1", "device": "eth1"}
			if tc.prefixes != nil {
				link["ipv6-prefix"] = tc.prefixes
			}
			if tc.addrs != nil {
				link["ipv6-address"] = tc.addrs
			}
			w.setUbus(t, "network.interface.wan6", link)
			w.setUbus(t, "network.interface.wanmap", map[string]any{"up": true, "data": map[string]any{"prefix": tc.used, "tunlink": "wan6"}})
			for _, env := range []string{"IFUPDATE_PREFIXES=1", "IFUPDATE_ADDRESSES=1"} {
				calls := w.run(t, `. "$HOTPLUG"`, "HOTPLUG="+w.hotplug, "FAKE_UCI="+uci, "ACTION=ifupdate", "INTERFACE=wan6", env)
				var ifups []string
				for _, c := range calls {
					if c[0] == "ifup" {
						ifups = append(ifups, c[1])
					}
				}
				if want := map[bool]int{true: 1, false: 0}[tc.ifup]; len(ifups) != want {
					t.Errorf("%s: ifup %q, want %d", env, ifups, want)
				}
			}
		})
	}
}

// sameSet reports whether got holds exactly the names in want, in any order.
func sameSet(got []string, want ...string) bool {
	g := append([]string(nil), got...)
	w := append([]string(nil), want...)
	sort.Strings(g)
	sort.Strings(w)
	return reflect.DeepEqual(g, w)
}

func noPwned(t *testing.T, w *world) {
	t.Helper()
	for _, dir := range []string{filepath.Join(w.root, "lib/netifd/proto"), w.root, filepath.Dir(w.root)} {
		for _, n := range []string{"PWNED", "PWNED2", "PWNED3", "PWNED4"} {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				t.Errorf("a hostile value ran a command: %s exists", filepath.Join(dir, n))
			}
		}
	}
}

// matchArgs compares arguments with patterns: "*x*" means "contains x".
func matchArgs(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		if inner, ok := strings.CutPrefix(w, "*"); ok && strings.HasSuffix(inner, "*") {
			if !strings.Contains(got[i], strings.TrimSuffix(inner, "*")) {
				return false
			}
		} else if got[i] != w {
			return false
		}
	}
	return true
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}

// TestErrorCodesTranslated: every code the handler itself reports is known
// to LuCI's protocol page, which registers a sentence for each code it knows.
func TestErrorCodesTranslated(t *testing.T) {
	lib, err := os.ReadFile("../files/lib/netifd/mapehelper.sh")
	must(t, err)
	js, err := os.ReadFile("../luci-proto-mape/htdocs/luci-static/resources/protocol/mape.js")
	must(t, err)
	codes := map[string]bool{"FAILED": true} // the fallback for a silent failure
	for _, m := range regexp.MustCompile(`mapehelper_fail "\$cfg" ([A-Z_]+)`).FindAllSubmatch(lib, -1) {
		codes[string(m[1])] = true
	}
	if len(codes) < 3 {
		t.Fatalf("found only %v in the handler", codes)
	}
	for code := range codes {
		if !regexp.MustCompile(`\b` + code + `\b`).Match(js) {
			t.Errorf("handler code %s has no sentence in mape.js", code)
		}
	}
}
