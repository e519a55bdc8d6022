package main

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
)

// fakeGateway answers NAT-PMP (RFC 6886) on 127.0.0.1:5351, the port the
// client always uses: the external address, and each mapping request
// with mappedPort and result code.
func fakeGateway(t *testing.T, mappedPort uint16, code uint16) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:5351")
	if err != nil {
		t.Fatalf("NAT-PMP port: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 2 {
				continue
			}
			var resp []byte
			switch op := buf[1]; op {
			case 0:
				resp = make([]byte, 12)
				copy(resp[8:], []byte{14, 8, 52, 86})
			case 1, 2:
				resp = make([]byte, 16)
				copy(resp[8:10], buf[4:6]) // internal port
				binary.BigEndian.PutUint16(resp[10:12], mappedPort)
				binary.BigEndian.PutUint32(resp[12:16], binary.BigEndian.Uint32(buf[8:12]))
				binary.BigEndian.PutUint16(resp[2:4], code)
			default:
				continue
			}
			resp[1] = buf[1] | 0x80
			_, _ = pc.WriteTo(resp, from)
		}
	}()
}

func TestAsk(t *testing.T) {
	tests := []struct {
		name     string
		mapped   uint16
		code     uint16
		want     Report
		errWords string
	}{
		{"moved into a set", 6016, 0, Report{ExternalIP: "14.8.52.86", ExternalPort: 6016}, ""},
		{"refused", 0, 2, Report{ExternalIP: "14.8.52.86"}, "Not Authorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fakeGateway(t, tc.mapped, tc.code)
			got := ask("127.0.0.1", "tcp", 7000, 80, 600)
			errs := got.Err
			got.Err = ""
			if got != tc.want {
				t.Errorf("ask = %+v, want %+v", got, tc.want)
			}
			if (tc.errWords == "") != (errs == "") || !strings.Contains(errs, tc.errWords) {
				t.Errorf("err = %q, want one with %q", errs, tc.errWords)
			}
		})
	}
}
