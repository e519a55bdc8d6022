package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/options"
	"github.com/mapehelper/mapehelper/ruletable"
)

// runCalc implements `mapehelper calc [flags] PREFIX-OR-ADDRESS`.
func runCalc(e *env, args []string) error {
	var o options.Interface
	fs := e.newFlagSet("calc", "Usage: mapehelper calc [flags] PREFIX-OR-ADDRESS\n\nComputes the MAP rule, CE IPv6 address, shared IPv4, PSID and port sets.\nWithout rule options the rule comes from the built-in ISP tables.")
	o.RegisterFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON (keys: isp br ce ipv4 ip4prefix ip6prefix ealen psidlen psid offset legacy port_sets ports)")
	rulesFile := fs.String("rules", "", "rule table CSV replacing the built-in ISP tables")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("need exactly one PREFIX-OR-ADDRESS, got %d", len(pos))
	}
	table, err := loadTable(*rulesFile)
	if err != nil {
		return err
	}
	in, err := options.ParseInput(pos[0])
	if err != nil {
		return err
	}
	res, err := options.Resolve(o, table, in)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		return enc.Encode(res)
	}
	printResult(e.stdout, res)
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns the positional ones. errHelpShown
// stands for -h.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, errHelpShown
			}
			return nil, usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// loadTable returns the user's rule table, or the built-in one.
func loadTable(path string) ([]mapcalc.Rule, error) {
	if path == "" {
		return ruletable.Builtin(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w (fix: give a readable CSV file with --rules)", err)
	}
	defer f.Close()
	rules, err := ruletable.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	return rules, nil
}

// printResult writes the human-readable form of a result.
func printResult(w io.Writer, r *mapcalc.Result) {
	isp := r.Rule.ISP
	if isp == "" {
		isp = "(explicit rule)"
	}
	br := "(none given)"
	if r.Rule.BR.IsValid() {
		br = r.Rule.BR.String()
	}
	layout := "RFC 7597"
	if r.Rule.Legacy {
		layout = "legacy (draft)"
	}
	fmt.Fprintf(w, "ISP        %s\n", isp)
	fmt.Fprintf(w, "Rule       %s\n", r.Rule)
	fmt.Fprintf(w, "Prefix     %s\n", r.EndUser)
	fmt.Fprintf(w, "BR         %s\n", br)
	fmt.Fprintf(w, "CE IPv6    %s  (%s interface id)\n", r.CE, layout)
	fmt.Fprintf(w, "IPv4       %s\n", r.IPv4)
	fmt.Fprintf(w, "PSID       %d  (psidlen %d, offset %d)\n", r.PSID, r.Rule.PSIDLen, r.Rule.Offset)
	fmt.Fprintf(w, "Ports      %d in %d sets\n", r.Ports(), len(r.PortSets))
	const perLine = 6
	for i := 0; i < len(r.PortSets); i += perLine {
		label := ""
		if i == 0 {
			label = "Port sets"
		}
		var parts []string
		for _, p := range r.PortSets[i:min(i+perLine, len(r.PortSets))] {
			parts = append(parts, p.Span())
		}
		fmt.Fprintf(w, "%-10s %s\n", label, strings.Join(parts, " "))
	}
}

// newFlagSet is a subcommand's flag set: parse errors and help go to
// stderr, and help prints usage (the command line and what it does) above
// the flags.
func (e *env) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseNoArgs parses the flags of a command that takes no positional
// argument.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}
