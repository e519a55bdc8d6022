package mapcalc

import "encoding/json"

// ResultJSON is the machine-readable form of a Result: the `calc --json`
// output, the rpcd `calc` answer, the data the handler hands netifd and the
// rule part of the state file (package state embeds it). Its keys are a
// public contract; add, never rename.
type ResultJSON struct {
	ISP       string      `json:"isp"`
	BR        string      `json:"br"`
	CE        string      `json:"ce"`
	IPv4      string      `json:"ipv4"`
	IP4Prefix string      `json:"ip4prefix"`
	IP6Prefix string      `json:"ip6prefix"`
	EALen     int         `json:"ealen"`
	PSIDLen   int         `json:"psidlen"`
	PSID      uint16      `json:"psid"`
	Offset    int         `json:"offset"`
	Legacy    bool        `json:"legacy"`
	PortSets  []PortRange `json:"port_sets"`
	Ports     int         `json:"ports"`
}

// MarshalJSON writes the keys isp, br, ce, ipv4, ip4prefix, ip6prefix,
// ealen, psidlen, psid, offset, legacy, port_sets ([lo, hi] pairs) and
// ports (the total count).
func (r *Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(r.JSON())
}

// JSON is r in its machine-readable form (see ResultJSON); an invalid BR
// is "".
func (r *Result) JSON() ResultJSON {
	j := ResultJSON{
		ISP:       r.Rule.ISP,
		CE:        r.CE.String(),
		IPv4:      r.IPv4.String(),
		IP4Prefix: r.Rule.IP4Prefix.String(),
		IP6Prefix: r.Rule.IP6Prefix.String(),
		EALen:     r.Rule.EALen,
		PSIDLen:   r.Rule.PSIDLen,
		PSID:      r.PSID,
		Offset:    r.Rule.Offset,
		Legacy:    r.Rule.Legacy,
		PortSets:  append(make([]PortRange, 0, len(r.PortSets)), r.PortSets...),
		Ports:     r.Ports(),
	}
	if r.Rule.BR.IsValid() {
		j.BR = r.Rule.BR.String()
	}
	return j
}
