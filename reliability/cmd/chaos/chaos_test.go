package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestKill(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantKilled bool
		wantExit   int
	}{
		{"long command is killed", []string{"-max", "50ms", "-seed", "3", "--", "sleep", "5"}, true, -1},
		{"quick command finishes first", []string{"-max", "2s", "-seed", "1", "--", "true"}, false, 0},
		{"exit status is kept", []string{"-max", "2s", "-seed", "1", "--", "sh", "-c", "exit 3"}, false, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if rc := run(append([]string{"kill"}, tc.args...), &out, &errb); rc != 0 {
				t.Fatalf("rc %d: %s", rc, errb.String())
			}
			var r KillReport
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if r.Killed != tc.wantKilled || r.Exit != tc.wantExit {
				t.Errorf("got %+v, want killed=%v exit=%d", r, tc.wantKilled, tc.wantExit)
			}
			if tc.wantKilled && r.MS > 2000 {
				t.Errorf("kill took %d ms", r.MS)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"kill", "-max", "1s"}, {"time"}, {"udpflow", "-to", "not an address"}} {
		var out, errb bytes.Buffer
		if rc := run(args, &out, &errb); rc != 2 {
			t.Errorf("%q: rc %d, want 2", args, rc)
		}
	}
}

func TestTime(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := run([]string{"time", "--", "sh", "-c", "sleep 0.1; exit 4"}, &out, &errb); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	var r TimeReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Exit != 4 || r.MS < 100 {
		t.Errorf("got %+v, want exit 4 after >= 100 ms", r)
	}
}

// TestUDPFlow runs a flow against a local echo server that answers like
// the VM's sink for the first half and then goes silent, as when the BR
// starts dropping a stale mapping.
func TestUDPFlow(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 64)
		for i := 0; ; i++ {
			_, a, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if i < 5 {
				_, _ = pc.WriteTo([]byte("src="+a.String()+"\n"), a)
			}
		}
	}()
	var out, errb bytes.Buffer
	args := []string{"udpflow", "-to", pc.LocalAddr().String(), "-lport", "0", "-every", "20ms", "-for", "200ms"}
	if rc := run(args, &out, &errb); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	var r FlowReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Sent != 10 || r.Answered != 5 || r.LastOK || len(r.Ports) != 1 || r.Tail != 0 {
		t.Errorf("got %+v, want 10 sent, 5 answered from one port, silent tail", r)
	}
	if !strings.Contains(out.String(), `"ports"`) {
		t.Errorf("no ports key: %s", out.String())
	}
}

// TestLock: chaos lock runs the command, reports its exit status and
// releases the lock afterwards.
func TestLock(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fw4.lock")
	var out, errb bytes.Buffer
	if rc := run([]string{"lock", "-file", file, "--", "sh", "-c", "exit 3"}, &out, &errb); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	var r LockReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Exit != 3 {
		t.Fatalf("report %q, %v; want exit 3", out.String(), err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("lock still held after the command: %v", err)
	}
}
