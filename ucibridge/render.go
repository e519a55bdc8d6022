package ucibridge

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Render writes pkg in the layout `uci export` uses (tab-indented
// options, single-quoted values; a quote inside a value closes the quoted
// piece, follows as backslash-quote and reopens), so Parse(Render(pkg))
// gives pkg back. A section type that is not
// a plain word is quoted too, where uci export would write it bare and
// break it on re-reading.
func Render(w io.Writer, pkg *Package) error {
	bw := bufio.NewWriter(w)
	if validName(pkg.Name, true) {
		fmt.Fprintf(bw, "package %s\n", pkg.Name)
	}
	for _, s := range pkg.Sections {
		bw.WriteString("\nconfig ")
		if validName(s.Type, false) {
			bw.WriteString(s.Type)
		} else {
			bw.WriteString(Quote(s.Type))
		}
		if !s.Anonymous {
			bw.WriteString(" " + Quote(s.Name))
		}
		bw.WriteString("\n")
		for _, o := range s.Options {
			cmd := "option"
			if o.IsList {
				cmd = "list"
			}
			for _, v := range o.Values {
				fmt.Fprintf(bw, "\t%s %s %s\n", cmd, o.Name, Quote(v))
			}
		}
	}
	bw.WriteString("\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render UCI package %s: %w", pkg.Name, err)
	}
	return nil
}

// Quote single-quotes s the way uci export does (see Render), so a value
// in a message reads as the user would write it in the file.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
