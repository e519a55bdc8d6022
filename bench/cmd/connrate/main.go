// Command connrate measures new TCP connections per second through our
// NAT against fw4's masquerade, natively on the running kernel (issue 14,
// goal 3). The VM benchmark's TCG noise (one build: 0.67-1.21 ×
// masquerade) hides a difference of a few percent; here the same path
// runs on the host kernel in three network namespaces:
//
//	lan (client) ── veth ── router ── veth "map-wan_mape" ── server ("BR")
//
// The router holds a fw4-like table (`oifname "map-wan_mape" jump
// srcnat_wan`, `masquerade` there) in every shape and, per shape, our
// table as firewall4 generates it (the fw4 include, i.e. Render() without
// the element limit the kernel adds) or a copy with one cause removed by
// chain name (see causes), or, as a floor, no table of ours and one SNAT
// rule to a single 16-port set in fw4's chain (see floorShape). The tunnel
// is a plain IPv4 veth named like ours: no ip6_tunnel on the host, and the
// NAT path does not need one. The server plays the BR: it drops and counts
// TCP from the CE's address whose source port is outside the port set (for
// masquerade it only counts, as the VM bench switches the BR's check off).
// Each connection is dialled from the lan, writes one byte, reads the
// server's byte and closes with a RST (SO_LINGER 0: no TIME_WAIT, the
// rules' cost alone) or a FIN (the client keeps TIME_WAIT, the router's
// conntrack its 120 s entry).
//
// Shapes alternate in every repetition (the order rotates by one each
// time), each for a fixed time slot with the same number of workers; the
// router's conntrack table is flushed between slots. A shape's ratio is
// the median over repetitions of its rate over masquerade's rate in the
// same repetition, with a 95 % bootstrap half-width (see stats), so host
// load drifting between repetitions cancels.
//
// usage: connrate [-reps N] [-slot D] [-workers N] [-close rst,fin]
//
//	[-isps v6plus,ocn] [-causes rst] [-o FILE]
//	connrate -conns N [-servers S] …  goal 4's run: N connections per shape
//	                         to S server addresses, one port each, instead
//	                         of timed slots to 4048 destinations
//	connrate -table FILE     print the markdown tables of a results file
//
// Root only (network namespaces, nftables); needs ip(8) and nft(8).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mapehelper/mapehelper/firewall4"
	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// The addresses of the three namespaces. The CE's address is the one the
// firewall4 tests use; the servers are 203.0.113.2-254 (a local route on
// the server's loopback), each listening on serverPorts ports, so a run
// spreads over 253 × 16 destinations and never exhausts a port set
// towards one of them (that is goal 4's FIN run, not this one).
const (
	tunnel      = "map-wan_mape"
	ceAddr      = "14.8.52.86"
	serverNet   = "203.0.113"
	serverPort0 = 8000
	serverPorts = 16
	tunnelMTU   = 1460
)

// isps are the port sets of the two profiles: v6 plus (PSID offset 4,
// length 8: 15 sets of 16) and OCN (offset 6, length 6: 63 sets of 16).
var isps = map[string][]mapcalc.PortRange{
	"v6plus": mapcalc.PortSets(4, 8, 0x78),
	"ocn":    mapcalc.PortSets(6, 6, 5),
}

// shape is one rule set the router runs.
type shape struct {
	Name    string   `json:"name"`
	ISP     string   `json:"isp,omitempty"`     // empty: masquerade or the one-set floor
	Removed []string `json:"removed,omitempty"` // chains and sets taken out of ours
	// Floor marks the one-set shape: no table of ours, one SNAT rule to
	// the first port set in fw4's srcnat_wan before its masquerade.
	Floor bool   `json:"floor,omitempty"`
	text  string // our table (nft -f), empty for masquerade and the floor
	fw4   string // rules put in fw4's srcnat_wan before masquerade
	ports []mapcalc.PortRange
}

// floorShape is the least a MAP-E CE must do for a new connection: SNAT
// it to the shared address and a port of the ISP's port sets, here the
// first 16 ports (v6 plus's first set), with one rule in fw4's zone chain
// ahead of its masquerade. It is what the stock map package's first rule
// amounts to (it asks fw4 for one such rule per port set and protocol and
// only the first ever matches; written here as fw4 would render it, not
// rendered by the real fw4). Ours over it is what our spread, counts,
// guard and MSS cost together; it over masquerade is what SNAT into a
// 16-port range costs against masquerade, which keeps the client's port.
func floorShape() shape {
	p := isps["v6plus"]
	return shape{Name: "one-set", Floor: true, ports: p,
		fw4: fmt.Sprintf("meta nfproto ipv4 meta l4proto { icmp, tcp, udp } snat ip to %s:%d-%d", ceAddr, p[0].Lo, p[0].Hi)}
}

