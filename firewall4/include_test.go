package firewall4

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// includeDirs returns an Include on temporary directories laid out like a
// router: <tmp>/run and <tmp>/usr/share/nftables.d/ruleset-post.
func includeDirs(t *testing.T, check func(string) error) (Include, string) {
	t.Helper()
	dir := t.TempDir()
	in := Include{RuntimeDir: filepath.Join(dir, "run"), IncludeDir: filepath.Join(dir, "usr/share/nftables.d/ruleset-post"), Check: check}
	if err := os.MkdirAll(filepath.Dir(in.IncludeDir), 0o755); err != nil {
		t.Fatal(err)
	}
	return in, dir
}

func TestIncludeInstallRemove(t *testing.T) {
	var checked []string
	in, _ := includeDirs(t, func(p string) error {
		b, err := os.ReadFile(p)
		checked = append(checked, string(b))
		return err
	})
	rs, err := New(seedConfig())
	if err != nil {
		t.Fatal(err)
	}
	link, err := in.Install("wan_mape", rs)
	if err != nil {
		t.Fatal(err)
	}
	// One check, of the include's declarations behind the replacing
	// preamble (the verdict must not depend on which table the kernel
	// holds); the file fw4 loads flushes instead.
	if len(checked) != 1 || checked[0] != rs.checkText() || !strings.Contains(checked[0], "\ndelete table ip mapehelper_wan_mape\n") {
		t.Errorf("checked %q, want one check of the replacing text", checked)
	}
	target, err := os.Readlink(link)
	if err != nil || !filepath.IsAbs(target) || target != in.RuntimePath("wan_mape") {
		t.Fatalf("symlink %s -> %q (%v), want the absolute runtime path", link, target, err)
	}
	if b, err := os.ReadFile(link); err != nil || string(b) != rs.Include() {
		t.Fatalf("include content wrong (%v)", err)
	}
	if _, err := in.Install("wan_mape", rs); err != nil {
		t.Fatalf("second install: %v", err)
	}
	if err := in.Remove("wan_mape"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, in.RuntimePath("wan_mape")} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Remove", p)
		}
	}
	if err := in.Remove("wan_mape"); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

// TestIncludeRejected: a file nft rejects never reaches fw4; the previous
// good include stays in place.
func TestIncludeRejected(t *testing.T) {
	ok := true
	in, _ := includeDirs(t, func(string) error {
		if ok {
			return nil
		}
		return errors.New("syntax error")
	})
	rs, _ := New(seedConfig())
	if _, err := in.Install("wan_mape", rs); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(in.RuntimePath("wan_mape"))
	ok = false
	other := seedConfig()
	other.MTU = 0
	rs2, _ := New(other)
	if _, err := in.Install("wan_mape", rs2); err == nil || !strings.Contains(err.Error(), "fw4 left unchanged") {
		t.Fatalf("err = %v, want a rejection", err)
	}
	if now, _ := os.ReadFile(in.RuntimePath("wan_mape")); string(now) != string(good) {
		t.Fatal("a rejected include replaced the good one")
	}
	for _, tmp := range []string{".new", ".check"} {
		if _, err := os.Stat(in.RuntimePath("wan_mape") + tmp); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the rejected temporary file %s was left behind", tmp)
		}
	}
}

// TestIncludeNoFW4: without /usr/share/nftables.d there is no fw4; the file
// is still written (for inspection) but nothing is linked or checked.
func TestIncludeNoFW4(t *testing.T) {
	dir := t.TempDir()
	in := Include{RuntimeDir: filepath.Join(dir, "run"), IncludeDir: filepath.Join(dir, "nofw4/ruleset-post"),
		Check: func(string) error { t.Fatal("checked without fw4"); return nil }}
	rs, _ := New(seedConfig())
	link, err := in.Install("wan_mape", rs)
	if err != nil || link != "" {
		t.Fatalf("link %q, err %v", link, err)
	}
	if _, err := os.Stat(in.RuntimePath("wan_mape")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nofw4")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("created fw4's directory although fw4 is absent")
	}
}

// TestIncludeForeignLink: a symlink of our name that points elsewhere is
// not ours; Remove reports it and leaves it.
func TestIncludeForeignLink(t *testing.T) {
	in, dir := includeDirs(t, func(string) error { return nil })
	if err := os.MkdirAll(in.IncludeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "theirs.nft")
	if err := os.Symlink(foreign, in.LinkPath("wan_mape")); err != nil {
		t.Fatal(err)
	}
	if err := in.Remove("wan_mape"); err == nil || !strings.Contains(err.Error(), "left alone") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Lstat(in.LinkPath("wan_mape")); err != nil {
		t.Fatal("foreign symlink removed")
	}
}

// TestIncludeCheckMemo: a text the checker accepted is not checked again
// under the same checker ID (up's Validate and Install, and every later up
// of the same mapping, cost one nft run); a new text, a new checker or a
// rejected text is checked every time; the memo stays bounded.
func TestIncludeCheckMemo(t *testing.T) {
	calls, reject, id := 0, false, "nft-1"
	in, _ := includeDirs(t, func(string) error {
		calls++
		if reject {
			return errors.New("syntax error")
		}
		return nil
	})
	in.CheckID = func() (string, error) { return id, nil }
	withMTU := func(mtu int) *Ruleset {
		c := seedConfig()
		c.MTU = mtu
		rs, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	step := func(what string, f func() error, wantCalls int) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if calls != wantCalls {
			t.Fatalf("%s: %d checks so far, want %d", what, calls, wantCalls)
		}
	}
	rs := withMTU(1460)
	step("first Validate", func() error { return in.Validate("wan_mape", rs) }, 1)
	step("Install of the validated text", func() error { _, err := in.Install("wan_mape", rs); return err }, 1)
	step("Validate again", func() error { return in.Validate("wan_mape", rs) }, 1)
	step("same text, other interface", func() error { return in.Validate("other", rs) }, 1)
	step("new text", func() error { return in.Validate("wan_mape", withMTU(1400)) }, 2)
	id = "nft-2"
	step("new checker", func() error { return in.Validate("wan_mape", rs) }, 3)

	reject = true
	bad := withMTU(1300)
	for i := range 2 {
		if err := in.Validate("wan_mape", bad); err == nil {
			t.Fatalf("rejected text accepted on try %d", i+1)
		}
	}
	if calls != 5 {
		t.Fatalf("a rejected text must be checked every time: %d checks, want 5", calls)
	}
	reject = false

	for mtu := 1281; mtu < 1281+2*maxChecked; mtu++ {
		if err := in.Validate("wan_mape", withMTU(mtu)); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := os.ReadDir(filepath.Join(in.RuntimeDir, checkedDir))
	if err != nil || len(ents) != maxChecked {
		t.Fatalf("memo holds %d entries (%v), want %d", len(ents), err, maxChecked)
	}
	last := calls
	step("newest text still remembered", func() error { return in.Validate("wan_mape", withMTU(1280+2*maxChecked)) }, last)
}

// TestIncludeNoMemoWithoutID: a Check of its own without CheckID is run
// on every text, every time (the tests above rely on it).
func TestIncludeNoMemoWithoutID(t *testing.T) {
	calls := 0
	in, _ := includeDirs(t, func(string) error { calls++; return nil })
	rs, _ := New(seedConfig())
	for range 3 {
		if err := in.Validate("wan_mape", rs); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 3 {
		t.Fatalf("%d checks, want 3", calls)
	}
}
