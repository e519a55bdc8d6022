package main

import (
	"fmt"
	"io"
	"net"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestDestinations(t *testing.T) {
	got, err := destinations("203.0.113.254:8201", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"203.0.113.254:8201", "203.0.113.255:8201", "203.0.114.0:8201"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("destinations = %v, want %v", got, want)
	}
	for _, bad := range []string{"203.0.113.1", "[2001:db8::1]:80", "host:80", "1.2.3.4:x"} {
		if _, err := destinations(bad, 2); err == nil {
			t.Errorf("destinations(%q) accepted", bad)
		}
	}
	if _, err := destinations("255.255.255.255:1", 2); err == nil {
		t.Error("destinations past 255.255.255.255 accepted")
	}
}

func TestSpread(t *testing.T) {
	idx := spread(1003, 50)
	count := make(map[int]int)
	for _, i := range idx {
		count[i]++
	}
	if len(count) != 50 {
		t.Fatalf("spread used %d servers, want 50", len(count))
	}
	for s, c := range count {
		if want := 20 + map[bool]int{true: 1}[s < 3]; c != want {
			t.Errorf("server %d got %d connections, want %d", s, c, want)
		}
	}
	// Random order: the first 50 are not the servers in turn.
	inTurn := true
	for i := 0; i < 50; i++ {
		inTurn = inTurn && idx[i] == i
	}
	if inTurn {
		t.Error("spread kept round-robin order")
	}
}

// TestRunShort runs the test against three loopback servers that answer
// like the sink, each closing its side once the client has.
func TestRunShort(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	lns := []net.Listener{ln}
	for _, h := range []string{"127.0.0.2", "127.0.0.3"} {
		l, err := net.Listen("tcp4", net.JoinHostPort(h, strconv.Itoa(port)))
		if err != nil {
			t.Skipf("loopback address %s: %v", h, err)
		}
		lns = append(lns, l)
	}
	var mu sync.Mutex
	hits := make(map[string]int)
	for _, l := range lns {
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				hits[c.LocalAddr().(*net.TCPAddr).IP.String()]++
				mu.Unlock()
				fmt.Fprintf(c, "src=%s\n", c.RemoteAddr())
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}
		}()
	}
	for _, rst := range []bool{false, true} {
		mu.Lock()
		clear(hits)
		mu.Unlock()
		r := runShort(ln.Addr().String(), 3, 30, 4, 3*time.Second, rst, expect{src: "127.0.0.1"})
		if r.OK != 30 || r.Fail != 0 || r.Servers != 3 || r.WrongSrc != 0 {
			t.Errorf("rst=%v: %+v, want 30 ok from 3 servers", rst, r)
		}
		mu.Lock()
		for _, h := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
			if hits[h] != 10 {
				t.Errorf("rst=%v: server %s got %d connections, want 10", rst, h, hits[h])
			}
		}
		mu.Unlock()
	}
	r := runShort("127.0.0.1:1", 1, 3, 3, time.Second, false, expect{})
	if r.OK != 0 || r.Fail != 3 || r.Err == "" {
		t.Errorf("closed port: %+v, want 3 failures", r)
	}
}
