// Command probe is the LAN-side client of the VM test. Each subcommand
// opens many flows at once towards the sink behind the BR and prints one
// JSON line with what happened, so the scenario script can assert on
// numbers (how many flows succeeded, which source ports the server saw,
// whether they all lie in the CE's port set):
//
//	probe tcp  -to 203.0.113.10:8080 -n 240 -ports 6016-6031,… -src 14.8.52.86
//	probe churn -to 203.0.113.10:8080 -n 240 -churn 120 -ports … -src …
//	probe udp  -to 203.0.113.10:8081 -n 50  -ports … -src …
//	probe icmp -to 203.0.113.10 -n 20 -id 1000
//	probe short -to 203.0.113.100:8201 -servers 50 -n 10000 -ports … -src …
//	probe mapping -to 203.0.113.10 -dports 9001,9002,9003 -n 40 -preserve 3 -ports … -src …
//	probe seen -ctl 127.0.0.1:9000 -ports … -src …   (run next to the sink)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/mapehelper/mapehelper/vmtest/internal/portset"
)

// Report is the one JSON line every subcommand prints.
type Report struct {
	Test string `json:"test"`
	N    int    `json:"n"`
	OK   int    `json:"ok"`
	Fail int    `json:"fail"`
	// Distinct is the number of distinct source ports (or echo ids) the
	// server saw; InSet/OutOfSet split them by the expected port set and
	// WrongSrc counts flows whose source address was not the expected one.
	Distinct int `json:"distinct"`
	InSet    int `json:"in_set"`
	OutOfSet int `json:"out_of_set"`
	WrongSrc int `json:"wrong_src"`
	// ServerMSS and ClientMSS are the largest TCP MSS the server got from
	// us and we got from the server: the CE's clamping, both directions.
	ServerMSS int `json:"mss_server,omitempty"`
	ClientMSS int `json:"mss_client,omitempty"`
	// First is the first wave's successes and Rounds each later round's
	// (churn only; Rounds with -rounds > 1).
	First  int   `json:"first,omitempty"`
	Rounds []int `json:"rounds,omitempty"`
	// Servers is the number of server addresses and Slow the connections
	// that needed a SYN retransmission (short only).
	Servers int `json:"servers,omitempty"`
	Slow    int `json:"slow,omitempty"`
	// Kept is the number of sockets seen with one external port by every
	// destination, Preserved those of them bound to an in-set port and
	// seen with it (mapping only).
	Kept      int    `json:"kept,omitempty"`
	Preserved int    `json:"preserved,omitempty"`
	Millis    int64  `json:"ms"`
	Err       string `json:"err,omitempty"`
}

// expect is what the server-side view is judged against.
type expect struct {
	ports portset.Set
	src   string
}

// tally fills the port fields of r from the (source, port) pairs seen.
func (e expect) tally(r *Report, srcs []string, ports []uint16) {
	seen := make(map[uint16]bool)
	for i, p := range ports {
		if e.src != "" && srcs[i] != e.src {
			r.WrongSrc++
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		if e.ports == nil || e.ports.Contains(p) {
			r.InSet++
		} else {
			r.OutOfSet++
		}
	}
	r.Distinct = len(seen)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: probe tcp|churn|udp|icmp|seen|short|mapping [flags]")
		return 2
	}
	fs := flag.NewFlagSet("probe "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "server address (host:port; host for icmp)")
	n := fs.Int("n", 1, "number of concurrent flows")
	par := fs.Int("par", 32, "flows being opened at the same time")
	timeout := fs.Duration("timeout", 3*time.Second, "per-flow timeout")
	id := fs.Int("id", 1000, "first ICMP echo identifier (icmp)")
	ports := fs.String("ports", "", "expected port set, lo-hi,… (empty: any)")
	src := fs.String("src", "", "expected source IPv4 as the server sees it (empty: any)")
	ctl := fs.String("ctl", "127.0.0.1:9000", "sink control address (seen)")
	proto := fs.String("proto", "", "only count this protocol (seen)")
	lport := fs.Int("lport", 0, "first local port, flow i uses lport+i (udp; 0: any)")
	size := fs.Int("size", 0, "UDP datagram size in bytes (udp; the answer has the same size)")
	churn := fs.Int("churn", 0, "connections to reset and reopen after the first wave (churn)")
	settle := fs.Duration("settle", 2*time.Second, "wait between reset and reopen (churn)")
	rounds := fs.Int("rounds", 1, "churn rounds on the same held pool (churn)")
	reload := fs.String("reload", "", "shell command run in every round after the resets, e.g. a firewall reload (churn)")
	servers := fs.Int("servers", 1, "number of consecutive server addresses from -to's host (short)")
	rst := fs.Bool("rst", false, "end connections with a RST instead of a FIN (short)")
	dports := fs.String("dports", "9001,9002,9003", "server ports every socket sends to (mapping)")
	preserve := fs.Int("preserve", 0, "sockets bound to a port inside -ports (mapping)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	// Slow emulated architectures stretch every timeout (the guest init
	// exports VMTEST_slow from the arch profile's VM_SLOWDOWN).
	if k, err := strconv.Atoi(os.Getenv("VMTEST_slow")); err == nil && k > 1 {
		*timeout *= time.Duration(k)
		*settle *= time.Duration(k)
	}
	set, err := portset.Parse(*ports)
	if err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err)
		return 2
	}
	exp := expect{src: *src}
	if *ports != "" {
		exp.ports = set
	}
	start := time.Now()
	var r Report
	switch args[0] {
	case "tcp":
		r = runTCP(*to, *n, *par, *timeout, exp)
	case "churn":
		var between func() error
		if *reload != "" {
			between = func() error {
				if out, err := exec.Command("/bin/sh", "-c", *reload).CombinedOutput(); err != nil {
					return fmt.Errorf("-reload %q: %w: %s", *reload, err, out)
				}
				return nil
			}
		}
		r = runChurn(*to, *n, *churn, *rounds, *par, *timeout, *settle, between, exp)
	case "udp":
		r = runUDP(*to, *n, *par, *lport, *size, *timeout, exp)
	case "icmp":
		r = runICMP(*to, *n, uint16(*id), *timeout)
	case "seen":
		r = runSeen(*ctl, *proto, exp)
	case "mapping":
		dp, err := parsePorts(*dports)
		if err != nil {
			fmt.Fprintf(stderr, "probe: -dports: %v\n", err)
			return 2
		}
		r = runMapping(*to, dp, *n, *preserve, *timeout, exp)
	case "short":
		r = runShort(*to, *servers, *n, *par, *timeout, *rst, exp)
	default:
		fmt.Fprintf(stderr, "probe: unknown subcommand %q\n", args[0])
		return 2
	}
	r.Test = args[0]
	r.Millis = time.Since(start).Milliseconds()
	if err := json.NewEncoder(stdout).Encode(r); err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err)
		return 1
	}
	return 0
}
