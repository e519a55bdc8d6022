package mapcalc

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParsePortRange(t *testing.T) {
	for in, want := range map[string]PortRange{"80": {80, 80}, " 1-2 ": {1, 2}, "3:4": {3, 4}, "0-65535": {0, 65535}} {
		got, err := ParsePortRange(in)
		if err != nil || got != want {
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a", "5-4", "65536", "1-2-3", "-1"} {
		if _, err := ParsePortRange(in); err == nil {
			t.Errorf("ParsePortRange(%q) accepted", in)
		}
	}
}

func TestPortRangeForms(t *testing.T) {
	tests := []struct {
		p            PortRange
		str, span, j string
	}{
		{PortRange{6016, 6031}, "6016-6031", "6016-6031", "[6016,6031]"},
		{PortRange{5000, 5000}, "5000", "5000-5000", "[5000,5000]"},
		{PortRange{0, 65535}, "0-65535", "0-65535", "[0,65535]"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.str {
			t.Errorf("%#v.String() = %q, want %q", tc.p, got, tc.str)
		}
		if got := tc.p.Span(); got != tc.span {
			t.Errorf("%#v.Span() = %q, want %q", tc.p, got, tc.span)
		}
		b, err := json.Marshal(tc.p)
		if err != nil || string(b) != tc.j {
			t.Errorf("json.Marshal(%#v) = %s, %v; want %s", tc.p, b, err, tc.j)
		}
		for _, in := range []string{tc.j, `"` + tc.str + `"`, `"` + tc.span + `"`} {
			var got PortRange
			if err := json.Unmarshal([]byte(in), &got); err != nil || got != tc.p {
				t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", in, got, err, tc.p)
			}
		}
	}
	for _, in := range []string{`[5,4]`, `"5-4"`, `[1]`, `{}`, `"x"`, `[70000,70001]`} {
		var got PortRange
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("json.Unmarshal(%s) accepted: %v", in, got)
		}
	}
}

// TestResultJSONPortSets: the calculator's port_sets stay [lo, hi]
// pairs, and an empty list is [] (not null).
func TestResultJSONPortSets(t *testing.T) {
	r := &Result{PortSets: []PortRange{{6016, 6031}, {5000, 5000}}}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"port_sets":[[6016,6031],[5000,5000]],`) {
		t.Errorf("json = %s, %v", b, err)
	}
	b, err = json.Marshal(&Result{})
	if err != nil || !strings.Contains(string(b), `"port_sets":[],`) {
		t.Errorf("empty json = %s, %v", b, err)
	}
}

// FuzzParsePortRange: whatever ParsePortRange accepts is ascending, and
// its String and JSON forms read back to the same range.
func FuzzParsePortRange(f *testing.F) {
	for _, s := range []string{"80", "1-2", "3:4", " 0-65535 ", "5-4", "1-2-3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePortRange(s)
		if err != nil {
			return
		}
		if p.Lo > p.Hi {
			t.Fatalf("%q: reversed %v accepted", s, p)
		}
		if q, err := ParsePortRange(p.String()); err != nil || q != p {
			t.Fatalf("%q: String %q reads back as %v, %v", s, p.String(), q, err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var q PortRange
		if err := json.Unmarshal(b, &q); err != nil || q != p {
			t.Fatalf("%q: JSON %s reads back as %v, %v", s, b, q, err)
		}
	})
}

func TestRealPort(t *testing.T) {
	sets := []PortRange{{4112, 4127}, {8208, 8223}, {65520, 65535}}
	if got := VirtualRange(sets); got != (PortRange{1, 48}) {
		t.Errorf("VirtualRange = %v, want 1-48", got)
	}
	for _, c := range []struct {
		v    uint16
		want uint16
		ok   bool
	}{{0, 0, false}, {1, 4112, true}, {16, 4127, true}, {17, 8208, true}, {32, 8223, true}, {33, 65520, true}, {48, 65535, true}, {49, 0, false}} {
		if got, ok := RealPort(sets, c.v); got != c.want || ok != c.ok {
			t.Errorf("RealPort(%d) = %d, %v; want %d, %v", c.v, got, ok, c.want, c.ok)
		}
	}
	// Every real port of the v6 plus seed once, in order.
	seed := PortSets(4, 8, 0x34)
	prev := uint16(0)
	for v := uint16(1); v <= VirtualRange(seed).Hi; v++ {
		p, ok := RealPort(seed, v)
		if !ok || p <= prev {
			t.Fatalf("RealPort(%d) = %d, %v after %d", v, p, ok, prev)
		}
		prev = p
	}
}
