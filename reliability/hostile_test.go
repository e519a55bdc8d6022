package reliability

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary builds the real mapehelper once per test run.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mapehelper")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/mapehelper").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestHostileInput feeds the binary values meant to break a shell, a JSON
// reader or a size assumption. Each must be refused with the usage or
// failure status and exactly one stderr line (no panic, no stack trace),
// must not run anything (no PWNED file appears) and must not echo
// unbounded input back.
func TestHostileInput(t *testing.T) {
	bin := binary(t)
	shell := "x'\"$(touch PWNED)`touch PWNED2`;touch PWNED3\n${HOME}"
	big := strings.Repeat("$(touch PWNED4)", 8000)   // 120 KB, just under Linux's per-argument limit
	huge := strings.Repeat("$(touch PWNED5)", 70000) // ~1 MB, on stdin
	seed := "240b:12:3456:7800::/56"
	tests := []struct {
		name  string
		args  []string
		stdin string
		inert bool // the value is only data (recorded, never used as a name): accepting it is fine
	}{
		{name: "calc: shell metacharacters as prefix", args: []string{"calc", shell}},
		{name: "calc: 120 KB argument", args: []string{"calc", big}},
		{name: "calc: rule string with shell text", args: []string{"calc", "--rule", shell, seed}},
		{name: "calc: control bytes", args: []string{"calc", "240b::\x01\x7f/56"}},
		{name: "calc: 120 KB rule string", args: []string{"calc", "--rule", big, seed}},
		{name: "up --dry-run: hostile interface name", args: []string{"up", "--dry-run", "--interface", shell, "--link", "wan", "--prefix", seed}},
		{name: "up --dry-run: 120 KB interface name", args: []string{"up", "--dry-run", "--interface", big, "--link", "wan", "--prefix", seed}},
		{name: "up --dry-run: path in interface name", args: []string{"up", "--dry-run", "--interface", "../../etc/x", "--link", "wan", "--prefix", seed}},
		{name: "up --stdin-json: broken JSON", args: []string{"up", "--dry-run", "--stdin-json", "--interface", "wan_mape", "--link", "wan", "--prefix", seed}, stdin: `{"zone": "wan", "mtu": `},
		{name: "up --stdin-json: 1 MB JSON", args: []string{"up", "--dry-run", "--stdin-json", "--interface", "wan_mape", "--link", "wan", "--prefix", seed}, stdin: `{"zone": "` + huge + `"}`, inert: true},
		{name: "up --stdin-json: hostile peeraddr", args: []string{"up", "--dry-run", "--stdin-json", "--interface", "wan_mape", "--link", "wan", "--prefix", seed}, stdin: `{"peeraddr": "x\"; $(touch PWNED)"}`},
		{name: "up --dry-run: hostile link name", args: []string{"up", "--dry-run", "--interface", "wan_mape", "--link", shell, "--prefix", seed}},
		{name: "down: hostile interface name", args: []string{"down", "--interface", shell, "--state-dir", "STATE", "--include-dir", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				if a == "STATE" {
					args[i] = filepath.Join(dir, "state")
				}
			}
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader(tc.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("no answer within 20 s")
			}
			code := cmd.ProcessState.ExitCode()
			msg := stderr.String()
			switch {
			case tc.inert && code == 0:
			case code != 1 && code != 2:
				t.Errorf("exit %d, want 1 (refused) or 2 (usage); stderr %q", code, trim(msg))
			case strings.Count(strings.TrimRight(msg, "\n"), "\n") != 0 || msg == "":
				t.Errorf("stderr is not exactly one line: %q", trim(msg))
			}
			if strings.Contains(msg, "goroutine") || strings.Contains(msg, "panic") {
				t.Errorf("panic: %s", trim(msg))
			}
			if len(msg) > 4096 || stdout.Len() > 64<<10 {
				t.Errorf("echoed %d bytes on stderr, %d on stdout: input must not be echoed unbounded", len(msg), stdout.Len())
			}
			matches, _ := filepath.Glob(filepath.Join(dir, "PWNED*"))
			if len(matches) > 0 {
				t.Errorf("a command ran: %v", matches)
			}
		})
	}
}

func trim(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// TestDownPathTraversal: down must only ever touch files inside its own
// state and include directories, whatever --interface says. Regression
// test: down once joined the name into paths unvalidated, so
// "../victim/important" deleted important.json and important.nft next to
// the state directory (fixed by dataplane.ValidInterface).
func TestDownPathTraversal(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	victims := []string{filepath.Join(dir, "victim", "important.json"), filepath.Join(dir, "victim", "important.nft")}
	for _, v := range victims {
		if err := os.MkdirAll(filepath.Dir(v), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(v, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "down", "--interface", "../victim/important", "--state-dir", filepath.Join(dir, "state"), "--include-dir", "").CombinedOutput()
	if err == nil {
		t.Errorf("down accepted a path as interface name: %q", out)
	}
	for _, v := range victims {
		if _, err := os.Stat(v); err != nil {
			t.Errorf("%s outside the state directory is gone: %v", v, err)
		}
	}
}
