package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestCalcJSON(t *testing.T) {
	for _, in := range []string{"240b:12:3456:7800::/56", "240b:12:3456:7800:1234::1"} {
		code, out, errs := runCLI(t, "calc", "--json", in)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", in, code, errs)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"br", "ce", "ealen", "ip4prefix", "ip6prefix", "ipv4", "isp", "legacy", "offset", "port_sets", "ports", "psid", "psidlen"}
		if !slices.Equal(keys, want) {
			t.Fatalf("keys %v, want %v", keys, want)
		}
		sets := m["port_sets"].([]any)
		first, last := sets[0].([]any), sets[len(sets)-1].([]any)
		if m["isp"] != "v6plus" || m["ipv4"] != "14.8.52.86" || m["psid"] != 120.0 || m["ce"] != "240b:12:3456:7800:e:834:5600:7800" ||
			m["br"] != "2404:9200:225:100::64" || m["ports"] != 240.0 || len(sets) != 15 ||
			first[0] != 6016.0 || first[1] != 6031.0 || last[0] != 63360.0 || last[1] != 63375.0 {
			t.Fatalf("%s: %s", in, out)
		}
	}
}

func TestCalcOCN(t *testing.T) {
	code, out, _ := runCLI(t, "calc", "--json", "2400:4050:9234:5600::/56")
	var m struct {
		ISP      string      `json:"isp"`
		Ports    int         `json:"ports"`
		PortSets [][2]uint16 `json:"port_sets"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m.ISP != "ocn" || m.Ports != 1008 || len(m.PortSets) != 63 {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestCalcHuman(t *testing.T) {
	code, out, _ := runCLI(t, "calc", "240b:12:3456:7800::/56")
	for _, want := range []string{"v6plus", "14.8.52.86", "240b:12:3456:7800:e:834:5600:7800", "PSID       120", "240 in 15 sets", "6016-6031", "63360-63375"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("human output lacks %q (exit %d):\n%s", want, code, out)
		}
	}
}

func TestCalcErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"garbage", []string{"calc", "garbage"}, 1, "not an IPv6 address"},
		{"ipv4", []string{"calc", "10.0.0.1"}, 1, "is IPv4"},
		{"unknown ISP", []string{"calc", "2001:db8::/56"}, 1, "no MAP rule matches"},
		{"ealen inconsistent", []string{"calc", "--ip6prefix", "240b:12::", "--ip6prefixlen", "32", "--ipaddr", "14.8.0.0", "--ip4prefixlen", "16", "--ealen", "20", "--psidlen", "8", "240b:12:3456:7800::/56"}, 1, "ealen"},
		{"too short", []string{"calc", "240b:12:3456::/48"}, 1, "shorter than"},
		{"no argument", []string{"calc"}, 2, "exactly one"},
		{"bad flag", []string{"calc", "--nope", "x"}, 2, "nope"},
		{"bad flag value", []string{"calc", "--ealen", "x", "240b:12:3456:7800::/56"}, 2, "whole number"},
		{"missing rules file", []string{"calc", "--rules", "/nonexistent.csv", "240b:12:3456:7800::/56"}, 1, "--rules"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d containing %q", code, errs, tt.code, tt.want)
			}
			if tt.code == 1 && strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("error is not one line: %q", errs)
			}
		})
	}
}

func TestCalcUserTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.csv")
	csv := "isp,br,ip6prefix,ip6prefixlen,ip4prefix,ip4prefixlen,ealen,psidlen,offset\nlab,2001:db8::64,2001:db8::,40,192.0.2.0,24,16,8,4\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "calc", "--json", "--rules", path, "2001:db8:12:3400::/56")
	if code != 0 || !strings.Contains(out, `"isp":"lab"`) || !strings.Contains(out, `"ipv4":"192.0.2.18"`) {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	// The user's table replaces the built-in one.
	if code, _, _ := runCLI(t, "calc", "--rules", path, "240b:12:3456:7800::/56"); code != 1 {
		t.Fatalf("built-in rule still used with --rules: exit %d", code)
	}
}

func TestHelpAndVersion(t *testing.T) {
	if code, out, _ := runCLI(t, "--help"); code != 0 || !strings.Contains(out, "calc") {
		t.Fatalf("--help: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "mapehelper ") {
		t.Fatalf("version: %d %s", code, out)
	}
	if code, _, errs := runCLI(t, "calc", "--help"); code != 0 || !strings.Contains(errs, "PREFIX-OR-ADDRESS") {
		t.Fatalf("calc --help: %d %s", code, errs)
	}
}
