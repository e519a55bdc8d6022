package ucibridge

import (
	"strconv"
	"strings"
)

// Package is one parsed configuration file, e.g. /etc/config/network.
type Package struct {
	Name     string // package name: the file's base name or its `package` statement
	File     string // name given to Parse, used in error messages
	Sections []*Section
}

// Section is one `config TYPE ['NAME']` block.
type Section struct {
	Type      string
	Name      string // "" for an anonymous section
	Anonymous bool
	Line      int // line of the first `config` statement that opened it
	Options   []*Option
}

// Option is one `option` (a single value) or the collected `list`
// statements of one name, in file order.
type Option struct {
	Name   string
	Values []string // exactly one for an option; one or more for a list
	IsList bool
	Line   int // line of the statement that last set it
}

// Section finds a section by name, or by uci's extended reference
// `@type[index]` (index counts every section of that type, named or not,
// from 0; negative indexes count from the end). It returns nil when there
// is none.
func (p *Package) Section(ref string) *Section {
	if p == nil {
		return nil
	}
	if typ, idx, ok := parseRef(ref); ok {
		var of []*Section
		for _, s := range p.Sections {
			if s.Type == typ {
				of = append(of, s)
			}
		}
		if idx < 0 {
			idx += len(of)
		}
		if idx < 0 || idx >= len(of) {
			return nil
		}
		return of[idx]
	}
	for _, s := range p.Sections {
		if !s.Anonymous && s.Name == ref {
			return s
		}
	}
	return nil
}

// SectionsOfType returns the sections of one type in file order.
func (p *Package) SectionsOfType(typ string) []*Section {
	var out []*Section
	for _, s := range p.Sections {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

// Ref returns the name a user (and Package.Section) addresses s by: its
// name, or `@type[index]` for an anonymous section. It returns "" when s is
// not in p.
func (p *Package) Ref(s *Section) string {
	if !s.Anonymous {
		return s.Name
	}
	i := 0
	for _, t := range p.Sections {
		if t == s {
			return "@" + s.Type + "[" + strconv.Itoa(i) + "]"
		}
		if t.Type == s.Type {
			i++
		}
	}
	return ""
}

// parseRef splits "@type[index]".
func parseRef(ref string) (typ string, idx int, ok bool) {
	if !strings.HasPrefix(ref, "@") || !strings.HasSuffix(ref, "]") {
		return "", 0, false
	}
	body := ref[1 : len(ref)-1]
	i := strings.LastIndexByte(body, '[') // a type may itself hold brackets
	if i <= 0 {
		return "", 0, false
	}
	typ, num := body[:i], body[i+1:]
	idx, err := strconv.Atoi(num)
	if err != nil {
		return "", 0, false
	}
	return typ, idx, true
}

// Option returns the option called name, or nil.
func (s *Section) Option(name string) *Option {
	for _, o := range s.Options {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// Get returns an option's value as `uci get` prints it: a list's items
// are joined by single spaces. ok is false when the option is absent.
func (s *Section) Get(name string) (value string, ok bool) {
	o := s.Option(name)
	if o == nil {
		return "", false
	}
	return strings.Join(o.Values, " "), true
}

// List returns an option's values: the items of a list, or the single
// value of an option, or nil when absent.
func (s *Section) List(name string) []string {
	if o := s.Option(name); o != nil {
		return o.Values
	}
	return nil
}

// set implements `option`: the value replaces any earlier option or list
// of that name in place. An empty value changes nothing: libuci's uci_set
// deletes only for a looked-up pointer, which file parsing never has.
func (s *Section) set(name, value string, line int) {
	if value == "" {
		return
	}
	for i, o := range s.Options {
		if o.Name == name {
			s.Options[i] = &Option{Name: name, Values: []string{value}, Line: line}
			return
		}
	}
	s.Options = append(s.Options, &Option{Name: name, Values: []string{value}, Line: line})
}

// add implements `list`: an earlier single option becomes the first item.
func (s *Section) add(name, value string, line int) {
	if o := s.Option(name); o != nil {
		o.Values = append(o.Values, value)
		o.IsList = true
		o.Line = line
		return
	}
	s.Options = append(s.Options, &Option{Name: name, Values: []string{value}, IsList: true, Line: line})
}
