package status

import (
	"fmt"
	"net/netip"

	"github.com/mapehelper/mapehelper/state"
)

// Probe asks the kernel whether an interface's objects exist.
type Probe interface {
	// TunnelUp reports whether the tunnel device exists and is up.
	TunnelUp(dev string) (bool, error)
	// RulesPresent reports whether our nftables rules for st are loaded.
	RulesPresent(st state.Record) (bool, error)
}

// Rule is the MAP rule an interface runs with.
type Rule struct {
	IP6Prefix string `json:"ip6prefix"`
	IP4Prefix string `json:"ip4prefix"`
	EALen     int    `json:"ealen"`
	PSIDLen   int    `json:"psidlen"`
	Offset    int    `json:"offset"`
	Legacy    bool   `json:"legacy"`
}

// Interface is the status of one MAP interface.
type Interface struct {
	Interface string      `json:"interface"`
	State     string      `json:"state"`
	ISP       string      `json:"isp"`
	Rule      Rule        `json:"rule"`
	BR        string      `json:"br"`
	CE        string      `json:"ce"`
	IPv4      string      `json:"ipv4"`
	PSID      int         `json:"psid"`
	PortSets  []PortRange `json:"port_sets"`
	Ports     int         `json:"ports"`
	Tunnel    string      `json:"tunnel"`
	Link      string      `json:"link"`
	MTU       int         `json:"mtu"`
	Updated   string      `json:"updated"`
	// TunnelUp, NFTRules and InUse are what the kernel showed; nil (JSON
	// null, "unknown" in the text) when it could not be asked (no
	// permission, no conntrack netlink, the record names no table): an
	// unchecked "no" or "0 in use" would read as a finding. InUse is also
	// nil for an interface that is not up, whose ports carry nothing.
	TunnelUp *bool  `json:"tunnel_up"`
	NFTRules *bool  `json:"nft_rules"`
	InUse    *Usage `json:"ports_in_use"`
	// UsableExternalPorts are the external ports a port forward can use:
	// exactly our port sets, since the BR delivers no other port to us;
	// none while the interface is not up.
	UsableExternalPorts []PortRange     `json:"usable_external_ports"`
	Redirects           []RedirectCheck `json:"redirects"`
	// FreePorts, LANHosts and NATPressure help fix a port forward: which
	// external ports nothing uses, which LAN host holds how many, and
	// whether the kernel is failing to find ports or table room. nil
	// (null) when unknown; FreePorts and LANHosts also while not up.
	FreePorts   *FreePorts `json:"free_ports"`
	LANHosts    *LANHosts  `json:"lan_hosts"`
	NATPressure *Pressure  `json:"nat_pressure"`
	LastError   string     `json:"last_error"`
	ErrorCode   string     `json:"error_code,omitempty"`
	// Problems lists what could not be checked (e.g. conntrack unreadable).
	Problems []string `json:"problems,omitempty"`
}

// Report is the status of every MAP interface.
type Report struct {
	Interfaces []Interface `json:"interfaces"`
}

// Collector gathers a Report from its sources. Any nil source other than
// States is skipped and noted in each interface's Problems.
type Collector struct {
	States    Source
	Flows     FlowLister
	Probe     Probe
	Redirects RedirectSource
	Pressure  PressureReader
	// UPnP lists the external ports miniupnpd has granted; nil when no
	// UPnP daemon is known.
	UPnP PortSource
}

// PortSource lists external ports taken by something other than a flow.
type PortSource interface {
	Ports() ([]PortRange, error)
}

