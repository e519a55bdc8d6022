package ucibridge

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	in := "package network\nconfig interface lan\n option proto static\n list dns '1.1.1.1'\n list dns 8.8.8.8\n" +
		"config 'we#ird'\n option x \"it's\\\\\"\nconfig device\n option note 'two\nlines'\n"
	p := mustParse(t, in)
	var b bytes.Buffer
	if err := Render(&b, p); err != nil {
		t.Fatal(err)
	}
	want := "package network\n\n" +
		"config interface 'lan'\n\toption proto 'static'\n\tlist dns '1.1.1.1'\n\tlist dns '8.8.8.8'\n\n" +
		"config 'we#ird'\n\toption x 'it'\\''s\\'\n\n" +
		"config device\n\toption note 'two\nlines'\n\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	q, err := Parse("network", &b)
	if err != nil {
		t.Fatalf("re-parse: %v", err)
	}
	if dump(q) != dump(p) {
		t.Errorf("round trip\n got %s\nwant %s", dump(q), dump(p))
	}
}

// TestRenderRealistic: the fixture survives Render and Parse unchanged.
func TestRenderRealistic(t *testing.T) {
	p, err := Load("testdata/network")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, p)
}

func TestRenderWriteError(t *testing.T) {
	p := mustParse(t, "config a b\noption x "+strings.Repeat("y", 8192)+"\n")
	if err := Render(failWriter{}, p); err == nil || !strings.Contains(err.Error(), "render UCI package network: no space") {
		t.Errorf("err = %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space") }

// roundTrip renders p, parses the text and checks it is the same package,
// then renders again and checks the text is stable.
func roundTrip(t testing.TB, p *Package) {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, p); err != nil {
		t.Fatalf("Render: %v", err)
	}
	text := b.String()
	q, err := Parse(p.File, &b)
	if err != nil {
		t.Fatalf("rendered text does not parse: %v\n%s", err, text)
	}
	if dump(q) != dump(p) {
		t.Fatalf("round trip changed the package\n got %s\nwant %s\ntext:\n%s", dump(q), dump(p), text)
	}
	var b2 bytes.Buffer
	if err := Render(&b2, q); err != nil {
		t.Fatal(err)
	}
	if b2.String() != text {
		t.Fatalf("second render differs:\n%s\n---\n%s", text, b2.String())
	}
}

// FuzzParse: no input panics the reader or the interface mapping; every
// accepted file renders to text that parses back to the same package.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/network")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, s := range []string{
		"", "config a b\noption x 'v'\n", "config a\nlist x 1\nlist x ''\n", "c a b;o x \"q\\\"\\\n\"#c\n",
		"package p\nconfig 'a#b' s\noption x 'it'\\''s'\n", "config a b\noption x 'multi\nline'\\\n",
		"config interface m\noption proto mape\noption ealen x\n", "config a s\nconfig b s\n", "option x\n",
		"config interface '@x'\n", "config a b\r\noption x \\\r\n'v'\r\n", "'\n", "\"\\",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("network", bytes.NewReader(data))
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Msg == "" {
				t.Fatalf("rejection without a line-numbered message: %#v", err)
			}
			return
		}
		for _, s := range p.Sections {
			if p.Section(p.Ref(s)) != s {
				t.Fatalf("Ref %q does not address its section", p.Ref(s))
			}
		}
		roundTrip(t, p)
	})
}
