package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
)

// slowConn is how long a connection may take before it counts as slow:
// Linux retransmits an unanswered SYN after 1 s, so a connection that
// took longer lost its first SYN (typically dropped by the CE because
// the port set its rule picked had no free port for that destination).
const slowConn = 900 * time.Millisecond

// destinations returns servers addresses host, host+1, … (IPv4) with
// to's port, for a "-to host:port" and "-servers K".
func destinations(to string, servers int) ([]string, error) {
	host, port, err := net.SplitHostPort(to)
	if err != nil {
		return nil, fmt.Errorf("server address %q: %w", to, err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() {
		return nil, fmt.Errorf("server address %q: want an IPv4 host", to)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("server address %q: bad port: %w", to, err)
	}
	dsts := make([]string, 0, servers)
	for i := 0; i < servers; i++ {
		if !a.IsValid() || !a.Is4() {
			return nil, fmt.Errorf("%d servers from %s run past the IPv4 space", servers, host)
		}
		dsts = append(dsts, net.JoinHostPort(a.String(), port))
		a = a.Next()
	}
	return dsts, nil
}

// spread returns n indexes into servers destinations, each used n/servers
// times (the first n%servers once more), in a random order. Random, not
// round robin: a fixed cycle of 50 destinations against a rule that
// cycles over 15 port sets (numgen inc) would pin each destination to 3
// of the sets, which no real client does.
func spread(n, servers int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i % servers
	}
	rand.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	return idx
}

// runShort is the many-destinations test: n short TCP connections
// (connect, send one request line, read the answer, close), spread over
// `servers` consecutive server addresses, at most par at a time. Unlike
// runTCP nothing is held open: what it measures is the connection rate
// and whether every connection gets through. With rst=false a connection
// ends with a FIN, as real clients end theirs, so the CE's conntrack keeps
// its NAT mapping in TIME_WAIT (120 s) and the ports one destination can
// use fill up as the run goes on; with rst=true it ends with a RST and
// the mapping is gone in a second. Slow counts connections that took
// longer than a SYN retransmission.
func runShort(to string, servers, n, par int, timeout time.Duration, rst bool, exp expect) Report {
	dsts, err := destinations(to, servers)
	if err != nil {
		return Report{N: n, Fail: n, Err: err.Error()}
	}
	order := spread(n, len(dsts))
	var slow atomic.Int64
	res := openAll(n, par, func(i int) flowResult {
		start := time.Now()
		r := shortTCP(dsts[order[i]], timeout, rst)
		if time.Since(start) > slowConn {
			slow.Add(1)
		}
		return r
	})
	r := summarize(res, exp)
	r.Servers = len(dsts)
	r.Slow = int(slow.Load())
	return r
}

// shortTCP is one short connection: the request, the answer (the sink
// tells the source it saw), the close.
func shortTCP(to string, timeout time.Duration, rst bool) flowResult {
	c, err := net.DialTimeout("tcp4", to, timeout)
	if err != nil {
		return flowResult{err: err}
	}
	tc := c.(*net.TCPConn)
	end := func() {
		if rst {
			resetTCP(tc)
		} else {
			_ = tc.Close()
		}
	}
	_ = tc.SetDeadline(time.Now().Add(timeout))
	if _, err := tc.Write([]byte("GET /\n")); err != nil {
		end()
		return flowResult{err: fmt.Errorf("send request: %w", err)}
	}
	line, err := bufio.NewReader(tc).ReadString('\n')
	end()
	if err != nil {
		return flowResult{err: fmt.Errorf("read answer: %w", err)}
	}
	r, err := parseSrc(line)
	r.err = err
	return r
}
