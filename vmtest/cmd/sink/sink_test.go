package main

import (
	"net"
	"strings"
	"testing"
)

func TestUDPAnswer(t *testing.T) {
	ua := &net.UDPAddr{IP: net.IPv4(14, 8, 52, 86), Port: 6016}
	tests := []struct {
		n       int
		wantLen int
	}{{0, 26}, {6, 26}, {3000, 3000}}
	for _, tt := range tests {
		b := udpAnswer(ua, tt.n)
		if len(b) != tt.wantLen {
			t.Errorf("udpAnswer(n=%d) is %d bytes, want %d", tt.n, len(b), tt.wantLen)
		}
		if !strings.HasPrefix(string(b), "src=14.8.52.86:6016 len=") {
			t.Errorf("udpAnswer(n=%d) starts %q", tt.n, b[:min(len(b), 30)])
		}
	}
}
