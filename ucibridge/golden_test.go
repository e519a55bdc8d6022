package ucibridge

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// goldenFile holds OpenWrt uci(1)'s answers (openwrt/uci 66127cd) for the
// table cases and generated corner-case files: the verdict and, for an
// accepted file, `uci show network`. Rewritten by
// `make ucibridge-libuci UCI_GOLDEN_WRITE=1`.
const goldenFile = "testdata/libuci-golden.jsonl.gz"

type goldenCase struct {
	Name string `json:"name"`
	In   string `json:"in"`
	OK   bool   `json:"ok"`
	Show string `json:"show,omitempty"`
}

// show prints pkg the way `uci show network` does.
func show(p *Package) string {
	var b strings.Builder
	for _, s := range p.Sections {
		ref := p.Ref(s)
		b.WriteString("network." + ref + "=" + s.Type + "\n")
		for _, o := range s.Options {
			b.WriteString("network." + ref + "." + o.Name + "=")
			for i, v := range o.Values {
				if i > 0 {
					b.WriteString(" ")
				}
				b.WriteString(Quote(v))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestGoldenLibuci replays uci's recorded answers, so every `make test`
// holds the reader to libuci's behaviour without building libuci.
func TestGoldenLibuci(t *testing.T) {
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n, accepted := 0, 0
	for sc.Scan() {
		var c goldenCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("case %d: %v", n, err)
		}
		n++
		p, err := Parse("network", strings.NewReader(c.In))
		switch {
		case c.OK && err != nil:
			t.Errorf("%s: uci accepts, we reject: %v\nfile %q", c.Name, err, c.In)
		case !c.OK && err == nil:
			t.Errorf("%s: uci rejects, we accept\nfile %q\nwe read:\n%s", c.Name, c.In, show(p))
		case c.OK && show(p) != c.Show:
			t.Errorf("%s: different content\nfile %q\nuci:\n%s\nwe:\n%s", c.Name, c.In, c.Show, show(p))
		}
		if c.OK {
			accepted++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Fatalf("only %d golden cases", n)
	}
	t.Logf("%d cases replayed (%d accepted by uci)", n, accepted)
}