// fw4Like is the fw4-like table every shape runs under: the zone jump and
// masquerade, and extra rules (the floor's SNAT) before the masquerade.
func fw4Like(extra string) string {
	rules := "\t\tmeta nfproto ipv4 masquerade\n"
	if extra != "" {
		rules = "\t\t" + extra + "\n" + rules
	}
	return `table inet fw4like {
	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "` + tunnel + `" jump srcnat_wan
	}
	chain srcnat_wan {
` + rules + `	}
}
`
}

// cause is one part of our table whose cost is measured by removing it:
// the chains (by name, as firewall4 names them) and sets it consists of.
// Rules of the remaining chains that jump to a removed chain or add to a
// removed set go with it.
type cause struct {
	name  string
	match func(name string) bool
}

var causes = []cause{
	{"counts", func(n string) bool {
		// the walk, the try chains and their count sets: what is left of
		// srcnat is its last rule, the numgen spread without counts
		// (the endpoint-independent mapping is built on the counts: its
		// chain jumps to the try chains, its sets count like theirs)
		return n == firewall4.ChainWalk || n == firewall4.ChainEIM ||
			strings.HasPrefix(n, strings.TrimSuffix(firewall4.TryChain(0), "0")) ||
			strings.HasPrefix(n, strings.TrimSuffix(firewall4.OccSet(0), "0")) ||
			strings.HasPrefix(n, strings.TrimSuffix(firewall4.EIMSet(0), "0"))
	}},
	{"guard", func(n string) bool { return n == firewall4.ChainGuard }},
	{"mss", func(n string) bool { return n == firewall4.ChainMSS }},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	reps    int
	slot    time.Duration
	workers int
	closes  []string
	isps    []string
	causes  []string // close modes that also run ours without each cause
	out     string
	// conns > 0: goal 4's run instead of a time slot: each shape makes
	// exactly conns connections, spread evenly over the first servers
	// addresses (one port each) in a shuffled order.
	conns   int
	servers int
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("connrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var closes, ispList, causeList, table string
	fs.IntVar(&o.reps, "reps", 12, "repetitions (each runs every shape once)")
	fs.DurationVar(&o.slot, "slot", time.Second, "time per shape and repetition")
	fs.IntVar(&o.conns, "conns", 0, "instead of -slot: this many connections per shape and repetition, to -servers destinations (goal 4's FIN run)")
	fs.IntVar(&o.servers, "servers", 50, "with -conns: the number of server addresses, one port each")
	fs.IntVar(&o.workers, "workers", 32, "connections in flight")
	fs.StringVar(&closes, "close", "rst,fin", "how the client closes: rst (SO_LINGER 0), fin, or both")
	fs.StringVar(&ispList, "isps", "v6plus,ocn", "profiles whose table to measure")
	fs.StringVar(&causeList, "causes", "rst", "close modes that also measure ours without each cause (counts, guard, mss) and without all; empty: none")
	fs.StringVar(&o.out, "o", "", "write the results as JSON to this file")
	fs.StringVar(&table, "table", "", "print the markdown tables of this results file and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if table != "" {
		r, err := readResults(table)
		if err != nil {
			fmt.Fprintln(stderr, "connrate:", err)
			return 1
		}
		writeTables(stdout, r)
		return 0
	}
	o.closes = strings.Split(closes, ",")
	for _, c := range o.closes {
		if c != "rst" && c != "fin" {
			fmt.Fprintf(stderr, "connrate: -close %q: use rst, fin or rst,fin\n", c)
			return 2
		}
	}
	if causeList != "" {
		o.causes = strings.Split(causeList, ",")
	}
	o.isps = strings.Split(ispList, ",")
	for _, i := range o.isps {
		if _, ok := isps[i]; !ok {
			fmt.Fprintf(stderr, "connrate: -isps %q: use v6plus, ocn or both\n", i)
			return 2
		}
	}
	if (o.reps < 2 && o.conns == 0) || o.reps < 1 || o.workers < 1 || o.slot <= 0 || o.conns < 0 || o.servers < 1 || o.servers > 253 {
		fmt.Fprintln(stderr, "connrate: -reps must be at least 2 (a spread needs two; 1 with -conns), -workers and -slot positive, -servers 1-253")
		return 2
	}
	r, err := measure(o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "connrate:", err)
		return 1
	}
	writeTables(stdout, r)
	if o.out != "" {
		b, _ := json.MarshalIndent(r, "", "  ")
		if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "connrate:", err)
			return 1
		}
	}
	return 0
}

