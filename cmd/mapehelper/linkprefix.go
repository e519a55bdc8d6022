package main

import (
	"fmt"
	"io"

	"github.com/mapehelper/mapehelper/options"
)

// runLinkPrefix implements `mapehelper linkprefix [--used PREFIX]`: the
// netifd handler's setup and hotplug scripts pipe the tunnel link's
// `ubus call network.interface.X status` into it and get the prefix the
// rule is computed from (options.LinkPrefix), so the shell compares one
// string and knows nothing of address lists, masks or lifetimes. Exit 1
// and nothing on stdout when the link has no global prefix yet.
func runLinkPrefix(e *env, args []string) error {
	fs := e.newFlagSet("linkprefix", "Usage: mapehelper linkprefix [--used PREFIX] < netifd-interface-status.json\n\nPrints the prefix of the tunnel link the MAP rule is computed from.")
	used := fs.String("used", "", "the prefix the running setup was built from; printed unchanged while it is still on the link")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	const maxStatus = 1 << 20
	b, err := io.ReadAll(io.LimitReader(e.stdin, maxStatus+1))
	if err != nil {
		return fmt.Errorf("read the link status: %w", err)
	}
	if len(b) > maxStatus {
		return fmt.Errorf("link status larger than %d bytes", maxStatus)
	}
	p, err := options.LinkPrefix(b, *used)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, p)
	return nil
}
