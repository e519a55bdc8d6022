package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(&env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestStatusCommand(t *testing.T) {
	dir := t.TempDir()
	st := `{"interface":"wan_mape","state":"up","ipv4":"14.8.52.86","psid":120,"port_sets":[[6016,6031]],"tunnel":"map-test-absent","nft_table":"inet mapehelper-test-absent"}`
	if err := os.WriteFile(filepath.Join(dir, "wan_mape.json"), []byte(st), 0o644); err != nil {
		t.Fatal(err)
	}
	fw := filepath.Join(dir, "firewall")
	if err := os.WriteFile(fw, []byte("config redirect\n\toption name 'web'\n\toption src 'wan'\n\toption src_dport '80'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	leases := filepath.Join(dir, "miniupnpd.leases")
	if err := os.WriteFile(leases, []byte("UDP:6016:192.168.1.10:3074:0:console\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "", "status", "--json", "--state-dir", dir, "--firewall", fw, "--upnp-leases", leases)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Interfaces []struct {
			Interface string `json:"interface"`
			Ports     int    `json:"ports"`
			TunnelUp  bool   `json:"tunnel_up"`
			Redirects []struct {
				Name    string `json:"name"`
				Verdict string `json:"verdict"`
			} `json:"redirects"`
			FreePorts *struct {
				Total       int      `json:"total"`
				Suggestions []uint16 `json:"suggestions"`
			} `json:"free_ports"`
			NATPressure *struct {
				Max uint64 `json:"max"`
			} `json:"nat_pressure"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rep.Interfaces) != 1 || rep.Interfaces[0].Interface != "wan_mape" || rep.Interfaces[0].Ports != 16 || rep.Interfaces[0].TunnelUp {
		t.Errorf("report = %+v", rep)
	}
	if r := rep.Interfaces[0].Redirects; len(r) != 1 || r[0].Name != "web" || r[0].Verdict != "not-usable" {
		t.Errorf("redirects = %+v", r)
	}
	// The kernel is only readable as root (ctnetlink needs CAP_NET_ADMIN):
	// then the host's conntrack has no flow of this documentation address,
	// and the UPnP lease takes 6016. Otherwise both read as unknown.
	if it := rep.Interfaces[0]; os.Geteuid() == 0 {
		if it.FreePorts == nil || it.FreePorts.Total != 15 || len(it.FreePorts.Suggestions) != 8 || it.FreePorts.Suggestions[0] != 6017 ||
			it.NATPressure == nil || it.NATPressure.Max == 0 {
			t.Errorf("free ports %+v, NAT pressure %+v: %s", it.FreePorts, it.NATPressure, out)
		}
	} else if it.FreePorts != nil || it.NATPressure != nil {
		t.Errorf("non-root: free ports %+v, NAT pressure %+v", it.FreePorts, it.NATPressure)
	}
	code, out, _ = runCmd(t, "", "status", "--state-dir", dir, "--interface", "other")
	if code != 0 || !strings.Contains(out, "no MAP interface") {
		t.Errorf("filtered: %d %q", code, out)
	}
	if code, _, _ := runCmd(t, "", "status", "extra"); code != 2 {
		t.Errorf("extra argument: exit %d, want 2", code)
	}
}

func TestRPCDCommand(t *testing.T) {
	code, out, _ := runCmd(t, "", "rpcd", "list")
	if code != 0 || !strings.Contains(out, `"calc":{`) || !strings.Contains(out, `"status":{`) {
		t.Fatalf("list: %d %s", code, out)
	}
	code, out, _ = runCmd(t, `{"prefix":"240b:12:3456:7800::/56"}`, "rpcd", "call", "calc")
	if code != 0 || !strings.Contains(out, `"ipv4":"14.8.52.86"`) || !strings.Contains(out, `"ports":240`) {
		t.Fatalf("calc: %d %s", code, out)
	}
	code, out, _ = runCmd(t, `{"prefix":"nonsense"}`, "rpcd", "call", "calc")
	if code != 0 || !strings.Contains(out, `"code":"INVALID_INPUT"`) {
		t.Fatalf("bad calc: %d %s", code, out)
	}
	if code, _, _ := runCmd(t, "", "rpcd"); code != 2 {
		t.Errorf("no method: exit %d, want 2", code)
	}
}
