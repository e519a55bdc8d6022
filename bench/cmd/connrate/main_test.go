package main

import (
	"strings"
	"testing"
)

// TestShapes checks that every cause is cut out of the include firewall4
// renders by chain name and that what remains still SNATs: the rules that
// referred to a removed chain or set go with it, the others stay.
func TestShapes(t *testing.T) {
	shs, err := shapes(options{isps: []string{"v6plus", "ocn"}, causes: []string{"rst"}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]shape{}
	for _, s := range shs {
		byName[s.Name] = s
	}
	for _, tc := range []struct {
		shape      string
		want, gone []string
	}{
		{"v6plus", []string{"chain try_14 {", "chain walk {", "set occ_0 {", "chain guard {", "chain mss {"}, nil},
		{"v6plus-vrange", []string{"map v2r {", "snat to 14.", ":1-240", "chain inbound {", "chain guard {", "chain mss {"}, []string{"try_", "occ_", "eim"}},
		{"v6plus-no-counts",
			[]string{"chain srcnat {", "numgen inc mod 15 vmap { 0 : jump set_0,", "chain guard {", "chain mss {", "chain set_14 {"},
			[]string{"try_", "walk", "occ_", "eim", "ct count"}},
		{"v6plus-no-guard", []string{"chain try_0 {", "jump walk", "chain mss {"}, []string{"guard", "ip saddr !="}},
		{"v6plus-no-mss", []string{"chain try_0 {", "chain guard {"}, []string{"chain mss", "maxseg"}},
		{"v6plus-no-all", []string{"chain srcnat {", "jump set_14 }", "chain set_0 {"}, []string{"try_", "walk", "occ_", "guard", "mss"}},
		{"ocn-no-counts", []string{"numgen inc mod 63 vmap { 0 : jump set_0,", "chain set_62 {"}, []string{"try_", "occ_"}},
	} {
		sh, ok := byName[tc.shape]
		if !ok {
			t.Errorf("no shape %s", tc.shape)
			continue
		}
		if !strings.HasSuffix(sh.text, "\n}\n") || strings.Contains(sh.text, "\n\n}") {
			t.Errorf("%s: table not closed cleanly:\n%s", tc.shape, sh.text)
		}
		for _, w := range tc.want {
			if !strings.Contains(sh.text, w) {
				t.Errorf("%s: lacks %q:\n%s", tc.shape, w, sh.text)
			}
		}
		for _, g := range tc.gone {
			if strings.Contains(sh.text, g) {
				t.Errorf("%s: still has %q:\n%s", tc.shape, g, sh.text)
			}
		}
	}
	if got := strings.Join(byName["v6plus-no-counts"].Removed, " "); !strings.Contains(got, "occ_0") || !strings.Contains(got, "try_14") || !strings.Contains(got, "walk") {
		t.Errorf("v6plus-no-counts removed %s", got)
	}
}

// TestFloor checks the one-set floor: no table of ours, and its SNAT to
// the first v6 plus set sits in fw4's zone chain before masquerade.
func TestFloor(t *testing.T) {
	shs, err := shapes(options{isps: []string{"ocn"}})
	if err != nil {
		t.Fatal(err)
	}
	var f *shape
	for i := range shs {
		if shs[i].Floor {
			f = &shs[i]
		}
	}
	if f == nil || f.Name != "one-set" || f.text != "" || f.ISP != "" {
		t.Fatalf("floor shape %+v", f)
	}
	got := fw4Like(f.fw4)
	snat := strings.Index(got, "snat ip to 14.8.52.86:6016-6031\n")
	masq := strings.Index(got, "masquerade")
	if snat < 0 || masq < snat || !strings.Contains(got[:snat], "chain srcnat_wan {") {
		t.Errorf("floor's fw4 table, want the SNAT to 6016-6031 (v6 plus's first set) in srcnat_wan before masquerade:\n%s", got)
	}
	if plain := fw4Like(""); strings.Contains(plain, "snat ip") || !strings.Contains(plain, "\t\tmeta nfproto ipv4 masquerade\n\t}\n}\n") {
		t.Errorf("plain fw4 table:\n%s", plain)
	}
}

func TestWithoutUnknownName(t *testing.T) {
	if _, _, err := without("table ip x {\n\tchain a {\n\t}\n}\n", func(n string) bool { return n == "b" }); err == nil {
		t.Error("removing a chain that is not there: no error")
	}
}

func TestCompact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"occ_0 occ_1 occ_2 try_0 try_1 walk", "occ_0..2 try_0..1 walk"},
		{"guard", "guard"},
		{"set_0 set_2", "set_0 set_2"},
	} {
		if got := strings.Join(compact(strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("compact(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestStatsDeterministic(t *testing.T) {
	v := []float64{0.9, 1.0, 1.1, 0.95, 1.05, 0.2, 1.02}
	m1, c1 := stats(v)
	m2, c2 := stats(v)
	if m1 != 1.0 || m1 != m2 || c1 != c2 || c1 <= 0 {
		t.Errorf("stats: %v ± %v, then %v ± %v", m1, c1, m2, c2)
	}
}

// TestFlags checks that bad flags are refused before anything is set up
// (no root needed): exit status 2 and a message naming the flag.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-close", "reset"}, "-close"},
		{[]string{"-isps", "biglobe"}, "-isps"},
		{[]string{"-reps", "1"}, "-reps"},
		{[]string{"-conns", "100", "-servers", "300"}, "-servers"},
		{[]string{"-workers", "0"}, "-workers"},
	} {
		var out, errs strings.Builder
		if code := run(tc.args, &out, &errs); code != 2 || !strings.Contains(errs.String(), tc.want) {
			t.Errorf("connrate %v: exit %d, %q; want 2 and %q", tc.args, code, errs.String(), tc.want)
		}
	}
}