// shapes builds masquerade and, per ISP, ours and ours without each cause.
func shapes(o options) ([]shape, error) {
	out := []shape{{Name: "masq"}}
	if o.conns == 0 {
		// Not in goal 4's run: 200 connections to one destination do
		// not fit in one set's 16 ports while TIME_WAIT holds them.
		out = append(out, floorShape())
	}
	for _, isp := range o.isps {
		rs, err := firewall4.New(firewall4.Config{Interface: "wan_mape", Tunnel: tunnel,
			IPv4: netip.MustParseAddr(ceAddr), PortSets: isps[isp], MTU: tunnelMTU})
		if err != nil {
			return nil, err
		}
		full := rs.Include()
		out = append(out, shape{Name: isp, ISP: isp, text: full, ports: isps[isp]})
		// Option vrange: one virtual range, no counts (goals 1 and 3).
		vr, err := firewall4.New(firewall4.Config{Interface: "wan_mape", Tunnel: tunnel,
			IPv4: netip.MustParseAddr(ceAddr), PortSets: isps[isp], MTU: tunnelMTU, VirtualRange: true})
		if err != nil {
			return nil, err
		}
		out = append(out, shape{Name: isp + "-vrange", ISP: isp, text: vr.Include(), ports: isps[isp]})
		if len(o.causes) == 0 {
			continue
		}
		all := causes
		for _, c := range append(all, cause{name: "all"}) {
			match := c.match
			if c.name == "all" {
				match = func(n string) bool {
					for _, c := range all {
						if c.match(n) {
							return true
						}
					}
					return false
				}
			}
			text, removed, err := without(full, match)
			if err != nil {
				return nil, fmt.Errorf("%s without %s: %w", isp, c.name, err)
			}
			out = append(out, shape{Name: isp + "-no-" + c.name, ISP: isp, Removed: removed, text: text, ports: isps[isp]})
		}
	}
	return out, nil
}

// without removes from the include text every chain and set whose name
// matches, and every rule that refers to one of them (jump, goto, vmap,
// @set). It fails when nothing matched, or when a base chain is left
// without rules while it had some (the shape would not SNAT at all).
func without(text string, match func(string) bool) (string, []string, error) {
	lines := strings.Split(text, "\n")
	var out, removed []string
	refersToRemoved := func(line string) bool {
		for _, w := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ',' || r == '{' || r == '}' || r == '@' }) {
			if match(w) {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		f := strings.Fields(l)
		if len(f) == 3 && (f[0] == "chain" || f[0] == "set") && f[2] == "{" && strings.HasPrefix(l, "\t") && match(f[1]) {
			removed = append(removed, f[1])
			for i < len(lines) && lines[i] != "\t}" {
				i++
			}
			if i+1 < len(lines) && lines[i+1] == "" { // the blank line between blocks
				i++
			}
			continue
		}
		if strings.HasPrefix(l, "\t\t") && !strings.Contains(l, " hook ") && refersToRemoved(l) {
			continue
		}
		out = append(out, l)
	}
	if len(removed) == 0 {
		return "", nil, errors.New("no chain or set of that name (did firewall4 rename it?)")
	}
	res := strings.Join(out, "\n")
	res = strings.ReplaceAll(res, "\n\n}", "\n}")
	return res, removed, nil
}

// Results is what a run writes: the setup, every sample, and per close
// mode and shape the rate and ratio with their spread.
type Results struct {
	Date     string    `json:"date"`
	Kernel   string    `json:"kernel"`
	HostCPU  string    `json:"host_cpu"`
	CPUs     int       `json:"cpus"`
	Load     string    `json:"loadavg_start"`
	Reps     int       `json:"reps"`
	SlotMS   int64     `json:"slot_ms"`
	Workers  int       `json:"workers"`
	Dests    int       `json:"destinations"`
	Conns    int       `json:"conns,omitempty"` // connections per slot (goal 4's run); 0: timed slots
	Shapes   []shape   `json:"shapes"`
	Samples  []Sample  `json:"samples"`
	Summary  []Summary `json:"summary"`
	Breakdwn []Cost    `json:"breakdown"`
}

