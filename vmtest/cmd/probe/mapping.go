package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// runMapping is RFC 4787's mapping test (issue 13): n UDP sockets each
// send to every port in dports of host and learn from the sink which
// source it saw. The first `preserve` sockets are bound to a port inside
// the expected port set (the third port of the last, second-to-last, …
// range, so numgen's round robin would not hit them by chance) and send
// first; the rest use ephemeral ports. Report: OK the sockets answered by
// every destination, Kept those seen with one external port by all of
// them (endpoint-independent mapping), Preserved the bound ones seen with
// their own port.
func runMapping(host string, dports []int, n, preserve int, timeout time.Duration, exp expect) Report {
	r := Report{N: n}
	var bound []uint16
	for i := 0; i < preserve && i < len(exp.ports); i++ {
		bound = append(bound, exp.ports[len(exp.ports)-1-i].Lo+2)
	}
	seen := make([][]uint16, n)
	var srcs []string
	var ports []uint16
	for i := 0; i < n; i++ {
		laddr := &net.UDPAddr{}
		if i < len(bound) {
			laddr.Port = int(bound[i])
		}
		c, err := net.ListenUDP("udp4", laddr)
		if err != nil {
			r.Fail++
			r.Err = err.Error()
			continue
		}
		for _, dp := range dports {
			f := udpAsk(c, &net.UDPAddr{IP: net.ParseIP(host), Port: dp}, timeout)
			if f.err != nil {
				if r.Err == "" {
					r.Err = f.err.Error()
				}
				continue
			}
			seen[i] = append(seen[i], f.port)
			srcs, ports = append(srcs, f.src), append(ports, f.port)
		}
		_ = c.Close()
	}
	judgeMapping(&r, seen, bound, len(dports))
	exp.tally(&r, srcs, ports)
	return r
}

// judgeMapping fills OK, Fail, Kept and Preserved from the external
// ports each socket was seen with (want answers per socket; bound[i] is
// socket i's own port).
func judgeMapping(r *Report, seen [][]uint16, bound []uint16, want int) {
	r.OK, r.Fail = 0, 0
	for i, s := range seen {
		if len(s) != want {
			r.Fail++
			continue
		}
		r.OK++
		one := true
		for _, p := range s {
			one = one && p == s[0]
		}
		if one {
			r.Kept++
			if i < len(bound) && s[0] == bound[i] {
				r.Preserved++
			}
		}
	}
}

// udpAsk sends one datagram from c to to and reads the sink's answer,
// trying three times: a lost datagram is not a failed mapping.
func udpAsk(c *net.UDPConn, to *net.UDPAddr, timeout time.Duration) flowResult {
	buf := make([]byte, 2048)
	var last error
	for try := 0; try < 3; try++ {
		if _, err := c.WriteToUDP([]byte("probe\n"), to); err != nil {
			last = err
			time.Sleep(timeout / 3)
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(timeout / 3))
		m, from, err := c.ReadFromUDP(buf)
		if err != nil {
			last = err
			continue
		}
		if from.Port != to.Port {
			continue // a late answer from the previous destination
		}
		r, err := parseSrc(string(buf[:m]))
		r.err = err
		return r
	}
	return flowResult{err: last}
}

// parsePorts reads "9001,9002,9003".
func parsePorts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("port %q: want 1-65535", f)
		}
		out = append(out, p)
	}
	return out, nil
}
