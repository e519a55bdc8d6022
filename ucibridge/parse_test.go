package ucibridge

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// dump is a compact, line-free picture of a package for comparisons:
// `TYPE NAME{opt="v" lst=+["a" "b"]}` per section, anonymous ones as @.
func dump(p *Package) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", p.Name)
	for _, s := range p.Sections {
		name := s.Name
		if s.Anonymous {
			name = "@"
		}
		fmt.Fprintf(&b, " %s %s{", s.Type, name)
		for i, o := range s.Options {
			if i > 0 {
				b.WriteString(" ")
			}
			if o.IsList {
				fmt.Fprintf(&b, "%s=+%q", o.Name, o.Values)
			} else {
				fmt.Fprintf(&b, "%s=%q", o.Name, o.Values[0])
			}
		}
		b.WriteString("}")
	}
	return b.String()
}

// syntaxCases are accepted files and what they hold; libuci_test.go runs
// them through the real uci(1) too.
var syntaxCases = []struct {
	name, in, want string
}{
	{"empty file", "", "network:"},
	{"blank lines and comments only", "\n  \n# a comment\n\t# indented comment\n", "network:"},
	{"named section", "config interface 'lan'\n\toption proto 'static'\n", `network: interface lan{proto="static"}`},
	{"anonymous section", "config device\n\toption name 'br-lan'\n", `network: device @{name="br-lan"}`},
	{"empty quoted name is anonymous", "config device ''\n", `network: device @{}`},
	{"abbreviated commands", "c interface lan\no proto static\nl dns 1.1.1.1\n", `network: interface lan{proto="static" dns=+["1.1.1.1"]}`},
	{"package statement names the package", "package net2\nconfig a b\n", `net2: a b{}`},
	{"package name may hold a dash", "package my-net\n", `my-net:`},
	{"unquoted words", "config interface lan\n option proto static\n", `network: interface lan{proto="static"}`},
	{"double quotes", "config a b\noption x \"hello world\"\n", `network: a b{x="hello world"}`},
	{"double quote escapes", `config a b` + "\n" + `option x "q\"b\\s\$n\n"` + "\n", `network: a b{x="q\"b\\s$nn"}`},
	{"single quotes take backslash literally", `config a b` + "\n" + `option x 'a\b'` + "\n", `network: a b{x="a\\b"}`},
	{"quoted hash is no comment", "config a b\noption x 'a#b' # real comment\n", `network: a b{x="a#b"}`},
	{"hash ends a bare word", "config a b\noption x ab#cd 'ignored'\n", `network: a b{x="ab"}`},
	{"adjacent pieces concatenate", "config a b\noption x 'a'\"b\"c\\ d\n", `network: a b{x="abc d"}`},
	{"quote inside single quotes the uci way", "config a b\noption x 'it'\\''s'\n", `network: a b{x="it's"}`},
	{"backslash escapes outside quotes", "config a b\noption x a\\;b\\#c\n", `network: a b{x="a;b#c"}`},
	{"multi-line single-quoted value", "config a b\noption x 'one\ntwo'\n", `network: a b{x="one\ntwo"}`},
	{"multi-line double-quoted value", "config a b\noption x \"one\ntwo\"\n", `network: a b{x="one\ntwo"}`},
	{"continuation inside double quotes", "config a b\noption x \"one\\\ntwo\"\n", `network: a b{x="onetwo"}`},
	{"continuation inside a word", "config a b\noption x one\\\ntwo\n", `network: a b{x="onetwo"}`},
	{"continuation starting an argument", "config a b\noption x \\\n'v'\n", `network: a b{x="v"}`},
	{"continuation with CRLF", "config a b\r\noption x \\\r\n'v'\r\n", `network: a b{x="v"}`},
	{"CRLF line ends", "config a b\r\n\toption x 'v'\r\n", `network: a b{x="v"}`},
	{"semicolons separate statements", "config a 'b'; option x '1'; option y \"2\";list z 3\n", `network: a b{x="1" y="2" z=+["3"]}`},
	{"semicolon after a space", "config a b ; option x 1 ;option y 2\n", `network: a b{x="1" y="2"}`},
	{"bare word before a semicolon loses the rest of the line", "config a b; option x 1\noption y 2\n", `network: a b{y="2"}`},
	{"bare type before a semicolon", "config a; option x 1\n", `network: a @{}`},
	{"empty extra argument then a statement", "config a 'b' '' option x 1\n", `network: a b{x="1"}`},
	{"trailing blanks", "config a b \t \noption x 1\t\n", `network: a b{x="1"}`},
	{"no newline at end of file", "config a b\noption x 'v'", `network: a b{x="v"}`},
	{"trailing backslash at end of file", "config a b\noption x v\\", `network: a b{x="v"}`},
	{"option without value is not set", "config a b\noption x\n", `network: a b{}`},
	{"empty value leaves an earlier option alone", "config a b\noption x 1\noption y 2\noption x ''\nlist y ''\noption y ''\n", `network: a b{x="1" y=+["2" ""]}`},
	{"option replaces in place", "config a b\noption x 1\noption y 2\noption x 3\n", `network: a b{x="3" y="2"}`},
	{"list after option extends it", "config a b\noption x 1\nlist x 2\n", `network: a b{x=+["1" "2"]}`},
	{"option after list replaces it", "config a b\nlist x 1\nlist x 2\noption x 3\n", `network: a b{x="3"}`},
	{"empty list item is kept", "config a b\nlist x ''\n", `network: a b{x=+[""]}`},
	{"reopened named section merges", "config a b\noption x 1\nconfig c d\nconfig a b\noption y 2\n", `network: a b{x="1" y="2"} c d{}`},
	{"empty extra argument is ignored like libuci", "config a b\noption x 1 ''\n", `network: a b{x="1"}`},
	{"type may hold punctuation", "config 'my-type.x' s\n", `network: my-type.x s{}`},
	{"value keeps UTF-8 and tabs", "config a b\noption x '日本\tx'\n", `network: a b{x="日本\tx"}`},
	{"comment right after a statement", "config a b# comment\n", `network: a b{}`},
}