// Sample is one shape's slot in one repetition.
type Sample struct {
	Rep     int     `json:"rep"`
	Close   string  `json:"close"`
	Shape   string  `json:"shape"`
	OK      int     `json:"ok"`
	Failed  int     `json:"failed"`
	Slow    int     `json:"slow"` // took over 0.9 s: a SYN was retransmitted
	MS      float64 `json:"ms"`
	Rate    float64 `json:"rate"`
	BRDrops int     `json:"br_drops"` // out-of-set TCP the server saw (for masq: every non-set port, not dropped)
	// CPUMS is the CPU time the slot cost: this process (client, server
	// and the router's forwarding and NAT, which run in softirq on the
	// sending thread) plus the kernel's ksoftirqd threads. PerCPUSec =
	// OK / CPUMS: connections per CPU second, which other load on a
	// shared host disturbs far less than the wall-clock rate.
	CPUMS     float64 `json:"cpu_ms"`
	PerCPUSec float64 `json:"per_cpu_s"`
}

// Summary is one shape under one close mode over all repetitions.
type Summary struct {
	Close      string  `json:"close"`
	Shape      string  `json:"shape"`
	RateMedian float64 `json:"rate_median"`
	Ratio      float64 `json:"ratio"`      // median of per-repetition rate / masquerade's rate
	RatioCI95  float64 `json:"ratio_ci95"` // 95 % bootstrap half-width of Ratio (same unit)
	// The same for connections per CPU second (see Sample.PerCPUSec).
	PerCPUMedian float64 `json:"per_cpu_s_median"`
	CPURatio     float64 `json:"cpu_ratio"`
	CPURatioCI95 float64 `json:"cpu_ratio_ci95"`
	OK           int     `json:"ok"`
	Failed       int     `json:"failed"`
	Slow         int     `json:"slow"`
	BRDrops      int     `json:"br_drops"`
}

// Cost is what removing one cause gains: the median per-repetition rate of
// ours without it over ours with it, minus 1 (0.05: ours is 5 % faster
// without it), with its 95 % half-width in the same unit.
type Cost struct {
	Close   string   `json:"close"`
	ISP     string   `json:"isp"`
	Cause   string   `json:"cause"`
	Removed []string `json:"removed"`
	Gain    float64  `json:"gain"`
	CI95    float64  `json:"ci95"`
	CPUGain float64  `json:"cpu_gain"` // the same for connections per CPU second
	CPUCI95 float64  `json:"cpu_ci95"`
}

func measure(o options, log io.Writer) (*Results, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("needs root (network namespaces, nftables)")
	}
	for _, t := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(t); err != nil {
			return nil, fmt.Errorf("needs %s on PATH", t)
		}
	}
	shs, err := shapes(o)
	if err != nil {
		return nil, err
	}
	n, err := newNet()
	if err != nil {
		return nil, err
	}
	defer n.close()
	srv, err := n.serve()
	if err != nil {
		return nil, err
	}
	defer srv.close()
	r := &Results{Date: time.Now().UTC().Format(time.RFC3339), Kernel: kernel(), HostCPU: hostCPU(), CPUs: runtime.NumCPU(),
		Load: loadavg(), Reps: o.reps, SlotMS: o.slot.Milliseconds(), Workers: o.workers, Dests: len(n.dests), Shapes: shs, Conns: o.conns}
	if o.conns > 0 {
		r.SlotMS, r.Dests = 0, o.servers
	}
	for rep := range o.reps {
		for _, cl := range o.closes {
			for k := range shs {
				sh := shs[(k+rep)%len(shs)]
				if sh.Removed != nil && !slices.Contains(o.causes, cl) {
					continue
				}
				s, err := n.slot(sh, cl, o)
				if err != nil {
					return nil, fmt.Errorf("repetition %d, %s, %s: %w", rep, cl, sh.Name, err)
				}
				s.Rep = rep
				r.Samples = append(r.Samples, s)
			}
		}
		fmt.Fprintf(log, "connrate: repetition %d/%d done\n", rep+1, o.reps)
	}
	summarize(r, o)
	return r, nil
}

