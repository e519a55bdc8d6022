package dataplane

import (
	"bytes"
	"testing"
	"time"
)

func TestTrace(t *testing.T) {
	var nilTrace *Trace
	nilTrace.Mark("x") // must not panic: code marks phases unconditionally
	nilTrace.Total()

	t0 := time.UnixMicro(1_700_000_000_000_000)
	clock := []time.Time{t0.Add(1500 * time.Microsecond), t0.Add(4 * time.Millisecond), t0.Add(10 * time.Millisecond)}
	now := func() time.Time { c := clock[0]; clock = clock[1:]; return c }
	var b bytes.Buffer
	tr := NewTrace(&b, now, t0)
	tr.Mark("lock")
	tr.Mark("tunnel")
	tr.Total()
	want := "mapehelper trace: start 1700000000000000\n" +
		"mapehelper trace: lock 1.500\n" +
		"mapehelper trace: tunnel 2.500\n" +
		"mapehelper trace: total 10.000\n"
	if b.String() != want {
		t.Errorf("trace:\n%s\nwant:\n%s", b.String(), want)
	}
}
