package status

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/ucibridge"
)

const firewallConfig = `
config defaults
	option input 'REJECT'

config zone
	option name 'wan'
	list network 'wan'
	list network 'wan6'
	list network 'wanmap'

config redirect
	option name 'ssh'
	option src 'wan'
	option src_dport '6020'
	option dest 'lan'
	option dest_ip '192.168.1.10'
	option dest_port '22'
	option proto 'tcp'
	option target 'DNAT'

config redirect
	option name 'web'
	option src 'wan'
	option src_dport '80'
	option dest_ip '192.168.1.20'
	list proto 'tcp'
	list proto 'udp'

config redirect
	option src 'wan'
	option src_dport '10112-10127'
	option dest_ip '192.168.1.30'
	option enabled '0'

config redirect
	option name 'v6only'
	option src 'wan'
	option src_dport '443'
	option family 'ipv6'

config rule
	option name 'Allow-Ping'
	option src 'wan'
`

func TestRedirectsFromUCI(t *testing.T) {
	p, err := ucibridge.Parse("firewall", strings.NewReader(firewallConfig))
	if err != nil {
		t.Fatal(err)
	}
	got := RedirectsFromUCI(p)
	want := []Redirect{
		{Name: "ssh", Src: "wan", SrcDPort: "6020", Proto: "tcp", DestIP: "192.168.1.10", DestPort: "22", Target: "DNAT", Enabled: true},
		{Name: "web", Src: "wan", SrcDPort: "80", Proto: "tcp udp", DestIP: "192.168.1.20", Enabled: true},
		{Name: "@redirect[2]", Src: "wan", SrcDPort: "10112-10127", DestIP: "192.168.1.30", Enabled: false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	checks := CheckRedirects(got, "wan", v6plusSets())
	if len(checks) != 2 || checks[0].Verdict != Usable || checks[1].Verdict != NotUsable {
		t.Errorf("verdicts = %+v", checks)
	}
}

func TestFirewallFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "firewall")
	if err := os.WriteFile(path, []byte(firewallConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := FirewallFile{Path: path}.Redirects()
	if err != nil || len(r) != 3 {
		t.Fatalf("redirects = %v, %v", r, err)
	}
	r, err = FirewallFile{Path: filepath.Join(dir, "absent")}.Redirects()
	if err != nil || r != nil {
		t.Errorf("missing file: %v, %v", r, err)
	}
	if err := os.WriteFile(path, []byte("config redirect\n\toption name 'unterminated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (FirewallFile{Path: path}).Redirects(); err == nil || !strings.Contains(err.Error(), "firewall config") {
		t.Errorf("broken file: %v", err)
	}
}
