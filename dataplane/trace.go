package dataplane

import (
	"fmt"
	"io"
	"time"
)

// Trace writes how long each phase of a command took, one line per phase:
//
//	mapehelper trace: PHASE MS
//
// MS is the time since the previous mark in milliseconds. It exists to
// find where `up` spends its time on a slow router (or an emulated VM),
// where a profiler would disturb what it measures; `mapehelper` turns it
// on with MAPEHELPER_TRACE=1. The first line, "start", carries the Unix
// time in microseconds at which the process reached main, so a caller that
// knows when it started the process (bench/cmd/rusage) can tell runtime
// start-up apart from our own work. A nil *Trace does nothing, so code
// paths mark phases unconditionally.
type Trace struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	last  time.Time
}

// NewTrace starts a trace at start (the time main was entered) writing to w.
func NewTrace(w io.Writer, now func() time.Time, start time.Time) *Trace {
	t := &Trace{w: w, now: now, start: start, last: start}
	fmt.Fprintf(w, "mapehelper trace: start %d\n", start.UnixMicro())
	return t
}

// Mark ends the phase name: it writes the time since the previous mark.
func (t *Trace) Mark(name string) {
	if t == nil {
		return
	}
	n := t.now()
	fmt.Fprintf(t.w, "mapehelper trace: %s %.3f\n", name, float64(n.Sub(t.last).Microseconds())/1000)
	t.last = n
}

// Total writes the time since start under the phase name "total".
func (t *Trace) Total() {
	if t == nil {
		return
	}
	n := t.now()
	fmt.Fprintf(t.w, "mapehelper trace: total %.3f\n", float64(n.Sub(t.start).Microseconds())/1000)
}