// Collect builds the report. Only a failure to list the interfaces is an
// error; everything else is reported per interface, so one broken probe
// never hides the rest.
func (c Collector) Collect() (Report, error) {
	states, err := c.States.Interfaces()
	if err != nil {
		return Report{}, fmt.Errorf("list MAP interfaces: %w", err)
	}
	rep := Report{Interfaces: make([]Interface, 0, len(states))}
	if len(states) == 0 {
		return rep, nil
	}
	var common []string
	var flows []Flow
	flowsRead := false
	if c.Flows == nil {
		common = append(common, "conntrack: not available")
	} else if flows, err = c.Flows.Flows(); err != nil {
		common = append(common, fmt.Sprintf("conntrack: %v", err))
	} else {
		flowsRead = true
	}
	var redirects []Redirect
	if c.Redirects != nil {
		if redirects, err = c.Redirects.Redirects(); err != nil {
			common = append(common, fmt.Sprintf("firewall redirects: %v", err))
		}
	}
	if !flowsRead {
		flows = nil
	}
	var pressure *Pressure
	if c.Pressure == nil {
		common = append(common, "NAT pressure counters: not available")
	} else if p, err := c.Pressure.Pressure(); err != nil {
		common = append(common, fmt.Sprintf("NAT pressure counters: %v", err))
	} else {
		pressure = &p
	}
	var upnp []PortRange
	if c.UPnP != nil {
		if upnp, err = c.UPnP.Ports(); err != nil {
			common = append(common, fmt.Sprintf("UPnP mappings: %v", err))
		}
	}
	for _, st := range states {
		fl := flows
		if st.VirtualRange {
			fl = RealPorts(flows, st.IPv4, st.PortSets)
		}
		it := c.one(st, flowsRead, fl, redirects, common)
		it.NATPressure = pressure
		if it.InUse != nil {
			it.FreePorts, it.LANHosts = helpForwards(fl, it, upnp)
		}
		rep.Interfaces = append(rep.Interfaces, it)
	}
	return rep, nil
}

func (c Collector) one(st state.Record, flowsRead bool, flows []Flow, redirects []Redirect, common []string) Interface {
	sets := append(make([]PortRange, 0, len(st.PortSets)), st.PortSets...) // [] rather than null in the JSON
	it := Interface{
		Interface: st.Interface,
		State:     st.State,
		ISP:       st.ISP,
		Rule: Rule{IP6Prefix: st.IP6Prefix, IP4Prefix: st.IP4Prefix, EALen: st.EALen,
			PSIDLen: st.PSIDLen, Offset: st.Offset, Legacy: st.Legacy},
		BR:                  st.BR,
		CE:                  st.CE,
		IPv4:                st.IPv4,
		PSID:                int(st.PSID),
		PortSets:            sets,
		Ports:               st.Ports,
		Tunnel:              st.Tunnel,
		Link:                st.Link,
		MTU:                 st.MTU,
		Updated:             st.Updated,
		UsableExternalPorts: []PortRange{},
		LastError:           st.Error,
		ErrorCode:           st.ErrorCode,
		Problems:            append([]string(nil), common...),
	}
	if it.Ports == 0 {
		for _, p := range sets {
			it.Ports += p.Len()
		}
	}
	up := st.State == state.Up
	if up {
		it.UsableExternalPorts = sets
	}
	ip, err := netip.ParseAddr(st.IPv4)
	if err != nil && st.IPv4 != "" {
		it.Problems = append(it.Problems, fmt.Sprintf("ipv4 %q in the state file is not an address", st.IPv4))
	}
	if up && flowsRead && err == nil {
		u := CountUsage(flows, ip, sets)
		if u.Sets == nil {
			u.Sets = []SetUsage{}
		}
		it.InUse = &u
	}
	it.Redirects = CheckRedirects(redirects, st.Zone, sets)
	if it.Redirects == nil {
		it.Redirects = []RedirectCheck{}
	}
	if c.Probe == nil {
		it.Problems = append(it.Problems, "kernel probe: not available")
		return it
	}
	if st.Tunnel != "" {
		tup, err := c.Probe.TunnelUp(st.Tunnel)
		if err != nil {
			it.Problems = append(it.Problems, fmt.Sprintf("tunnel %s: %v", st.Tunnel, err))
		} else {
			it.TunnelUp = &tup
		}
	}
	present, err := c.Probe.RulesPresent(st)
	if err != nil {
		it.Problems = append(it.Problems, fmt.Sprintf("nftables: %v", err))
	} else {
		it.NFTRules = &present
	}
	return it
}

// helpForwards computes the free ports (what a new forward can take) and
// the per-host tally of an interface that is up with conntrack read.
func helpForwards(flows []Flow, it Interface, upnp []PortRange) (*FreePorts, *LANHosts) {
	ip, err := netip.ParseAddr(it.IPv4)
	if err != nil {
		return nil, nil
	}
	taken := UsedPorts(flows, ip)
	for _, r := range upnp {
		taken.AddRange(r)
	}
	for _, r := range it.Redirects {
		for _, u := range r.Usable {
			taken.AddRange(u)
		}
	}
	free := ComputeFree(it.PortSets, taken, FreeSuggestions)
	hosts := CountHosts(flows, ip, TopHosts)
	return &free, &hosts
}
