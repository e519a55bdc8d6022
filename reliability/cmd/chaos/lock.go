package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// LockReport is the outcome of `chaos lock`: the command's exit status and
// how long the lock was waited for.
type LockReport struct {
	Exit   int   `json:"exit"`
	WaitMS int64 `json:"wait_ms"`
}

// runLock runs the command after -- while holding an exclusive flock of
// -file, as `flock -x FILE cmd` of util-linux does (BusyBox in the VM has
// no flock applet). The fw4 emulation takes fw4's lock with it, exactly
// as sbin/fw4 does around start, reload and flush.
func runLock(args []string, stderr io.Writer) (LockReport, error) {
	fs := flag.NewFlagSet("chaos lock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "lock file")
	if err := fs.Parse(args); err != nil {
		return LockReport{}, err
	}
	rest := fs.Args()
	if *file == "" || len(rest) == 0 {
		return LockReport{}, errors.New("usage: chaos lock -file FILE -- command …")
	}
	f, err := os.OpenFile(*file, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return LockReport{}, err
	}
	defer f.Close()
	start := time.Now()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return LockReport{}, fmt.Errorf("flock %s: %w", *file, err)
	}
	wait := time.Since(start).Milliseconds()
	cmd := exec.Command(rest[0], rest[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stderr, stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return LockReport{}, fmt.Errorf("run %s: %w", rest[0], err)
	}
	return LockReport{Exit: exitStatus(err), WaitMS: wait}, nil
}
