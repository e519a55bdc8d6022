package options_test

import (
	"encoding/json"
	"testing"

	"github.com/mapehelper/mapehelper/options"
)

// netifdJSON is the shape netifd hands the handler for the plala stock
// section: the declared ints and the boolean as numbers, the rest strings,
// plus netifd's own keys that options.Interface ignores.
const netifdJSON = `{"proto":"map","maptype":"map-e","peeraddr":"2001:380:a120::9","ipaddr":"153.240.0.0",
"ip4prefixlen":16,"ip6prefix":"2400:4050::","ip6prefixlen":34,"ealen":22,"psidlen":6,"offset":6,
"legacymap":true,"tunlink":"wan6","mtu":1460,"encaplimit":"ignore","zone":"wan","auto":true,"metric":10}`

func TestNetifdJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     options.Interface
		wantErr  bool
	}{
		{"stock plala section", netifdJSON, options.Interface{
			Proto: "map", Peeraddr: "2001:380:a120::9", IPAddr: "153.240.0.0", IP4PrefLen: options.SetInt(16),
			IP6Prefix: "2400:4050::", IP6PrefLen: options.SetInt(34), EALen: options.SetInt(22), PSIDLen: options.SetInt(6),
			Offset: options.SetInt(6), LegacyMap: options.Bool{Value: true, Set: true}, Tunlink: "wan6",
			MTU: options.SetInt(1460), EncapLimit: "ignore", Zone: "wan"}, false},
		{"minimal mape", `{"proto":"mape","tunlink":"wan6"}`, options.Interface{Proto: "mape", Tunlink: "wan6"}, false},
		{"ints and booleans as strings", `{"ealen":"24","legacymap":"1","psid":""}`,
			options.Interface{EALen: options.SetInt(24), LegacyMap: options.Bool{Value: true, Set: true}}, false},
		{"boolean as a number", `{"legacymap":0}`, options.Interface{LegacyMap: options.Bool{Set: true}}, false},
		{"vrange", `{"vrange":"1"}`, options.Interface{VRange: options.Bool{Value: true, Set: true}}, false},
		{"nulls are unset", `{"ealen":null,"legacymap":null}`, options.Interface{}, false},
		{"not a number", `{"ealen":"x"}`, options.Interface{}, true},
		{"fraction", `{"ealen":2.5}`, options.Interface{}, true},
		{"bad boolean", `{"legacymap":"maybe"}`, options.Interface{}, true},
		{"object for an int", `{"mtu":{}}`, options.Interface{}, true},
		{"array for a string", `{"rule":["a"]}`, options.Interface{}, true},
		{"not an object", `[1]`, options.Interface{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got options.Interface
			err := json.Unmarshal([]byte(tc.in), &got)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("accepted %s as %+v", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// FuzzNetifdJSON: whatever netifd (or an attacker with write access to the
// handler's input) sends, decoding never panics, and an accepted document
// re-encodes to JSON that decodes to the same options.
func FuzzNetifdJSON(f *testing.F) {
	for _, s := range []string{
		netifdJSON, `{}`, `{"proto":"mape","tunlink":"wan6"}`, `{"ealen":"24","legacymap":"yes"}`,
		`{"ealen":1e3}`, `{"psid":-1,"mtu":"0x10"}`, `{"legacymap":2}`, `{"rule":"$(reboot)\n'\""}`,
		`{"ealen":" 24 "}`, `{"ealen":99999999999999999999}`, `null`, `{"ealen":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o options.Interface
		if err := json.Unmarshal(data, &o); err != nil {
			return
		}
		out, err := json.Marshal(o)
		if err != nil {
			t.Fatalf("accepted %q but cannot re-encode %+v: %v", data, o, err)
		}
		var back options.Interface
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", out, err)
		}
		if back != o {
			t.Fatalf("round trip changed the options\n got %+v\nwant %+v\njson %s", back, o, out)
		}
	})
}
