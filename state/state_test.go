package state

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/options"
	"github.com/mapehelper/mapehelper/ruletable"
	"github.com/mapehelper/mapehelper/state/statetest"
)

// The files of package statetest were written by dataplane.State of
// commit fe855e0 (the layout before this package, no "version" key) for the
// v6plus seed: an interface that is up, and an up to the next prefix
// killed after its "setting-up" write. A router upgraded while up keeps
// such a file on tmpfs; every key a reader uses must still arrive.
func TestReadVersion0(t *testing.T) {
	up, err := Parse(statetest.V0Up)
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != 0 || up.Interface != "wan_mape" || up.State != Up || up.ISP != "v6plus" ||
		up.BR != "2404:9200:225:100::64" || up.CE != "240b:12:3456:7800:e:834:5600:7800" ||
		up.IPv4 != "14.8.52.86" || up.IP4Prefix != "14.8.0.0/16" || up.IP6Prefix != "240b:12::/32" ||
		up.EALen != 24 || up.PSIDLen != 8 || up.PSID != 120 || up.Offset != 4 || !up.Legacy ||
		len(up.PortSets) != 15 || up.PortSets[0] != (mapcalc.PortRange{Lo: 6016, Hi: 6031}) || up.Ports != 240 ||
		up.Tunnel != "map-wan_mape" || up.NFTTable != "ip mapehelper_wan_mape" || len(up.NFTChains) != 17 ||
		up.Link != "wan0" || up.MTU != 1460 || up.Netifd ||
		up.Include != "/usr/share/nftables.d/ruleset-post/mapehelper-wan_mape.nft" || up.Updated != "2026-11-23T10:00:00Z" {
		t.Errorf("v0 up record = %+v", up)
	}
	if up.Restorable() {
		t.Error("a version 0 record has no ttl/encaplimit and cannot be restorable")
	}
	if up.CEAddr() != netip.MustParseAddr("240b:12:3456:7800:e:834:5600:7800") {
		t.Errorf("CEAddr = %v", up.CEAddr())
	}
	su, err := Parse(statetest.V0SettingUp)
	if err != nil {
		t.Fatal(err)
	}
	want := []StaleCE{{Link: "wan0", CE: "240b:12:3456:7800:e:834:5600:7800"}}
	if su.State != SettingUp || su.CE != "240b:12:3457:7900:e:834:5700:7900" || !reflect.DeepEqual(su.StaleCE, want) {
		t.Errorf("v0 setting-up record = %+v", su)
	}
}

// TestWriteKeepsVersion0Keys: what Write produces holds every key of the
// version 0 layout with the same JSON type, so an older reader (a
// downgrade, or LuCI reading the file) understands it too.
func TestWriteKeepsVersion0Keys(t *testing.T) {
	var old map[string]any
	if err := json.Unmarshal(statetest.V0SettingUp, &old); err != nil {
		t.Fatal(err)
	}
	r, err := Parse(statetest.V0SettingUp)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r.Version, r.TTL, r.EncapLimit = Version, 64, "ignore"
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(Path(dir, "wan_mape"))
	if err != nil {
		t.Fatal(err)
	}
	var now map[string]any
	if err := json.Unmarshal(b, &now); err != nil {
		t.Fatal(err)
	}
	for k, v := range old {
		if !reflect.DeepEqual(now[k], v) {
			t.Errorf("key %q: version 0 wrote %v, now %v", k, v, now[k])
		}
	}
	if now["version"] != float64(Version) || now["ttl"] != float64(64) || now["encaplimit"] != "ignore" {
		t.Errorf("new keys: version %v ttl %v encaplimit %v", now["version"], now["ttl"], now["encaplimit"])
	}
}

// TestResultRoundTrip: a record written from a calculator result gives the
// same result back, which is what restoring a previous up builds on.
func TestResultRoundTrip(t *testing.T) {
	for _, prefix := range []string{"240b:12:3456:7800::/56", "2400:4050:9234:5600::/56"} {
		res, err := options.Resolve(options.Interface{}, ruletable.Builtin(), netip.MustParsePrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		r := &Record{Version: Version, Interface: "wan_mape", State: Up, ResultJSON: res.JSON(), Link: "wan0", TTL: 64}
		dir := t.TempDir()
		if err := Write(dir, r); err != nil {
			t.Fatal(err)
		}
		back, err := Read(dir, "wan_mape")
		if err != nil {
			t.Fatal(err)
		}
		if !back.Restorable() {
			t.Errorf("%s: record written now is not restorable: %+v", prefix, back)
		}
		got, err := back.Result()
		if err != nil {
			t.Fatal(err)
		}
		if got.CE != res.CE || got.IPv4 != res.IPv4 || got.PSID != res.PSID || got.Rule.BR != res.Rule.BR ||
			got.Rule.IP4Prefix != res.Rule.IP4Prefix || got.Rule.IP6Prefix != res.Rule.IP6Prefix ||
			!reflect.DeepEqual(got.PortSets, res.PortSets) || got.Ports() != res.Ports() {
			t.Errorf("%s: result back = %+v\nwant %+v", prefix, got, res)
		}
	}
	if _, err := (&Record{Interface: "x", ResultJSON: mapcalc.ResultJSON{BR: "nope"}}).Result(); err == nil || !strings.Contains(err.Error(), `br "nope"`) {
		t.Errorf("bad br: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	if r, err := Read(dir, "missing"); r != nil || err != nil {
		t.Errorf("missing file: %v, %v; want nil, nil", r, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
	for name, body := range map[string]string{
		"reversed": `{"port_sets":[[5,4]]}`,
		"syntax":   `{"port_sets":`,
		"stale":    `{"stale_ce":[{"ce":"::1"}]}`,
		"huge":     `{"error":"` + strings.Repeat("x", MaxSize) + `"}`,
	} {
		if err := os.WriteFile(Path(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(dir, name); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := Remove(dir, "missing"); err != nil {
		t.Errorf("Remove of a missing file: %v", err)
	}
}

// TestReadDamaged: every way a state file can exist and still be unusable
// is one error kind, ErrDamaged, which up and down recover from; a missing
// file is no record and no error.
func TestReadDamaged(t *testing.T) {
	good, err := json.Marshal(&Record{Version: Version, Interface: "wan_mape", State: Up})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		make func(path string) error
	}{
		{"truncated", func(p string) error { return os.WriteFile(p, good[:len(good)/2], 0o644) }},
		{"empty", func(p string) error { return os.WriteFile(p, nil, 0o644) }},
		{"not an object", func(p string) error { return os.WriteFile(p, []byte("[1, 2]\n"), 0o644) }},
		{"foreign version", func(p string) error {
			return os.WriteFile(p, []byte(`{"version": 99, "interface": "wan_mape", "state": "up"}`), 0o644)
		}},
		{"another interface", func(p string) error {
			return os.WriteFile(p, []byte(`{"version": 1, "interface": "wan_other", "state": "up"}`), 0o644)
		}},
		{"unreadable (a directory)", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"too large", func(p string) error { return os.WriteFile(p, make([]byte, MaxSize+1), 0o644) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.make(Path(dir, "wan_mape")); err != nil {
				t.Fatal(err)
			}
			r, err := Read(dir, "wan_mape")
			if r != nil || !errors.Is(err, ErrDamaged) {
				t.Fatalf("Read = %+v, %v; want ErrDamaged", r, err)
			}
		})
	}
	if r, err := Read(t.TempDir(), "wan_mape"); r != nil || err != nil {
		t.Fatalf("missing file: Read = %+v, %v", r, err)
	}
}
