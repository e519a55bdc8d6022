package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"time"
)

// echoRequest builds an ICMP echo request with the given identifier.
func echoRequest(id, seq uint16) []byte {
	b := make([]byte, 16)
	b[0] = 8 // echo request
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], "mapeprob")
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// runICMP sends n echo requests with identifiers id, id+1, … (n "ping
// flows", as n ping processes would) and counts the identifiers answered.
// Each unanswered one is sent again up to twice. Which identifier the
// server saw after the CE's NAT is the sink's business ("probe seen").
func runICMP(to string, n int, id uint16, timeout time.Duration) Report {
	r := Report{N: n}
	dst, err := net.ResolveIPAddr("ip4", to)
	if err != nil {
		r.Fail, r.Err = n, err.Error()
		return r
	}
	c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		r.Fail, r.Err = n, fmt.Sprintf("raw icmp socket: %v", err)
		return r
	}
	defer c.Close()
	answered := make(map[uint16]bool)
	buf := make([]byte, 1500)
	for try := uint16(1); try <= 3 && len(answered) < n; try++ {
		for i := 0; i < n; i++ {
			if answered[id+uint16(i)] {
				continue
			}
			if _, err := c.WriteTo(echoRequest(id+uint16(i), try), dst); err != nil && r.Err == "" {
				r.Err = fmt.Sprintf("send: %v", err)
			}
		}
		deadline := time.Now().Add(timeout / 3)
		_ = c.SetReadDeadline(deadline)
		for len(answered) < n {
			m, from, err := c.ReadFrom(buf)
			if err != nil {
				break
			}
			if m < 8 || buf[0] != 0 || from.String() != dst.String() {
				continue
			}
			got := binary.BigEndian.Uint16(buf[4:])
			if got-id < uint16(n) {
				answered[got] = true
			}
		}
	}
	r.OK = len(answered)
	r.Fail = n - r.OK
	r.Distinct = r.OK
	if r.Fail > 0 && r.Err == "" {
		r.Err = "no echo reply"
	}
	return r
}
