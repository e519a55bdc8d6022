//go:build libuci

// Differential test against OpenWrt's own uci(1): every table case and a
// few thousand generated files must be accepted or rejected alike, and an
// accepted file must hold the same sections, options and lists (compared
// as `uci show` prints them). Run by `make ucibridge-libuci`, which builds
// uci from source or takes UCI_BIN; not in `make test`, because CI cannot
// fetch OpenWrt's sources. With UCI_GOLDEN_WRITE=1 it also records uci's
// answers in testdata/libuci-golden.jsonl.gz, which golden_test.go replays
// in every `make test` without uci.
package ucibridge

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type libuci struct {
	bin, conf, save string
}

func newLibuci(t *testing.T) *libuci {
	bin := os.Getenv("UCI_BIN")
	if bin == "" {
		t.Fatal("UCI_BIN is not set: point it at a uci binary built from openwrt/uci (make ucibridge-libuci does)")
	}
	d := t.TempDir()
	u := &libuci{bin: bin, conf: filepath.Join(d, "conf"), save: filepath.Join(d, "save")}
	for _, dir := range []string{u.conf, u.save} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// run returns uci's view of the file, or ok=false when uci rejects it.
func (u *libuci) run(t *testing.T, content string) (out, stderr string, ok bool) {
	if err := os.WriteFile(filepath.Join(u.conf, "network"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(u.bin, "-c", u.conf, "-t", u.save, "show", "network")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("run uci: %v", err)
	}
	return o.String(), e.String(), err == nil
}

// compare reports a disagreement between uci and Parse on one file.
func (u *libuci) compare(t *testing.T, name, content string) bool {
	t.Helper()
	want, stderr, ok := u.run(t, content)
	p, err := Parse("network", strings.NewReader(content))
	switch {
	case ok && err != nil:
		t.Errorf("%s: uci accepts, we reject: %v\nfile %q\nuci:\n%s", name, err, content, want)
		return false
	case !ok && err == nil:
		t.Errorf("%s: uci rejects (%s), we accept\nfile %q\nwe read:\n%s", name, strings.TrimSpace(stderr), content, show(p))
		return false
	case ok && show(p) != want:
		t.Errorf("%s: different content\nfile %q\nuci:\n%s\nwe:\n%s", name, content, want, show(p))
		return false
	}
	return true
}

// Cases whose difference is deliberate (see the package doc) or that name
// another package, which `uci show network` cannot compare.
var libuciSkip = map[string]bool{
	"NUL byte":                                    true,
	"package after sections":                      true,
	"package statement names the package":         true,
	"package name may hold a dash":                true,
	"package with bad name":                       true,
	"too many package arguments":                  true,
	"package without name":                        true,
	"unterminated double quote":                   false,
	"option before section":                       false,
	"empty file":                                  false,
	"blank lines and comments only":               false,
	"line count after multi-line value":           false,
	"type may hold punctuation":                   false,
	"abbreviated commands":                        false,
	"empty extra argument is ignored like libuci": false,
}

func TestLibuciTables(t *testing.T) {
	u := newLibuci(t)
	for _, tc := range syntaxCases {
		if !libuciSkip[tc.name] {
			u.compare(t, tc.name, tc.in)
		}
	}
	for _, tc := range errorCases {
		if !libuciSkip[tc.name] {
			u.compare(t, tc.name, tc.in)
		}
	}
	seed, err := os.ReadFile("testdata/network")
	if err != nil {
		t.Fatal(err)
	}
	u.compare(t, "testdata/network", string(seed))
}

// gen builds a small file of mostly well-formed statements with pieces
// chosen to hit the parser's corners: quotes, escapes, continuations, ';',
// '#', CR, blanks, wrong argument counts.
func gen(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	rate := []int{4, 12, 40}[r.IntN(3)] // how hostile this file is
	odd := func() bool { return r.IntN(rate) == 0 }
	arg := func() string {
		if odd() {
			return pick("wan-6", "'a b'", "''", `""`, "'multi\nline'", `a\;b`, "x;", ";", "#c", `a\#b`,
				"\\\n", "\\\nv", "v\\\n", `"a\`+"\n"+`b"`, "a#b", "'\r'", "v\r", "'x';", "'a'\\\n'b'", "@x", "a.b")
		}
		return pick("a", "b", "lan", "x_1", "interface", "'v'", `'it'\''s'`, `"q\"x"`, `'a'"b"c`, "1", "'1'", `"\\"`, "'wan'", "'日本'")
	}
	sep := func() string {
		if odd() {
			return pick("\t", "  ", " ;", "; ", ";", "", " \\\n")
		}
		return " "
	}
	var b strings.Builder
	if r.IntN(5) > 0 {
		b.WriteString(pick("config a 'b'\n", "config interface lan\n", "config a\n", "c t 's'\n"))
	}
	for range 1 + r.IntN(8) {
		if odd() {
			b.WriteString(pick(" ", "\t", "\n", "# comment\n", "\r\n"))
		}
		for j := range 1 + r.IntN(2) {
			if j > 0 && !odd() {
				b.WriteString(pick(" ; ", " ;"))
			}
			cmd := pick("config", "option", "option", "list", "c", "o", "l")
			if odd() {
				cmd = pick("bogus", "'config'", "config;", "option#")
			}
			n := 2
			if cmd == "config" || cmd == "c" {
				n = 1 + r.IntN(2)
			}
			if odd() {
				n = r.IntN(4)
			}
			b.WriteString(cmd)
			if odd() {
				b.WriteString(pick("\t", ";", ""))
			} else {
				b.WriteString(" ")
			}
			for i := range n {
				if i == 0 && !odd() {
					b.WriteString(pick("a", "b", "lan", "x_1", "'wan6'", `"mtu"`, "proto", "o\\\npt"))
				} else {
					b.WriteString(arg())
				}
				if i < n-1 {
					b.WriteString(sep())
				}
			}
			if odd() {
				b.WriteString(pick(";", " ; ", "; ", " "))
			}
		}
		if odd() {
			b.WriteString(pick(" \n", ";\n", " # c\n", "\r\n", "'' \n", "\\\n", "", "\t\n"))
		} else {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestLibuciGenerated(t *testing.T) {
	u := newLibuci(t)
	n := 2000
	if s := os.Getenv("UCI_DIFF_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	seed := uint64(1)
	if s := os.Getenv("UCI_DIFF_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(seed, 2))
	fails, accepted := 0, 0
	for i := range n {
		content := gen(r)
		if !u.compare(t, "generated "+strconv.Itoa(i), content) {
			if fails++; fails >= 10 {
				t.Fatal("stopping after 10 disagreements")
			}
		}
		if _, err := Parse("network", strings.NewReader(content)); err == nil {
			accepted++
		}
	}
	t.Logf("%d generated files, %d accepted by both, %d rejected by both, %d disagreements", n, accepted, n-accepted-fails, fails)
}

// TestLibuciGoldenWrite records uci's verdict and view of the table cases
// and 1,500 generated files (seed 3) for golden_test.go.
func TestLibuciGoldenWrite(t *testing.T) {
	if os.Getenv("UCI_GOLDEN_WRITE") != "1" {
		t.Skip("set UCI_GOLDEN_WRITE=1 to rewrite " + goldenFile)
	}
	u := newLibuci(t)
	var cases []goldenCase
	add := func(name, in string) {
		show, _, ok := u.run(t, in)
		cases = append(cases, goldenCase{Name: name, In: in, OK: ok, Show: show})
	}
	for _, tc := range syntaxCases {
		if !libuciSkip[tc.name] {
			add(tc.name, tc.in)
		}
	}
	for _, tc := range errorCases {
		if !libuciSkip[tc.name] {
			add(tc.name, tc.in)
		}
	}
	r := rand.New(rand.NewPCG(3, 2))
	for i := range 1500 {
		add("generated "+strconv.Itoa(i), gen(r))
	}
	f, err := os.Create(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	enc := json.NewEncoder(zw)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d cases to %s", len(cases), goldenFile)
}
