package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// FlowReport describes one long-lived UDP flow: how many datagrams got an
// answer, and which source ports the server reported over time. A flow
// whose NAT mapping is stale (e.g. a port of a port set the CE no longer
// owns) stops being answered because the BR drops it.
type FlowReport struct {
	Sent     int      `json:"sent"`
	Answered int      `json:"answered"`
	Ports    []string `json:"ports"`         // distinct source ports the server saw, in order
	LastOK   bool     `json:"last_ok"`       // the final datagram was answered
	Err      string   `json:"err,omitempty"` // first error, if any
	Misses   int      `json:"misses"`        // unanswered datagrams
	Tail     int      `json:"tail_answered"` // answered among the last quarter
	TailN    int      `json:"tail_sent"`     // sent in the last quarter
	// MaxGapMS is the longest run of unanswered datagrams (a run still
	// open at the end included), in milliseconds: datagrams × -every.
	MaxGapMS int64 `json:"max_gap_ms"`
	// Addrs are the distinct source addresses the server saw, in order:
	// after an IPv4 change the flow must move to the new one.
	Addrs []string `json:"addrs"`
}

// runUDPFlow sends one datagram every -every from the fixed local port
// -lport to -to for -for, waiting up to -every for each answer (the sink
// answers "src=ADDR:PORT").
func runUDPFlow(args []string, stderr io.Writer) (FlowReport, error) {
	fs := flag.NewFlagSet("chaos udpflow", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "server host:port")
	lport := fs.Int("lport", 40000, "fixed local (source) port")
	every := fs.Duration("every", 200*time.Millisecond, "interval between datagrams")
	dur := fs.Duration("for", 10*time.Second, "how long the flow lasts")
	if err := fs.Parse(args); err != nil {
		return FlowReport{}, err
	}
	raddr, err := net.ResolveUDPAddr("udp4", *to)
	if err != nil {
		return FlowReport{}, fmt.Errorf("server address: %w", err)
	}
	c, err := net.DialUDP("udp4", &net.UDPAddr{Port: *lport}, raddr)
	if err != nil {
		return FlowReport{}, fmt.Errorf("open flow: %w", err)
	}
	defer c.Close()
	var rep FlowReport
	seen, seenAddr := map[string]bool{}, map[string]bool{}
	run := 0 // current run of misses
	n := int(*dur / *every)
	buf := make([]byte, 256)
	for i := 0; i < n; i++ {
		start := time.Now()
		ok := false
		if _, err := c.Write([]byte("flow\n")); err != nil {
			if rep.Err == "" {
				rep.Err = err.Error()
			}
		} else {
			_ = c.SetReadDeadline(start.Add(*every))
			if m, err := c.Read(buf); err == nil {
				ok = true
				// The sink answers "src=ADDR:PORT" and maybe more fields.
				src := ""
				if f := strings.Fields(string(buf[:m])); len(f) > 0 {
					src = strings.TrimPrefix(f[0], "src=")
				}
				if host, port, err := net.SplitHostPort(src); err == nil {
					if !seen[port] {
						seen[port] = true
						rep.Ports = append(rep.Ports, port)
					}
					if !seenAddr[host] {
						seenAddr[host] = true
						rep.Addrs = append(rep.Addrs, host)
					}
				}
			}
		}
		rep.Sent++
		if ok {
			rep.Answered++
			run = 0
		} else {
			rep.Misses++
			run++
			rep.MaxGapMS = max(rep.MaxGapMS, int64(run)*every.Milliseconds())
		}
		if i >= n*3/4 {
			rep.TailN++
			if ok {
				rep.Tail++
			}
		}
		rep.LastOK = ok
		time.Sleep(time.Until(start.Add(*every)))
	}
	return rep, nil
}
