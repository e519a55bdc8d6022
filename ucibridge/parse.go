package ucibridge

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MaxSize bounds what Parse reads: a router's largest configuration files
// are a few hundred KiB, so anything bigger is a mistake or an attack and
// is refused instead of buffered.
const MaxSize = 16 << 20

// SyntaxError is a rejected file: where, and what was expected there.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Load parses the UCI file at path; the package is named after the file.
func Load(path string) (*Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read UCI file: %w", err)
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse reads one UCI file. name is the file's path (or any label): it
// names the package unless the file has a `package` statement, and it
// prefixes every error, which also carries the line number.
func Parse(name string, r io.Reader) (*Package, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, &SyntaxError{File: name, Line: 1 + bytes.Count(data[:MaxSize], []byte{'\n'}),
			Msg: fmt.Sprintf("file is larger than %d bytes: expected a UCI configuration file", MaxSize)}
	}
	pkg := &Package{File: name}
	if name != "" {
		pkg.Name = filepath.Base(name)
	}
	p := &parser{file: name, buf: data, line: 1, pkg: pkg, named: map[string]*Section{}}
	if err := p.run(); err != nil {
		return nil, err
	}
	return pkg, nil
}

// parser walks the whole file as bytes, counting lines, so quoted values
// and continuations may span lines without a line buffer. It mirrors
// libuci's reading of a line exactly, quirks included (see lineDone and
// arg), so a file means here what it means to netifd.
type parser struct {
	file  string
	buf   []byte
	pos   int
	line  int
	pkg   *Package
	cur   *Section
	named map[string]*Section
	word  []byte // scratch for the argument being read
	// lineDone: the rest of the current line is gone for libuci (it
	// reached the line's end, or wrote its terminator over a '#' or over
	// the ';' after a bare word); pos is at the newline or end of file.
	lineDone bool
}

