// Package handlertest runs the netifd protocol handlers (openwrt/files) the
// way netifd does, but against a recorder: BusyBox ash sources a handler with
// INCLUDE_ONLY=1 after fake/recorder.sh, which logs every proto_* call (and ifup); ubus
// and jsonfilter are small stand-ins on PATH; mapehelper is this test
// binary answering with the real calculator (see fakebin_test.go).
package handlertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv("MAPEHELPER_FAKE") == "1" {
		os.Exit(fakeMain(os.Args[1:]))
	}
	code := m.Run()
	if realBin.dir != "" {
		os.RemoveAll(realBin.dir)
	}
	os.Exit(code)
}

// realBin is cmd/mapehelper built once for the tests that talk to it.
var realBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// realBinary builds the real mapehelper and returns its path.
func realBinary(t *testing.T) string {
	t.Helper()
	realBin.once.Do(func() {
		realBin.dir, realBin.err = os.MkdirTemp("", "mapehelper-bin")
		if realBin.err != nil {
			return
		}
		realBin.path = filepath.Join(realBin.dir, "mapehelper")
		out, err := exec.Command("go", "build", "-o", realBin.path, "../../cmd/mapehelper").CombinedOutput()
		if err != nil {
			realBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if realBin.err != nil {
		t.Fatal(realBin.err)
	}
	return realBin.path
}

// world is one throw-away router: /lib/netifd with the handlers under test,
// a bin directory of stand-ins, the ubus answers and the logs.
type world struct {
	root    string // holds lib/netifd/{mapehelper.sh,proto/*.sh}
	bin     string // stand-ins: ubus jsonfilter mapehelper recorder.sh
	ubus    string // FAKE_UBUS: one file per "object.method"
	record  string // RECORD: proto_* and stand-in calls (see readCalls)
	binlog  string // MAPEHELPER_FAKE_LOG
	hotplug string // the hotplug script, pointed at this world's files
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		// Never a skip: CI installs these (.ci/apt/openwrt.txt).
		t.Fatalf("%s is needed to run the handlers (apt-get install %s)", name, name)
	}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	requireTool(t, "busybox")
	requireTool(t, "jq")
	dir := t.TempDir()
	w := &world{
		root:   filepath.Join(dir, "root"),
		bin:    filepath.Join(dir, "bin"),
		ubus:   filepath.Join(dir, "ubus"),
		record: filepath.Join(dir, "record.jsonl"),
		binlog: filepath.Join(dir, "mapehelper.jsonl"),
	}
	for _, d := range []string{filepath.Join(w.root, "lib/netifd/proto"), w.bin, w.ubus} {
		must(t, os.MkdirAll(d, 0o755))
	}
	copyFile(t, "../files/lib/netifd/mapehelper.sh", filepath.Join(w.root, "lib/netifd/mapehelper.sh"))
	copyFile(t, "../files/lib/netifd/proto/mape.sh", filepath.Join(w.root, "lib/netifd/proto/mape.sh"))
	copyFile(t, "../files/lib/netifd/proto/map.sh", filepath.Join(w.root, "lib/netifd/proto/map.sh"))
	for _, f := range []string{"recorder.sh", "jsonfilter", "ubus"} {
		copyFile(t, filepath.Join("fake", f), filepath.Join(w.bin, f))
	}
	self, err := os.Executable()
	must(t, err)
	// With MAPEHELPER_REAL set, `up` is recorded by the stand-in and
	// answered by the real binary (see realBinary), its state and fw4
	// include kept out of the host's directories.
	wrapper := fmt.Sprintf(`#!/bin/sh
if [ "$1" = up ] && [ -n "$MAPEHELPER_REAL" ]; then
	opts="$(cat)"
	printf '%%s' "$opts" | MAPEHELPER_FAKE=1 MAPEHELPER_FAKE_MODE=record %[1]s "$@"
	printf '%%s' "$opts" | "$MAPEHELPER_REAL" "$@" --state-dir "$MAPEHELPER_STATE" --include-dir ""
	exit
fi
MAPEHELPER_FAKE=1 exec %[1]s "$@"
`, shQuote(self))
	must(t, os.WriteFile(filepath.Join(w.bin, "mapehelper"), []byte(wrapper), 0o755))

	hp, err := os.ReadFile("../files/etc/hotplug.d/iface/95-mapehelper")
	must(t, err)
	s := strings.Replace(string(hp), ". /lib/functions.sh", ". "+shQuote(filepath.Join(w.bin, "recorder.sh")), 1)
	s = strings.Replace(s, ". /lib/netifd/mapehelper.sh", ". "+shQuote(filepath.Join(w.root, "lib/netifd/mapehelper.sh")), 1)
	s = strings.Replace(s, ". /lib/functions/network.sh", ": recorder.sh stands in for network.sh too", 1)
	if s == string(hp) {
		t.Fatal("hotplug script no longer sources the expected files")
	}
	w.hotplug = filepath.Join(dir, "95-mapehelper")
	must(t, os.WriteFile(w.hotplug, []byte(s), 0o755))
	return w
}

// setUbus makes `ubus call OBJECT status` answer with v (marshalled).
func (w *world) setUbus(t *testing.T, object string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(w.ubus, object+".status"), b, 0o644))
}

