// Command rusage runs a command and prints, as one JSON line on stderr,
// its wall time and peak resident set size. The benchmark guest has no
// /usr/bin/time, and busybox's date lacks sub-second precision everywhere,
// so the apply latency and peak RSS of mapehelper up/down are taken here.
//
// usage: rusage COMMAND [ARGS…]
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Usage is what rusage reports about one run. Start is the Unix time in
// microseconds just before the process was started: with mapehelper's
// MAPEHELPER_TRACE=1 "start" line (the time it reached main) it splits
// the wall time into process and Go runtime start-up versus our own work.
type Usage struct {
	Micros  int64 `json:"us"`
	MaxRSSK int64 `json:"maxrss_kib"`
	Exit    int   `json:"exit"`
	Start   int64 `json:"start_unix_us"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: rusage COMMAND [ARGS...]")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	start := time.Now()
	err := cmd.Run()
	u := Usage{Micros: time.Since(start).Microseconds(), Start: start.UnixMicro()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		u.Exit = ee.ExitCode()
	case err != nil:
		fmt.Fprintf(stderr, "rusage: run %s: %v\n", args[0], err)
		return 1
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSSK = int64(ru.Maxrss) // KiB on Linux; int32 on 32-bit arches
	}
	b, err := json.Marshal(u)
	if err != nil {
		fmt.Fprintf(stderr, "rusage: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "RUSAGE %s\n", b)
	return u.Exit
}
