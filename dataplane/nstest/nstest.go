// Package nstest gives tests a fresh, named network namespace so they can
// load real nftables rules and links without touching the host's. Tests
// that need one call Require first: it skips on a developer machine without
// root or tools, and fails under CI=true, where nothing may skip.
package nstest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// Require skips (or, under CI=true, fails) unless we are root and every
// tool in tools is on PATH.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("needs %s (CI=true: not skipping)", strings.Join(missing, ", "))
	}
	t.Skipf("needs %s", strings.Join(missing, ", "))
}

// NS is a named network namespace created for one test.
type NS struct {
	Name   string
	Handle netns.NsHandle
}

// New creates a namespace named after the test and removes it when the
// test ends.
func New(t testing.TB) *NS {
	t.Helper()
	Require(t, "ip")
	name := fmt.Sprintf("mh%d-%s", os.Getpid(), sanitize(t.Name()))
	for i := 1; ; i++ { // a second namespace of the same test gets a suffix
		if _, err := os.Stat("/run/netns/" + name); err != nil {
			break
		}
		name = fmt.Sprintf("mh%d-%s-%d", os.Getpid(), sanitize(t.Name()), i)
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		_ = exec.Command("ip", "netns", "del", name).Run()
		t.Fatalf("open netns %s: %v", name, err)
	}
	t.Cleanup(func() {
		h.Close()
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	return &NS{Name: name, Handle: h}
}

// Run runs a command inside the namespace and returns its combined output;
// a failure ends the test.
func (n *NS) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := n.Try(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// Try runs a command inside the namespace and returns output and error.
func (n *NS) Try(name string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...).CombinedOutput()
	return string(out), err
}

// sanitize turns a test name into a namespace file name (unique per
// process, since test names are).
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// Do runs f on an OS thread switched into the namespace. Sockets f opens
// stay in the namespace afterwards, whichever thread later uses them.
func (n *NS) Do(t testing.TB, f func()) {
	t.Helper()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err = netns.Set(n.Handle); err != nil {
			return
		}
		f()
	}()
	<-done
	if err != nil {
		t.Fatalf("enter netns %s: %v", n.Name, err)
	}
}
