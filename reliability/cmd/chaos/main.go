// Command chaos is the fault injector of the reliability tests in the VM.
// busybox sh has neither sub-second clocks nor good randomness, so the
// guest scripts call it for the parts that need them:
//
//	chaos kill -max 400ms -seed 7 -- mapehelper up …   run, SIGKILL at a random moment
//	chaos time -- mapehelper up …                      run, report the duration
//	chaos udpflow -to 203.0.113.10:9001 -lport 40000 -every 200ms -for 10s
//	                                                   one long-lived UDP flow
//	chaos lock -file /var/run/fw4.lock -- sh -c …      run under an exclusive flock
//
// Each prints one JSON line for the script to judge.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: chaos kill|time|udpflow|lock [flags] [-- command …]")
		return 2
	}
	var (
		rep any
		err error
	)
	switch args[0] {
	case "kill":
		rep, err = runKill(args[1:], stderr)
	case "time":
		rep, err = runTime(args[1:])
	case "udpflow":
		rep, err = runUDPFlow(args[1:], stderr)
	case "lock":
		rep, err = runLock(args[1:], stderr)
	default:
		fmt.Fprintf(stderr, "chaos: unknown subcommand %q\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "chaos %s: %v\n", args[0], err)
		return 2
	}
	if err := json.NewEncoder(stdout).Encode(rep); err != nil {
		fmt.Fprintf(stderr, "chaos: %v\n", err)
		return 1
	}
	return 0
}