func TestParseSyntax(t *testing.T) {
	for _, tc := range syntaxCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("/etc/config/network", strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := dump(p); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// errorCases are rejected files: the line and the message.
var errorCases = []struct {
	name, in string
	line     int
	msg      string
}{
	{"invalid command", "config a b\n\nfoo bar\n", 3, `invalid command "foo": expected package, config, option or list`},
	{"quoted command", "'config' a b\n", 1, `invalid command "'config'"`},
	{"lone semicolon", "config a b\n;\n", 2, `invalid command ";": expected package`},
	{"semicolon at the end of a line", "config a 'b';\n", 1, `invalid command "" at the end of the line: expected nothing after a ';'`},
	{"semicolon after the value at the end of a line", "config a b\noption x 'v' ;\n", 2, `invalid command ""`},
	{"blank after an empty extra argument", "config a 'b' '' \n", 1, `invalid command ""`},
	{"semicolon as the section name", "config a ;option x 1\n", 1, `unexpected "option": expected config TYPE ['NAME']`},
	{"semicolon as the value", "config a b\noption x ;option y 2\n", 2, `unexpected "option"`},
	{"continuation between arguments", "config a b\noption x \\\n   'v'\n", 3, `unexpected "v"`},
	{"config without arguments", "config\n", 1, "config without arguments: expected config TYPE ['NAME']"},
	{"config at the end of the file", "config", 1, "config without arguments"},
	{"config without type", "config \n", 1, "config without a type: expected config TYPE ['NAME']"},
	{"command glued to a semicolon", "config;\n", 1, `invalid command "config;"`},
	{"command glued to a comment", "config#x\n", 1, `invalid command "config#x"`},
	{"config with empty type", "config '' name\n", 1, "config without a type"},
	{"type with a space", "config 'a b' c\n", 1, `invalid section type "a b": use printable characters without spaces`},
	{"section name with a dash", "config interface 'wan-6'\n", 1, `invalid section name "wan-6": use letters, digits and _ only`},
	{"too many config arguments", "config a b c\n", 1, `unexpected "c": expected config TYPE ['NAME']`},
	{"too many option arguments", "config a b\n\toption x one two\n", 2, `unexpected "two": expected option NAME 'VALUE' (quote values that contain spaces)`},
	{"option before section", "# header\noption x 1\n", 2, "option before the first section: expected a config TYPE ['NAME'] line first"},
	{"list before section", "list x 1\n", 1, "list before the first section"},
	{"option without arguments", "config a b\noption\n", 2, "option without arguments: expected option NAME 'VALUE'"},
	{"option without name", "config a b\noption \n", 2, "option without a name: expected option NAME 'VALUE'"},
	{"list without name", "config a b\nlist '' v\n", 2, "list without a name: expected list NAME 'VALUE'"},
	{"option name with a dot", "config a b\noption x.y 1\n", 2, `invalid option name "x.y": use letters, digits and _ only`},
	{"unterminated single quote", "config a b\noption x 'abc\n\n\n", 2, "unterminated ' quote: expected a closing ' before the end of the file"},
	{"unterminated double quote", "config a b\n\noption x \"abc\\\"\n", 3, `unterminated " quote: expected a closing " before the end of the file`},
	{"package without name", "package ''\n", 1, "package without a name: expected package NAME"},
	{"package with bad name", "package 'a b'\n", 1, `invalid package name "a b"`},
	{"package after sections", "config a b\npackage other\n", 2, `package "other" after the first section`},
	{"too many package arguments", "package a b\n", 1, `unexpected "b": expected package NAME`},
	{"section type changes", "config a s\nconfig b x\nconfig c s\n", 3, `section "s" declared again with type "c": expected its first type "a" (line 1)`},
	{"NUL byte", "config a b\noption x 'a\x00b'\n", 2, "NUL byte: expected a text file"},
	{"line count after multi-line value", "config a b\noption x 'one\ntwo'\noption y 'v' extra\n", 4, `unexpected "extra"`},
	{"line count after continuation", "config a b\noption x \\\n'v'\nbogus\n", 4, `invalid command "bogus"`},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/etc/config/network", strings.NewReader(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.Line != tc.line || se.File != "/etc/config/network" {
				t.Errorf("at %s:%d, want /etc/config/network:%d", se.File, se.Line, tc.line)
			}
			if !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("msg %q, want it to contain %q", se.Msg, tc.msg)
			}
			if want := fmt.Sprintf("/etc/config/network:%d: ", tc.line); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	big := strings.Repeat("# padding padding padding padding\n", MaxSize/34+2)
	_, err := Parse("big", strings.NewReader(big))
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "larger than") {
		t.Fatalf("err = %v, want a size rejection", err)
	}
}

