package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestUPnPCommand(t *testing.T) {
	rec := func(name, st string, lo int) string {
		return `{"version":1,"interface":"` + name + `","state":"` + st + `","ipv4":"14.8.52.86","psid":120,` +
			`"port_sets":[[` + strconv.Itoa(lo) + `,` + strconv.Itoa(lo+15) + `]],"tunnel":"map-` + name + `"}`
	}
	write := func(t *testing.T, dir string, files map[string]string) {
		t.Helper()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name     string
		files    map[string]string
		args     []string
		code     int
		out, err string
	}{
		{"the only interface up", map[string]string{"wanmap": rec("wanmap", "up", 6016), "old": rec("old", "error", 4096)},
			nil, 0, "ext_ifname=map-wanmap\next_ip=14.8.52.86\nallow 6016-6031 0.0.0.0/0 1024-65535\ndeny 0-65535 0.0.0.0/0 0-65535\n", ""},
		{"named interface", map[string]string{"a": rec("a", "up", 6016), "b": rec("b", "up", 10112)},
			[]string{"--interface", "b"}, 0, "allow 10112-10127 0.0.0.0/0 1024-65535\ndeny", ""},
		{"two up, none named", map[string]string{"a": rec("a", "up", 6016), "b": rec("b", "up", 10112)},
			nil, 2, "", "2 MAP interfaces are up (a, b): choose one with --interface"},
		{"none up", map[string]string{"a": rec("a", "error", 6016)}, nil, 1, "", "no MAP interface is up"},
		{"named one failed", map[string]string{"a": rec("a", "error", 6016)}, []string{"--interface", "a"}, 1, "", "interface a is not up (state error); fix: ifup a"},
		{"named one absent", nil, []string{"--interface", "x"}, 1, "", "interface x has no state in"},
		{"damaged file", map[string]string{"a": "{"}, []string{"--interface", "a"}, 1, "", "state file damaged"},
		{"extra argument", nil, []string{"extra"}, 2, "", `unexpected argument "extra"`},
		{"unknown flag", nil, []string{"--bogus"}, 2, "", "flag provided but not defined: -bogus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tc.files)
			code, out, errs := runCmd(t, "", append([]string{"upnp", "--state-dir", dir}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q", code, out, errs, tc.code, tc.out, tc.err)
			}
			if code != 0 && out != "" {
				t.Errorf("failure printed config lines: %q", out)
			}
		})
	}
}