// linkStatus is what `ubus call network.interface.wan6 status` reports,
// reduced to the fields the handler reads.
func linkStatus(dev, prefix, addr string) map[string]any {
	st := map[string]any{"up": true, "l3_device": dev, "device": dev}
	if prefix != "" {
		a, m, _ := strings.Cut(prefix, "/")
		st["ipv6-prefix"] = []any{map[string]any{"address": a, "mask": atoi(m), "preferred": 3600, "valid": 7200}}
	}
	if addr != "" {
		a, m, _ := strings.Cut(addr, "/")
		st["ipv6-address"] = []any{map[string]any{"address": a, "mask": atoi(m)}}
	}
	return st
}

// run executes script with BusyBox ash in /lib/netifd/proto (where netifd
// runs handlers) and returns the calls recorded meanwhile. The script finds
// the recorder as "$RECORDER".
func (w *world) run(t *testing.T, script string, env ...string) [][]string {
	t.Helper()
	must(t, os.WriteFile(w.record, nil, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "busybox", "ash", "-c", script)
	cmd.Dir = filepath.Join(w.root, "lib/netifd/proto")
	cmd.Env = append([]string{
		"PATH=" + w.bin + ":/usr/sbin:/usr/bin:/sbin:/bin",
		"RECORDER=" + filepath.Join(w.bin, "recorder.sh"),
		"RECORD=" + w.record,
		"FAKE_UBUS=" + w.ubus,
		"MAPEHELPER_FAKE_LOG=" + w.binlog,
		"MAPEHELPER_RETRY_DELAY=0",
		"MAPEHELPER_STATE=" + filepath.Join(w.root, "state"), // the real binary's files, if it ever got that far
		"HOME=" + w.root,
	}, env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("script timed out:\n%s", out)
	}
	if err != nil {
		// The handler's own return status does not matter to netifd; only
		// what it reported does. Log it for failing tests.
		t.Logf("script exit: %v", err)
	}
	if len(out) > 0 {
		t.Logf("script output:\n%s", out)
	}
	return readCalls(t, w.record)
}

// setup sources handler (mape or map) the netifd way and runs its setup for
// interface cfg with netifd's option JSON config.
func (w *world) setup(t *testing.T, proto, cfg, config string, env ...string) [][]string {
	t.Helper()
	script := `INCLUDE_ONLY=1; . "$RECORDER"; . ./` + proto + `.sh; json_load "$CONFIG"; proto_` + proto + `_setup "$CFG" ""`
	return w.run(t, script, append([]string{"CONFIG=" + config, "CFG=" + cfg}, env...)...)
}

func (w *world) teardown(t *testing.T, proto, cfg string) [][]string {
	t.Helper()
	script := `INCLUDE_ONLY=1; . "$RECORDER"; . ./` + proto + `.sh; json_load '{}'; proto_` + proto + `_teardown "$CFG" ""`
	return w.run(t, script, "CFG="+cfg)
}

// binCalls returns and forgets what the stand-in binary was asked.
func (w *world) binCalls(t *testing.T) []fakeCall {
	t.Helper()
	b, err := os.ReadFile(w.binlog)
	if os.IsNotExist(err) {
		return nil
	}
	must(t, err)
	must(t, os.Remove(w.binlog))
	var calls []fakeCall
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var c fakeCall
		must(t, json.Unmarshal([]byte(line), &c))
		calls = append(calls, c)
	}
	return calls
}

// readCalls parses the recorder's log: per call, the number of words and
// then the words, each terminated by a NUL byte.
func readCalls(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	words := strings.Split(string(b), "\x00")
	if words[len(words)-1] != "" {
		t.Fatalf("record %s does not end with a NUL byte", path)
	}
	words = words[:len(words)-1]
	var calls [][]string
	for len(words) > 0 {
		n, err := strconv.Atoi(words[0])
		if err != nil || n < 1 || n >= len(words) {
			t.Fatalf("record %s: bad word count %q", path, words[0])
		}
		calls = append(calls, words[1:n+1])
		words = words[n+1:]
	}
	return calls
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	must(t, err)
	must(t, os.WriteFile(to, b, 0o755))
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