func TestParseReadError(t *testing.T) {
	_, err := Parse("network", iotest.ErrReader(errors.New("disk on fire")))
	if err == nil || !strings.Contains(err.Error(), "read network: disk on fire") {
		t.Fatalf("err = %v", err)
	}
}

func TestLines(t *testing.T) {
	in := "config a s\n\toption x 'one\ntwo'\n\n\tlist l 1\n\tlist l \\\n2\nconfig b t\n"
	p, err := Parse("f", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	s, tt := p.Section("s"), p.Section("t")
	if s.Line != 1 || s.Option("x").Line != 2 || s.Option("l").Line != 6 || tt.Line != 8 {
		t.Errorf("lines: section %d, x %d, l %d, t %d; want 1 2 6 8", s.Line, s.Option("x").Line, s.Option("l").Line, tt.Line)
	}
}

func TestLoad(t *testing.T) {
	p, err := Load("testdata/network")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "network" || p.File != "testdata/network" {
		t.Errorf("name %q file %q", p.Name, p.File)
	}
	_, err = Load(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want ErrNotExist", err)
	}
}

// TestRealisticNetwork reads a router's /etc/config/network with the usual
// sections, the plala guide's stock map interface and one of ours.
func TestRealisticNetwork(t *testing.T) {
	p, err := Load("testdata/network")
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, s := range p.Sections {
		types = append(types, s.Type+":"+p.Ref(s))
	}
	want := "interface:loopback globals:globals device:@device[0] interface:lan interface:wan interface:wan6 interface:WAN6MAPE interface:wan_mape device:@device[1]"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("sections\n got %s\nwant %s", got, want)
	}
	if got := p.Section("@device[0]").List("ports"); strings.Join(got, ",") != "lan1,lan2,lan3" {
		t.Errorf("br-lan ports = %q", got)
	}
	if v, _ := p.Section("@device[-1]").Get("macaddr"); v != "aa:bb:cc:dd:ee:ff" {
		t.Errorf("@device[-1] macaddr = %q", v)
	}
	if v, _ := p.Section("@interface[3]").Get("ip6prefix"); v != "2400:4050:1234:5600::/64" {
		t.Errorf("@interface[3] (wan6) ip6prefix = %q", v)
	}
	if v, _ := p.Section("wan_mape").Get("zone"); v != "wan" {
		t.Errorf("wan_mape zone = %q", v)
	}
	if v, _ := p.Section("@device[0]").Get("ports"); v != "lan1 lan2 lan3" {
		t.Errorf("Get on a list = %q, want the items joined like uci get", v)
	}
}

func TestSectionLookup(t *testing.T) {
	p, err := Parse("x", strings.NewReader("config t a\nconfig t\nconfig u b\nconfig t\nconfig '['\nconfig 'a]b'\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref  string
		want *Section
	}{
		{"a", p.Sections[0]},
		{"b", p.Sections[2]},
		{"@t[0]", p.Sections[0]},
		{"@t[1]", p.Sections[1]},
		{"@t[2]", p.Sections[3]},
		{"@t[-1]", p.Sections[3]},
		{"@t[-3]", p.Sections[0]},
		{"@t[3]", nil},
		{"@t[-4]", nil},
		{"@u[0]", p.Sections[2]},
		{"@v[0]", nil},
		{"@t", nil},
		{"@t[x]", nil},
		{"@[0]", nil},
		{"@[[0]", p.Sections[4]},
		{"@a]b[-1]", p.Sections[5]},
		{"", nil},
		{"c", nil},
	}
	for _, tc := range tests {
		if got := p.Section(tc.ref); got != tc.want {
			t.Errorf("Section(%q) = %p, want %p", tc.ref, got, tc.want)
		}
	}
	if got := len(p.SectionsOfType("t")); got != 3 {
		t.Errorf("SectionsOfType(t) = %d sections, want 3", got)
	}
	if got := p.Ref(p.Sections[3]); got != "@t[2]" {
		t.Errorf("Ref = %q", got)
	}
	if got := p.Ref(&Section{Type: "t", Anonymous: true}); got != "" {
		t.Errorf("Ref of a foreign section = %q", got)
	}
	var nilPkg *Package
	if nilPkg.Section("a") != nil {
		t.Error("nil package has sections")
	}
}

func mustParse(t *testing.T, s string) *Package {
	t.Helper()
	p, err := Parse("/etc/config/network", strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