// summarize computes the per-shape summaries and the cause breakdown.
func summarize(r *Results, o options) {
	type k struct {
		cl, sh string
		rep    int
	}
	wall, cpu := map[k]float64{}, map[k]float64{}
	for _, s := range r.Samples {
		wall[k{s.Close, s.Shape, s.Rep}] = s.Rate
		cpu[k{s.Close, s.Shape, s.Rep}] = s.PerCPUSec
	}
	ratios := func(m map[k]float64, cl, num, den string) []float64 {
		var v []float64
		for rep := range o.reps {
			a, b := m[k{cl, num, rep}], m[k{cl, den, rep}]
			if b > 0 {
				v = append(v, a/b)
			}
		}
		return v
	}
	// gains fills in c the median gain of shape over c.ISP's full rules in
	// c's close mode, per wall-clock second and per CPU second.
	gains := func(c Cost, shape string) Cost {
		m, ci := stats(ratios(wall, c.Close, shape, c.ISP))
		c.Gain, c.CI95 = round(m-1, 4), round(ci, 4)
		m, ci = stats(ratios(cpu, c.Close, shape, c.ISP))
		c.CPUGain, c.CPUCI95 = round(m-1, 4), round(ci, 4)
		return c
	}
	for _, cl := range o.closes {
		for _, sh := range r.Shapes {
			if sh.Removed != nil && !slices.Contains(o.causes, cl) {
				continue
			}
			sm := Summary{Close: cl, Shape: sh.Name}
			var rates, per []float64
			for _, s := range r.Samples {
				if s.Close == cl && s.Shape == sh.Name {
					rates = append(rates, s.Rate)
					per = append(per, s.PerCPUSec)
					sm.OK += s.OK
					sm.Failed += s.Failed
					sm.Slow += s.Slow
					sm.BRDrops += s.BRDrops
				}
			}
			sm.RateMedian, sm.PerCPUMedian = round(median(rates), 1), round(median(per), 1)
			m, ci := stats(ratios(wall, cl, sh.Name, "masq"))
			sm.Ratio, sm.RatioCI95 = round(m, 4), round(ci, 4)
			m, ci = stats(ratios(cpu, cl, sh.Name, "masq"))
			sm.CPURatio, sm.CPURatioCI95 = round(m, 4), round(ci, 4)
			r.Summary = append(r.Summary, sm)
		}
		for _, sh := range r.Shapes {
			if sh.Removed == nil || !slices.Contains(o.causes, cl) {
				continue
			}
			c := Cost{Close: cl, ISP: sh.ISP, Cause: strings.TrimPrefix(sh.Name, sh.ISP+"-no-"), Removed: compact(sh.Removed)}
			r.Breakdwn = append(r.Breakdwn, gains(c, sh.Name))
		}
		// The floor against each ISP's full rules: what all of ours
		// costs over the least SNAT MAP-E needs, in every close mode.
		for _, f := range r.Shapes {
			if !f.Floor {
				continue
			}
			for _, sh := range r.Shapes {
				if sh.ISP == "" || sh.Name != sh.ISP {
					continue
				}
				c := Cost{Close: cl, ISP: sh.ISP, Cause: "all but the SNAT (" + f.Name + ")",
					Removed: []string{"the whole table; one SNAT rule to the first set in fw4's srcnat_wan instead"}}
				r.Breakdwn = append(r.Breakdwn, gains(c, f.Name))
			}
		}
	}
}

// compact abbreviates numbered names: try_0 … try_14 becomes try_0..14.
func compact(names []string) []string {
	var out []string
	for i := 0; i < len(names); {
		j := i
		base, n, ok := splitNum(names[i])
		for ok && j+1 < len(names) {
			b2, n2, ok2 := splitNum(names[j+1])
			if !ok2 || b2 != base || n2 != n+(j+1-i) {
				break
			}
			j++
		}
		if j > i {
			out = append(out, fmt.Sprintf("%s%d..%d", base, n, n+j-i))
		} else {
			out = append(out, names[i])
		}
		i = j + 1
	}
	return out
}

func splitNum(s string) (string, int, bool) {
	k := strings.LastIndexByte(s, '_')
	if k < 0 {
		return s, 0, false
	}
	var n int
	if _, err := fmt.Sscanf(s[k+1:], "%d", &n); err != nil || fmt.Sprint(n) != s[k+1:] {
		return s, 0, false
	}
	return s[:k+1], n, true
}

