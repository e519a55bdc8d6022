// Command natpmpc is the NAT-PMP (RFC 6886) client of the UPnP VM test
// (upnp/vm.sh): Debian ships no NAT-PMP client, so this asks the gateway
// through github.com/jackpal/go-nat-pmp and prints one JSON line the
// scenario script asserts on:
//
//	natpmpc -gw 192.168.1.1 -proto tcp -int 7000 -ext 80
//	{"external_ip":"14.8.52.86","external_port":6016,"err":""}
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	natpmp "github.com/jackpal/go-nat-pmp"
)

// Report is the line natpmpc prints.
type Report struct {
	ExternalIP   string `json:"external_ip"`
	ExternalPort int    `json:"external_port"`
	Err          string `json:"err"`
}

func main() {
	gw := flag.String("gw", "192.168.1.1", "gateway address")
	proto := flag.String("proto", "tcp", "tcp or udp")
	intPort := flag.Int("int", 7000, "internal port")
	extPort := flag.Int("ext", 0, "requested external port")
	life := flag.Int("lifetime", 600, "mapping lifetime in seconds")
	flag.Parse()
	rep := ask(*gw, *proto, *intPort, *extPort, *life)
	b, _ := json.Marshal(rep)
	fmt.Println(string(b))
	if rep.Err != "" {
		os.Exit(1)
	}
}

func ask(gw, proto string, intPort, extPort, life int) Report {
	c := natpmp.NewClientWithTimeout(net.ParseIP(gw), 5*time.Second)
	var rep Report
	addr, err := c.GetExternalAddress()
	if err != nil {
		rep.Err = "external address: " + err.Error()
		return rep
	}
	rep.ExternalIP = netip.AddrFrom4(addr.ExternalIPAddress).String()
	m, err := c.AddPortMapping(proto, intPort, extPort, life)
	if err != nil {
		rep.Err = "mapping: " + err.Error()
		return rep
	}
	rep.ExternalPort = int(m.MappedExternalPort)
	return rep
}
