// Command mapehelper configures a MAP-E (RFC 7597 and the Japanese "v6
// plus"/OCN/BIGLOBE variant) interface on OpenWrt: it computes the rule,
// creates the ip4ip6 tunnel and installs SNAT over every port set.
//
// main stays thin: it picks a subcommand and turns its error into an exit
// status. Each subcommand lives in its own file.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mapehelper/mapehelper/dataplane"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// usageError marks errors caused by how the command was called; they exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{msg: fmt.Sprintf(format, args...)}
}

// command is one subcommand: run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(env *env, args []string) error
}

// env carries the process's standard streams so subcommands can be tested
// without touching the real ones, and the optional phase trace of up/down.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	trace          *dataplane.Trace // nil unless MAPEHELPER_TRACE=1
}

func commands() []command {
	return []command{
		{"calc", "compute the MAP rule, CE address, IPv4, PSID and port sets", runCalc},
		{"up", "create the tunnel and the nftables rules for an interface", runUp},
		{"down", "remove the tunnel and the nftables rules of an interface", runDown},
		{"status", "show the state of every MAP interface", runStatus},
		{"upnp", "miniupnpd.conf lines that keep UPnP/NAT-PMP/PCP inside our port sets", runUPnP},
		{"rpcd", "rpcd exec plugin protocol (list / call METHOD)", runRPCD},
		{"linkprefix", "the tunnel link's prefix the rule uses, from netifd's status on stdin", runLinkPrefix},
		{"version", "print the version", runVersion},
	}
}

func main() {
	start := time.Now() // first thing: the trace tells runtime start-up from our work
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	if os.Getenv("MAPEHELPER_TRACE") == "1" {
		e.trace = dataplane.NewTrace(os.Stderr, time.Now, start)
	}
	code := run(e, os.Args[1:])
	e.trace.Total()
	os.Exit(code)
}

// run executes one command line and returns the exit status:
// 0 success, 2 usage error, 1 any other failure.
func run(e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(e, args[1:])
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(e.stderr, "mapehelper %s: %v\n", c.name, err)
			return 2
		case errors.Is(err, errHelpShown):
			return 0
		default:
			fmt.Fprintf(e.stderr, "mapehelper %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "mapehelper: unknown command %q (see mapehelper --help)\n", args[0])
	return 2
}

// errHelpShown is returned by a subcommand that printed its own help.
var errHelpShown = errors.New("help shown")

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "mapehelper %s: MAP-E for OpenWrt with every port set in use\n\nUsage: mapehelper COMMAND [flags]\n\nCommands:\n", version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'mapehelper COMMAND --help' for a command's flags.\n")
}

func runVersion(e *env, args []string) error {
	fmt.Fprintf(e.stdout, "mapehelper %s\n", version)
	return nil
}
