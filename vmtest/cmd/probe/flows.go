package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// flowResult is the outcome of one flow: the source the server reported,
// or the error that stopped it. For TCP, serverMSS is the MSS the server
// got from us and clientMSS the one we got from the server (after any
// clamping on the way).
type flowResult struct {
	src                  string
	port                 uint16
	serverMSS, clientMSS int
	err                  error
}

// parseSrc reads the sink's "src=ip:port [mss=N]" answer.
func parseSrc(line string) (flowResult, error) {
	var r flowResult
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return r, fmt.Errorf("unexpected answer %q", line)
	}
	v, ok := strings.CutPrefix(fields[0], "src=")
	if !ok {
		return r, fmt.Errorf("unexpected answer %q", line)
	}
	ap, err := net.ResolveUDPAddr("udp4", v)
	if err != nil {
		return r, fmt.Errorf("answer %q: %w", line, err)
	}
	r.src, r.port = ap.IP.String(), uint16(ap.Port)
	for _, f := range fields[1:] {
		if m, ok := strings.CutPrefix(f, "mss="); ok {
			if r.serverMSS, err = strconv.Atoi(m); err != nil {
				return r, fmt.Errorf("answer %q: %w", line, err)
			}
		}
	}
	return r, nil
}

// tcpMSS is our side's sending MSS (TCP_MAXSEG), 0 when unknown.
func tcpMSS(c *net.TCPConn) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	v := 0
	_ = rc.Control(func(fd uintptr) {
		v, _ = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG)
	})
	return v
}

// openAll runs open for flows 0..n-1 with at most par in flight and
// collects the results in flow order.
func openAll(n, par int, open func(i int) flowResult) []flowResult {
	if par < 1 {
		par = 1
	}
	res := make([]flowResult, n)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			res[i] = open(i)
			<-sem
		}()
	}
	wg.Wait()
	return res
}

// summarize turns flow results into a report.
func summarize(res []flowResult, exp expect) Report {
	r := Report{N: len(res)}
	var srcs []string
	var ports []uint16
	for _, f := range res {
		if f.err != nil {
			r.Fail++
			if r.Err == "" {
				r.Err = f.err.Error()
			}
			continue
		}
		r.OK++
		r.ServerMSS = max(r.ServerMSS, f.serverMSS)
		r.ClientMSS = max(r.ClientMSS, f.clientMSS)
		srcs = append(srcs, f.src)
		ports = append(ports, f.port)
	}
	exp.tally(&r, srcs, ports)
	return r
}

// dialTCP opens one connection and reads the source the server saw. The
// connection is returned open (nil on failure).
func dialTCP(to string, timeout time.Duration) (*net.TCPConn, flowResult) {
	c, err := net.DialTimeout("tcp4", to, timeout)
	if err != nil {
		return nil, flowResult{err: err}
	}
	tc := c.(*net.TCPConn)
	_ = tc.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil {
		resetTCP(tc)
		return nil, flowResult{err: fmt.Errorf("read answer: %w", err)}
	}
	r, err := parseSrc(line)
	r.err = err
	r.clientMSS = tcpMSS(tc)
	return tc, r
}

