package status

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mapehelper/mapehelper/dataplane"
)

// TestReadsDataplaneState checks that what `mapehelper up` writes is what
// status reads: every key of dataplane.State that status uses arrives.
func TestReadsDataplaneState(t *testing.T) {
	w := dataplane.State{
		Interface: "wan_mape", State: "up", ISP: "v6plus", BR: "2404:9200:225:100::64",
		CE: "240b:12:3456:7800:e:834:5600:7800", IPv4: "14.8.52.86", IP4Prefix: "14.8.0.0/16",
		IP6Prefix: "240b:12::/32", EALen: 24, PSIDLen: 8, PSID: 120, Offset: 4, Legacy: true,
		PortSets: [][2]uint16{{6016, 6031}, {10112, 10127}}, Ports: 32, Tunnel: "map-wan_mape", Zone: "wan",
		NFTTable: "ip mh_wan_mape", NFTChains: []string{"set_0", "snat"}, Error: "e", ErrorCode: "FAILED",
		Updated: "2026-01-02T03:04:05Z", Link: "wan", MTU: 1460,
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var got State
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := State{
		Interface: w.Interface, State: w.State, ISP: w.ISP, BR: w.BR, CE: w.CE, IPv4: w.IPv4, IP4Prefix: w.IP4Prefix,
		IP6Prefix: w.IP6Prefix, EALen: 24, PSIDLen: 8, PSID: 120, Offset: 4, Legacy: true,
		PortSets: []PortRange{{6016, 6031}, {10112, 10127}}, Ports: 32, Tunnel: w.Tunnel, Zone: "wan",
		NFTTable: w.NFTTable, NFTChains: w.NFTChains, Error: "e", ErrorCode: "FAILED", Updated: w.Updated,
		Link: "wan", MTU: 1460,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v\nwant %+v", got, want)
	}
	if DefaultStateDir != dataplane.DefaultStateDir {
		t.Errorf("status reads %s, up writes %s", DefaultStateDir, dataplane.DefaultStateDir)
	}
}
