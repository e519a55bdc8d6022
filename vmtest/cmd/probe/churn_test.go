package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestChurnBetween: the benchmark's firewall reload runs once per round,
// after the resets and before the new connections, and a failing reload
// ends the run with its error instead of being measured as NAT failures.
func TestChurnBetween(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			fmt.Fprintf(c, "src=%s\n", c.RemoteAddr())
			go func() { _, _ = c.Read(make([]byte, 1)); c.Close() }()
		}
	}()
	to := ln.Addr().String()

	for _, tc := range []struct {
		name      string
		fail      bool
		wantCalls int
		wantConns int // first wave plus every round's new ones
		wantErr   string
	}{
		{name: "reload every round", wantCalls: 3, wantConns: 4 + 3*2},
		{name: "failing reload", fail: true, wantCalls: 1, wantConns: 4, wantErr: "reload failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for len(accepted) > 0 {
				<-accepted
			}
			calls := 0
			between := func() error {
				calls++
				if got := len(accepted); got != 4+(calls-1)*2 {
					t.Errorf("reload %d ran after %d connections, want %d", calls, got, 4+(calls-1)*2)
				}
				if tc.fail {
					return errors.New("reload failed")
				}
				return nil
			}
			r := runChurn(to, 4, 2, 3, 4, time.Second, 0, between, expect{})
			if calls != tc.wantCalls {
				t.Errorf("between ran %d times, want %d", calls, tc.wantCalls)
			}
			if got := len(accepted); got != tc.wantConns {
				t.Errorf("server accepted %d connections, want %d", got, tc.wantConns)
			}
			if !strings.Contains(r.Err, tc.wantErr) || (tc.wantErr == "" && r.Err != "") {
				t.Errorf("report error %q, want %q", r.Err, tc.wantErr)
			}
			if tc.wantErr == "" && r.OK != 6 {
				t.Errorf("report ok %d, want 6 (2 per round)", r.OK)
			}
		})
	}
}
