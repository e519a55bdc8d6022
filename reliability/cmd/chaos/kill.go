package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// KillReport says what happened to one command run under `chaos kill`.
type KillReport struct {
	DelayUS int64 `json:"delay_us"` // when the SIGKILL was due, after start
	Killed  bool  `json:"killed"`   // the command was still running and got SIGKILL
	Exit    int   `json:"exit"`     // its exit status (-1 when killed)
	MS      int64 `json:"ms"`       // how long it ran
}

// runKill starts the command after "--", waits a random time in [0, max)
// and sends SIGKILL unless it already ended: the kill lands at a random
// point of the command's work, which is what crash-consistency needs.
func runKill(args []string, stderr io.Writer) (KillReport, error) {
	fs := flag.NewFlagSet("chaos kill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	maxDelay := fs.Duration("max", 300*time.Millisecond, "kill at a uniformly random moment before this")
	seed := fs.Uint64("seed", 0, "random seed (0: from the clock)")
	if err := fs.Parse(args); err != nil {
		return KillReport{}, err
	}
	if fs.NArg() == 0 || *maxDelay <= 0 {
		return KillReport{}, errors.New("need -max > 0 and a command after --")
	}
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(s, s>>1|1))
	delay := time.Duration(rng.Int64N(int64(*maxDelay)))

	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return KillReport{}, fmt.Errorf("start %s: %w", fs.Arg(0), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	rep := KillReport{DelayUS: delay.Microseconds()}
	var err error
	select {
	case err = <-done:
	case <-time.After(delay):
		rep.Killed = cmd.Process.Signal(syscall.SIGKILL) == nil
		err = <-done
	}
	rep.MS = time.Since(start).Milliseconds()
	rep.Exit = exitStatus(err)
	if rep.Exit != -1 {
		rep.Killed = false // it finished before the signal arrived
	}
	return rep, nil
}

// TimeReport is the result of `chaos time`.
type TimeReport struct {
	Exit int   `json:"exit"`
	MS   int64 `json:"ms"`
}

// runTime runs the command after "--" and reports its duration, so the
// script can scale the kill window to how long the command really takes.
func runTime(args []string) (TimeReport, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return TimeReport{}, errors.New("need a command after --")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	start := time.Now()
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return TimeReport{}, fmt.Errorf("run %s: %w", args[0], err)
	}
	return TimeReport{Exit: exitStatus(err), MS: time.Since(start).Milliseconds()}, nil
}

// exitStatus is 0, the exit code, or -1 when a signal ended the process.
func exitStatus(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1
		}
		return ee.ExitCode()
	}
	return 1
}