func (p *parser) errf(line int, format string, a ...any) error {
	return &SyntaxError{File: p.file, Line: line, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) eof() bool { return p.pos >= len(p.buf) }

func (p *parser) run() error {
	if i := bytes.IndexByte(p.buf, 0); i >= 0 {
		return p.errf(1+bytes.Count(p.buf[:i], []byte{'\n'}), "NUL byte: expected a text file")
	}
	for !p.eof() {
		if err := p.parseLine(); err != nil {
			return err
		}
		p.skipRestOfLine()
		if !p.eof() { // the newline
			p.pos++
			p.line++
		}
	}
	return nil
}

// parseLine reads the statements of one line (as libuci's line buffer:
// quoted values and continuations extend it).
func (p *parser) parseLine() error {
	p.lineDone = false
	p.skipSpace()
	for !p.lineDone {
		// Between statements libuci splits the command word off with
		// strtok(" \t"): only spaces and tabs separate, so a stray
		// newline, CR or ';' here becomes an (invalid) command.
		for !p.eof() && (p.buf[p.pos] == ' ' || p.buf[p.pos] == '\t') {
			p.pos++
		}
		if p.eof() {
			return nil
		}
		if p.buf[p.pos] == '#' {
			p.lineDone = true
			return nil
		}
		if err := p.statement(); err != nil {
			return err
		}
	}
	return nil
}

// isBlank is C's isspace without the newline, which ends a line.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// skipSpace is libuci's skip_whitespace: blanks, and the line's final
// newline, which ends the line.
func (p *parser) skipSpace() {
	for !p.eof() && isBlank(p.buf[p.pos]) {
		p.pos++
	}
	if p.eof() || p.buf[p.pos] == '\n' {
		p.lineDone = true
	}
}

// continuation reports the length of a backslash-newline at pos (with an
// optional CR before the newline), or 0.
func (p *parser) continuation() int {
	b := p.buf[p.pos:]
	switch {
	case len(b) >= 2 && b[0] == '\\' && b[1] == '\n':
		return 2
	case len(b) >= 3 && b[0] == '\\' && b[1] == '\r' && b[2] == '\n':
		return 3
	}
	return 0
}

func (p *parser) skipRestOfLine() {
	for !p.eof() && p.buf[p.pos] != '\n' {
		p.pos++
	}
}

// drop ends the line at pos, as libuci does when it writes a string
// terminator over a '#' or a ';'.
func (p *parser) drop() {
	p.skipRestOfLine()
	p.lineDone = true
}

// command reads the command word the way strtok(" \t") splits it.
func (p *parser) command() string {
	start := p.pos
	for !p.eof() && p.buf[p.pos] != ' ' && p.buf[p.pos] != '\t' && p.buf[p.pos] != '\n' {
		p.pos++
	}
	return string(p.buf[start:p.pos])
}

// arg is libuci's next_arg: the next argument, "" at the end of the line
// or for a lone ';' (which it consumes).
func (p *parser) arg() (string, error) {
	if p.lineDone {
		return "", nil
	}
	p.skipSpace()
	if p.lineDone {
		return "", nil
	}
	if p.buf[p.pos] == ';' {
		p.pos++
		return "", nil
	}
	p.word = p.word[:0]
	bare := true // no quote or backslash: libuci's terminator lands on the delimiter
	for !p.eof() {
		c := p.buf[p.pos]
		switch {
		case c == '\n':
			p.lineDone = true
			return string(p.word), nil
		case isBlank(c):
			p.pos++
			return string(p.word), nil
		case c == '#':
			p.drop()
			return string(p.word), nil
		case c == ';':
			if bare {
				p.drop() // the rest of the line is lost, as in libuci
			}
			return string(p.word), nil
		case c == '\'':
			bare = false
			if err := p.singleQuoted(); err != nil {
				return "", err
			}
		case c == '"':
			bare = false
			if err := p.doubleQuoted(); err != nil {
				return "", err
			}
		case c == '\\':
			bare = false
			if n := p.continuation(); n > 0 {
				p.pos += n
				p.line++
				continue
			}
			p.pos++
			if !p.eof() {
				p.word = append(p.word, p.buf[p.pos])
				p.pos++
			}
		default:
			p.word = append(p.word, c)
			p.pos++
		}
	}
	p.lineDone = true
	return string(p.word), nil
}

// singleQuoted appends a '…' piece: no escapes, newlines kept.
func (p *parser) singleQuoted() error {
	open := p.line
	p.pos++
	for !p.eof() {
		c := p.buf[p.pos]
		p.pos++
		switch c {
		case '\'':
			return nil
		case '\n':
			p.line++
		}
		p.word = append(p.word, c)
	}
	return p.errf(open, "unterminated ' quote: expected a closing ' before the end of the file")
}

// doubleQuoted appends a "…" piece: backslash takes the next character
// literally, backslash-newline continues the line, other newlines are kept.
func (p *parser) doubleQuoted() error {
	open := p.line
	p.pos++
	for !p.eof() {
		if n := p.continuation(); n > 0 {
			p.pos += n
			p.line++
			continue
		}
		c := p.buf[p.pos]
		p.pos++
		switch c {
		case '"':
			return nil
		case '\\':
			if p.eof() {
				continue
			}
			c = p.buf[p.pos]
			p.pos++
		}
		if c == '\n' {
			p.line++
		}
		p.word = append(p.word, c)
	}
	return p.errf(open, `unterminated " quote: expected a closing " before the end of the file`)
}

// usage is what each command expects, for error messages.
var usage = map[string]string{
	"package": "package NAME",
	"config":  "config TYPE ['NAME']",
	"option":  "option NAME 'VALUE'",
	"list":    "list NAME 'VALUE'",
}

// statement reads one command and exactly as many arguments as libuci
// does (two, or one for package), then one more that must be empty: what
// follows on the line is the next statement.
func (p *parser) statement() error {
	line := p.line
	cmd := p.command()
	switch cmd {
	case "p", "package":
		cmd = "package"
	case "c", "config":
		cmd = "config"
	case "o", "option":
		cmd = "option"
	case "l", "list":
		cmd = "list"
	case "", "\r":
		return p.errf(line, "invalid command %q at the end of the line: expected nothing after a ';' or an empty '' argument there (libuci reads the line end as a command), so remove it", cmd)
	default:
		return p.errf(line, "invalid command %q: expected package, config, option or list", cmd)
	}
	if p.eof() || p.buf[p.pos] == '\n' {
		// libuci's strtok keeps the newline in the word, or runs off the
		// end of the file: the command has no arguments at all.
		return p.errf(line, "%s without arguments: expected %s", cmd, usage[cmd])
	}
	p.pos++ // the space or tab after the command word
	n := 2
	if cmd == "package" {
		n = 1
	}
	var args [2]string
	for i := 0; i < n; i++ {
		a, err := p.arg()
		if err != nil {
			return err
		}
		args[i] = a
	}
	extra, err := p.arg()
	if err != nil {
		return err
	}
	if extra != "" {
		return p.errf(p.line, "unexpected %q: expected %s (quote values that contain spaces)", extra, usage[cmd])
	}
	switch cmd {
	case "package":
		return p.packageStmt(line, args[0])
	case "config":
		return p.configStmt(line, args[0], args[1])
	default:
		return p.optionStmt(line, cmd, args[0], args[1])
	}
}

func (p *parser) packageStmt(line int, name string) error {
	if name == "" {
		return p.errf(line, "package without a name: expected %s", usage["package"])
	}
	if !validName(name, true) {
		return p.errf(line, "invalid package name %q: use letters, digits, _ and - only", name)
	}
	if len(p.pkg.Sections) > 0 {
		return p.errf(line, "package %q after the first section: expected one package per file, named before its sections", name)
	}
	p.pkg.Name = name
	return nil
}

func (p *parser) configStmt(line int, typ, name string) error {
	if typ == "" {
		return p.errf(line, "config without a type: expected %s", usage["config"])
	}
	if !validType(typ) {
		return p.errf(line, "invalid section type %q: use printable characters without spaces", typ)
	}
	if name == "" {
		p.cur = &Section{Type: typ, Anonymous: true, Line: line}
		p.pkg.Sections = append(p.pkg.Sections, p.cur)
		return nil
	}
	if !validName(name, false) {
		return p.errf(line, "invalid section name %q: use letters, digits and _ only", name)
	}
	if s, ok := p.named[name]; ok {
		if s.Type != typ {
			return p.errf(line, "section %q declared again with type %q: expected its first type %q (line %d)", name, typ, s.Type, s.Line)
		}
		p.cur = s
		return nil
	}
	p.cur = &Section{Type: typ, Name: name, Line: line}
	p.named[name] = p.cur
	p.pkg.Sections = append(p.pkg.Sections, p.cur)
	return nil
}

func (p *parser) optionStmt(line int, cmd, name, value string) error {
	if p.cur == nil {
		return p.errf(line, "%s before the first section: expected a config TYPE ['NAME'] line first", cmd)
	}
	if name == "" {
		return p.errf(line, "%s without a name: expected %s", cmd, usage[cmd])
	}
	if !validName(name, false) {
		return p.errf(line, "invalid %s name %q: use letters, digits and _ only", cmd, name)
	}
	if cmd == "list" {
		p.cur.add(name, value, line)
	} else {
		p.cur.set(name, value, line)
	}
	return nil
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// validName is libuci's rule for section, option (and, with dash,
// package) names.
func validName(s string, dash bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !alnum(s[i]) && !(dash && s[i] == '-') {
			return false
		}
	}
	return true
}

// validType is libuci's rule for section types: printable ASCII, no space.
func validType(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}
