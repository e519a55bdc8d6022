package main

import (
	"github.com/mapehelper/mapehelper/rpcd"
	"github.com/mapehelper/mapehelper/ruletable"
	"github.com/mapehelper/mapehelper/status"
)

// runRPCD implements the rpcd exec-plugin protocol:
// `mapehelper rpcd list` and `mapehelper rpcd call METHOD` (input on stdin).
// A call always exits 0 with one JSON object on stdout, errors included,
// because rpcd passes on the JSON and drops the exit status.
func runRPCD(e *env, args []string) error {
	if len(args) == 1 && args[0] == "list" {
		return rpcd.List(e.stdout)
	}
	if len(args) != 2 || args[0] != "call" {
		return usagef("usage: mapehelper rpcd list | mapehelper rpcd call METHOD < input.json")
	}
	m := rpcd.Methods{
		Status: func(iface string) (any, error) {
			return collectStatus(status.DefaultStateDir, status.DefaultFirewallConfig, status.DefaultUPnPLeases, iface)
		},
		Calc: rpcd.Calculator(ruletable.Builtin()),
	}
	return m.Call(args[1], e.stdin, e.stdout)
}