// stats returns the median of v and the half-width of its 95 %
// bootstrap confidence interval (2000 resamples, fixed seed: the same
// samples always give the same interval). The median, not the mean: on a
// shared host a slot now and then gets a fraction of a CPU (its rate
// drops to a tenth), which would dominate a mean and its t interval.
func stats(v []float64) (med, ci float64) {
	if len(v) == 0 {
		return 0, 0
	}
	med = median(v)
	if len(v) < 2 {
		return med, 0
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 2000
	meds := make([]float64, n)
	re := make([]float64, len(v))
	for i := range meds {
		for j := range re {
			re[j] = v[rng.IntN(len(v))]
		}
		meds[i] = median(re)
	}
	sort.Float64s(meds)
	return med, (meds[n-1-n/40] - meds[n/40]) / 2
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func readResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// writeTables prints the summary and the breakdown as markdown tables.
func writeTables(w io.Writer, r *Results) {
	per := fmt.Sprintf("%d ms", r.SlotMS)
	if r.Conns > 0 {
		per = fmt.Sprintf("%d connections", r.Conns)
	}
	fmt.Fprintf(w, "Kernel %s, %d CPUs (%s), load average at start %s; %d repetitions of %s per shape, %d connections in flight, %d destinations.\n\n",
		r.Kernel, r.CPUs, r.HostCPU, r.Load, r.Reps, per, r.Workers, r.Dests)
	fmt.Fprintln(w, "| close | shape | conn/s (median) | × masquerade (median ± 95 %) | conn per CPU s (median) | × masquerade (median ± 95 %) | ok | failed | slow | BR drops |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range r.Summary {
		fmt.Fprintf(w, "| %s | %s | %.0f | %.3f ± %.3f | %.0f | %.3f ± %.3f | %d | %d | %d | %d |\n",
			s.Close, s.Shape, s.RateMedian, s.Ratio, s.RatioCI95,
			s.PerCPUMedian, s.CPURatio, s.CPURatioCI95, s.OK, s.Failed, s.Slow, s.BRDrops)
	}
	if len(r.Breakdwn) == 0 {
		return
	}
	fmt.Fprintln(w, "\nWhat each cause costs: ours without it over ours, same repetition (+5 % = ours is 5 % faster without it).")
	fmt.Fprintln(w, "\n| close | isp | cause | chains and sets removed | conn/s without it (median ± 95 %) | conn per CPU s without it (median ± 95 %) |")
	fmt.Fprintln(w, "|---|---|---|---|---:|---:|")
	for _, c := range r.Breakdwn {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %+.1f %% ± %.1f %% | %+.1f %% ± %.1f %% |\n",
			c.Close, c.ISP, c.Cause, strings.Join(c.Removed, ", "), 100*c.Gain, 100*c.CI95, 100*c.CPUGain, 100*c.CPUCI95)
	}
}

// network is the three namespaces and their links.
type network struct {
	prefix           string
	lan, router, srv netns.NsHandle
	lanN, rtrN, srvN string
	dests            []string
	routerConntrack  *netlink.Handle
}

func ipn(ns string, args ...string) error {
	a := append([]string{"-n", ns}, args...)
	if out, err := exec.Command("ip", a...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(a, " "), err, out)
	}
	return nil
}

func inNS(ns string, stdin string, name string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in %s: %v: %s", name, strings.Join(args, " "), ns, err, out)
	}
	return string(out), nil
}

func newNet() (*network, error) {
	p := fmt.Sprintf("cr%d-", os.Getpid())
	n := &network{prefix: p, lanN: p + "lan", rtrN: p + "rtr", srvN: p + "srv"}
	for _, ns := range []string{n.lanN, n.rtrN, n.srvN} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			n.close()
			return nil, fmt.Errorf("ip netns add %s: %v: %s", ns, err, out)
		}
	}
	fw4 := fw4Like("")
	steps := []func() error{
		func() error {
			return ipn(n.rtrN, "link", "add", "lan", "type", "veth", "peer", "name", "lan0", "netns", n.lanN)
		},
		func() error {
			return ipn(n.rtrN, "link", "add", tunnel, "mtu", fmt.Sprint(tunnelMTU), "type", "veth", "peer", "name", "br0", "mtu", fmt.Sprint(tunnelMTU), "netns", n.srvN)
		},
		func() error { return ipn(n.lanN, "addr", "add", "10.0.0.2/24", "dev", "lan0") },
		func() error { return ipn(n.rtrN, "addr", "add", "10.0.0.1/24", "dev", "lan") },
		func() error { return ipn(n.rtrN, "addr", "add", ceAddr+"/32", "dev", tunnel) },
		func() error { return ipn(n.srvN, "addr", "add", serverNet+".1/24", "dev", "br0") },
		func() error { return ipn(n.lanN, "link", "set", "lo", "up") },
		func() error { return ipn(n.lanN, "link", "set", "lan0", "up") },
		func() error { return ipn(n.rtrN, "link", "set", "lo", "up") },
		func() error { return ipn(n.rtrN, "link", "set", "lan", "up") },
		func() error { return ipn(n.rtrN, "link", "set", tunnel, "up") },
		func() error { return ipn(n.srvN, "link", "set", "lo", "up") },
		func() error { return ipn(n.srvN, "link", "set", "br0", "up") },
		func() error { return ipn(n.lanN, "route", "add", "default", "via", "10.0.0.1") },
		func() error {
			return ipn(n.rtrN, "route", "add", serverNet+".0/24", "dev", tunnel, "src", ceAddr)
		},
		func() error { return ipn(n.srvN, "route", "add", "local", serverNet+".0/24", "dev", "lo") },
		func() error { return ipn(n.srvN, "route", "add", ceAddr+"/32", "dev", "br0", "src", serverNet+".1") },
		func() error {
			_, err := inNS(n.rtrN, "", "sysctl", "-qw", "net.ipv4.ip_forward=1")
			return err
		},
		func() error {
			_, err := inNS(n.lanN, "", "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535")
			return err
		},
		func() error { _, err := inNS(n.rtrN, fw4, "nft", "-f", "-"); return err },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			n.close()
			return nil, err
		}
	}
	var err error
	for _, h := range []struct {
		name string
		h    *netns.NsHandle
	}{{n.lanN, &n.lan}, {n.rtrN, &n.router}, {n.srvN, &n.srv}} {
		if *h.h, err = netns.GetFromName(h.name); err != nil {
			n.close()
			return nil, fmt.Errorf("open netns %s: %w", h.name, err)
		}
	}
	if n.routerConntrack, err = netlink.NewHandleAt(n.router); err != nil {
		n.close()
		return nil, fmt.Errorf("netlink in %s: %w", n.rtrN, err)
	}
	for a := 2; a <= 254; a++ {
		for p := range serverPorts {
			n.dests = append(n.dests, fmt.Sprintf("%s.%d:%d", serverNet, a, serverPort0+p))
		}
	}
	return n, nil
}

