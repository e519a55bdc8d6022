package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		args []string
		exit int
	}{
		{"ok", []string{"true"}, 0},
		{"exit code passes through", []string{"sh", "-c", "exit 3"}, 3},
		{"usage", nil, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(tc.args, strings.NewReader(""), &out, &errb); got != tc.exit {
				t.Fatalf("exit %d, want %d (stderr %q)", got, tc.exit, errb.String())
			}
			if tc.args == nil {
				return
			}
			line := strings.TrimPrefix(strings.TrimSpace(errb.String()), "RUSAGE ")
			var u Usage
			if err := json.Unmarshal([]byte(line), &u); err != nil {
				t.Fatalf("parse %q: %v", line, err)
			}
			if u.Exit != tc.exit || u.MaxRSSK <= 0 || u.Micros <= 0 || u.Start < time.Now().Add(-time.Minute).UnixMicro() {
				t.Errorf("usage %+v", u)
			}
		})
	}
}