// resetTCP closes with a RST rather than a FIN, so the CE's conntrack
// forgets the flow in seconds instead of TIME_WAIT's minutes.
func resetTCP(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

// openTCP opens n connections (par at a time) and returns them, indexed
// like the results, nil where the flow failed.
func openTCP(to string, n, par int, timeout time.Duration) ([]*net.TCPConn, []flowResult) {
	conns := make([]*net.TCPConn, n)
	res := openAll(n, par, func(i int) flowResult {
		c, r := dialTCP(to, timeout)
		conns[i] = c
		return r
	})
	return conns, res
}

// runTCP opens n TCP connections and keeps every successful one open
// until all have been tried, so they are concurrent: this is what
// exhausts a port set.
func runTCP(to string, n, par int, timeout time.Duration, exp expect) Report {
	conns, res := openTCP(to, n, par, timeout)
	for _, c := range conns {
		if c != nil {
			resetTCP(c)
		}
	}
	return summarize(res, exp)
}

// runChurn measures port reuse under high occupancy: it opens n
// connections, then for each of `rounds` rounds resets a random `churn` of
// the open ones, waits settle (the CE's conntrack must forget them; the
// scenario shortens its close timeout) and opens `churn` new ones, which
// join the held pool. The report counts every later wave (Rounds has each
// round's successes); First is how many of the first wave succeeded. A
// rule shape that picks a port set without looking at its free ports
// fails new flows here although the freed ports are spread over all sets,
// and one whose view of the sets drifts fails more in each round.
// between, if not nil, runs in every round after the resets (the
// benchmark reloads the firewall there); its failure ends the run.
func runChurn(to string, n, churn, rounds, par int, timeout, settle time.Duration, between func() error, exp expect) Report {
	conns, first := openTCP(to, n, par, timeout)
	var all []flowResult
	var perRound []int
	for range max(rounds, 1) {
		var open []int
		for i, c := range conns {
			if c != nil {
				open = append(open, i)
			}
		}
		rand.Shuffle(len(open), func(i, j int) { open[i], open[j] = open[j], open[i] })
		k := min(churn, len(open))
		for _, i := range open[:k] {
			resetTCP(conns[i])
			conns[i] = nil
		}
		if between != nil {
			if err := between(); err != nil {
				for _, c := range conns {
					if c != nil {
						resetTCP(c)
					}
				}
				return Report{N: n, Err: err.Error()}
			}
		}
		time.Sleep(settle)
		again, res := openTCP(to, k, par, timeout)
		conns = append(conns, again...)
		all = append(all, res...)
		perRound = append(perRound, summarize(res, exp).OK)
	}
	for _, c := range conns {
		if c != nil {
			resetTCP(c)
		}
	}
	r := summarize(all, exp)
	r.First = summarize(first, exp).OK
	if rounds > 1 {
		r.Rounds = perRound
	}
	return r
}

// runUDP sends from n sockets at once (n flows) and waits for each
// answer, retrying twice: a lost datagram is not a failed mapping.
// With lport > 0, flow i uses local port lport+i, so a later run repeats
// the same flows (the CE's conntrack keeps their NAT mapping).
// size is the datagram size; the sink answers with as many bytes, and a
// flow counts only if the whole answer arrives.
func runUDP(to string, n, par, lport, size int, timeout time.Duration, exp expect) Report {
	raddr, err := net.ResolveUDPAddr("udp4", to)
	if err != nil {
		return Report{N: n, Fail: n, Err: err.Error()}
	}
	var mu sync.Mutex
	var conns []*net.UDPConn
	res := openAll(n, par, func(i int) flowResult {
		var laddr *net.UDPAddr
		if lport > 0 {
			laddr = &net.UDPAddr{Port: lport + i}
		}
		c, err := net.DialUDP("udp4", laddr, raddr)
		if err != nil {
			return flowResult{err: err}
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		buf := make([]byte, 65536)
		msg := []byte("probe\n")
		for len(msg) < size {
			msg = append(msg, '.')
		}
		var last error
		for try := 0; try < 3; try++ {
			if _, err := c.Write(msg); err != nil {
				last = err
				time.Sleep(timeout / 3)
				continue
			}
			_ = c.SetReadDeadline(time.Now().Add(timeout / 3))
			m, err := c.Read(buf)
			if err != nil {
				last = err
				continue
			}
			if m < len(msg) {
				last = fmt.Errorf("answer of %d bytes to %d", m, len(msg))
				continue
			}
			r, err := parseSrc(string(buf[:m]))
			r.err = err
			return r
		}
		return flowResult{err: last}
	})
	for _, c := range conns {
		_ = c.Close()
	}
	return summarize(res, exp)
}