func (n *network) close() {
	if n.routerConntrack != nil {
		n.routerConntrack.Close()
	}
	for _, h := range []netns.NsHandle{n.lan, n.router, n.srv} {
		if h > 0 {
			h.Close()
		}
	}
	for _, ns := range []string{n.lanN, n.rtrN, n.srvN} {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
}

// do runs f on a thread in namespace h.
func do(h netns.NsHandle, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := netns.Set(h); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// server accepts on every port; each connection gets one byte back for
// the one it sent and is closed when the client closes.
type server struct {
	ls []net.Listener
	wg sync.WaitGroup
}

func (n *network) serve() (*server, error) {
	s := &server{}
	err := do(n.srv, func() error {
		for p := range serverPorts {
			l, err := net.Listen("tcp4", fmt.Sprintf(":%d", serverPort0+p))
			if err != nil {
				return err
			}
			s.ls = append(s.ls, l)
		}
		return nil
	})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("server: %w", err)
	}
	for _, l := range s.ls {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				c, err := l.Accept()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue
				}
				go func() {
					defer c.Close()
					b := make([]byte, 64)
					if _, err := c.Read(b[:1]); err != nil {
						return
					}
					if _, err := c.Write(b[:1]); err != nil {
						return
					}
					_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
					for {
						if _, err := c.Read(b); err != nil {
							return
						}
					}
				}()
			}
		}()
	}
	return s, nil
}

func (s *server) close() {
	for _, l := range s.ls {
		l.Close()
	}
	s.wg.Wait()
}

// load puts shape sh on the router and the matching port check on the
// server, and empties the router's conntrack table.
func (n *network) load(sh shape) error {
	table := firewall4.TableName("wan_mape")
	text := sh.text
	if text == "" {
		text = fmt.Sprintf("table ip %s\ndelete table ip %s\n", table, table)
	}
	text = "table inet fw4like\ndelete table inet fw4like\n" + fw4Like(sh.fw4) + text
	if _, err := inNS(n.rtrN, text, "nft", "-f", "-"); err != nil {
		return err
	}
	verdict, set := "accept", "1-65535"
	if sh.ports != nil {
		verdict = "drop"
		var el []string
		for _, p := range sh.ports {
			el = append(el, fmt.Sprintf("%d-%d", p.Lo, p.Hi))
		}
		set = strings.Join(el, ", ")
	}
	br := fmt.Sprintf(`table ip br
delete table ip br
table ip br {
	counter out_of_set {
	}
	set ports {
		type inet_service
		flags interval
		elements = { %s }
	}
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		ip saddr %s meta l4proto tcp tcp sport != @ports counter name out_of_set %s
	}
}
`, set, ceAddr, verdict)
	if sh.ports == nil {
		// masquerade keeps the client's port: count nothing (the VM
		// bench switches the BR's check off for it), same rule cost
		br = strings.Replace(br, "tcp sport != @ports", "tcp sport 0", 1)
	}
	if _, err := inNS(n.srvN, br, "nft", "-f", "-"); err != nil {
		return err
	}
	if err := n.routerConntrack.ConntrackTableFlush(netlink.ConntrackTable); err != nil {
		return fmt.Errorf("flush conntrack in %s: %w", n.rtrN, err)
	}
	return nil
}

func (n *network) brDrops() (int, error) {
	out, err := inNS(n.srvN, "", "nft", "list", "counter", "ip", "br", "out_of_set")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(out)
	for i := range f[:len(f)-1] {
		if f[i] == "packets" {
			var v int
			if _, err := fmt.Sscanf(f[i+1], "%d", &v); err == nil {
				return v, nil
			}
		}
	}
	return 0, fmt.Errorf("no packet count in %q", out)
}

// slot runs shape sh for o.slot with o.workers clients.
func (n *network) slot(sh shape, cl string, o options) (Sample, error) {
	if err := n.load(sh); err != nil {
		return Sample{}, err
	}
	var next, ok, failed, slow atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(o.slot)
	dests := n.dests
	var order []int32
	if o.conns > 0 {
		// goal 4: conns connections, conns/servers to each of the first
		// servers addresses (port serverPort0), in a shuffled order (a
		// round robin against numgen inc would pin each destination to a
		// few sets); the slot ends when all are done
		dests = dests[:0:0]
		for a := range o.servers {
			dests = append(dests, fmt.Sprintf("%s.%d:%d", serverNet, a+2, serverPort0))
		}
		order = make([]int32, o.conns)
		for i := range order {
			order[i] = int32(i % o.servers)
		}
		rng := rand.New(rand.NewPCG(uint64(o.conns), 14))
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		deadline = start.Add(24 * time.Hour)
	}
	errc := make(chan error, o.workers)
	for range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
			if err := netns.Set(n.lan); err != nil {
				errc <- err
				return
			}
			d := net.Dialer{Timeout: 3 * time.Second}
			b := make([]byte, 1)
			for time.Now().Before(deadline) {
				// spread over the destinations in a scattered order
				i := next.Add(1)
				dst := dests[(i*7919)%int64(len(dests))]
				if order != nil {
					if i > int64(len(order)) {
						break
					}
					dst = dests[order[i-1]]
				}
				t0 := time.Now()
				c, err := d.Dial("tcp4", dst)
				if err != nil {
					failed.Add(1)
					continue
				}
				tc := c.(*net.TCPConn)
				_ = c.SetDeadline(time.Now().Add(3 * time.Second))
				_, err = c.Write(b)
				if err == nil {
					_, err = io.ReadFull(c, b)
				}
				if cl == "rst" {
					_ = tc.SetLinger(0)
				}
				c.Close()
				if err != nil {
					failed.Add(1)
					continue
				}
				ok.Add(1)
				if time.Since(t0) > 900*time.Millisecond {
					slow.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	close(errc)
	if err := <-errc; err != nil {
		return Sample{}, err
	}
	drops, err := n.brDrops()
	if err != nil {
		return Sample{}, err
	}
	return Sample{Close: cl, Shape: sh.Name, OK: int(ok.Load()), Failed: int(failed.Load()), Slow: int(slow.Load()),
		MS: round(float64(elapsed.Microseconds())/1000, 1), Rate: round(float64(ok.Load())/elapsed.Seconds(), 1), BRDrops: drops,
		CPUMS: round(float64(cpu.Microseconds())/1000, 1), PerCPUSec: round(float64(ok.Load())/cpu.Seconds(), 1)}, nil
}

// cpuTime is the CPU time used so far by this process (every thread,
// finished ones included) and by the kernel's ksoftirqd threads, which
// take over softirq work (our forwarding and NAT) when it piles up.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return t + ksoftirqdTime()
}

// ksoftirqdTime sums utime and stime of every ksoftirqd thread, from
// /proc/PID/stat (in clock ticks of 10 ms).
func ksoftirqdTime() time.Duration {
	var total time.Duration
	ds, _ := os.ReadDir("/proc")
	for _, d := range ds {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil || !strings.Contains(string(b), "(ksoftirqd/") {
			continue
		}
		_, rest, ok := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if !ok || len(f) < 13 {
			continue
		}
		var ut, st int64
		fmt.Sscan(f[11], &ut)
		fmt.Sscan(f[12], &st)
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func hostCPU() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
