package firewall4

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Include places the fw4 include of one interface:
//
//   - the ruleset text in RuntimeDir/<iface>.nft (tmpfs, gone after reboot);
//   - a symlink IncludeDir/mapehelper-<iface>.nft pointing to it by absolute
//     path (fw4 resolves one level and rejects relative targets; a dangling
//     one, after reboot, is skipped silently).
//
// IncludeDir is fw4's ruleset-post directory: those files are loaded at the
// top level of fw4's transaction on every start, reload and restart.
type Include struct {
	RuntimeDir string
	IncludeDir string // "" or missing parent directory: no fw4 here, no symlink
	// Check validates a file the way fw4 will load it; nil runs `nft -c -f`.
	// A broken include would make every later fw4 reload fail silently.
	Check func(path string) error
	// CheckID names the checker that judges a text: the same text under
	// the same ID gets the same verdict, so an accepted text is not checked
	// again (see checkedDir). nil with Check nil: the nft that PATH finds,
	// by path, size and modification time. nil with a Check of
	// its own: no memo, every text is checked.
	CheckID func() (string, error)
	// Lock is fw4's lock file (DefaultLock); "" takes no lock (tests).
	Lock string
	// LockWait bounds the wait for Lock; 0 is DefaultLockWait.
	LockWait time.Duration
}

// DefaultLock is the file OpenWrt's fw4 (sbin/fw4) holds with `flock -x`
// while it renders and loads the ruleset (start, reload, restart) and
// while it flushes. fw4 reads every ruleset-post include while it renders,
// so changing our include and table under the same lock makes a fw4 run
// see either the previous include and table or the new ones, never the
// previous include loaded after our new table.
const DefaultLock = "/var/run/fw4.lock"

// DefaultLockWait is how long up and down wait for fw4's lock: a fw4
// reload takes 1-3 s on a small router; far longer means a hung fw4.
const DefaultLockWait = 20 * time.Second

// checkedDir (under RuntimeDir) remembers which include texts the checker
// accepted: one empty file per text, named by a hash (FNV-128a, see
// memoKey) of the checker's ID and the text. Spawning `nft -c` costs 150-400 ms per run in the
// emulated VM (and far more than everything else up does on a small
// router), while the text is a pure function of the rule model, so it
// changes only when the mapping does. The memo lives on tmpfs: the first
// up after a boot, a new nft binary or a new mapping is checked in full.
// Only accepted texts are recorded, after the check, so a crash leaves at
// most a missing entry. It is not per interface (one text validated for
// any interface is valid for all with that text) and holds at most
// maxChecked entries.
const checkedDir = ".nft-checked"

// maxChecked bounds the memo; the oldest entries go first.
const maxChecked = 16

// RuntimePath is the generated file of iface.
func (in Include) RuntimePath(iface string) string {
	return filepath.Join(in.RuntimeDir, iface+".nft")
}

// LinkPath is the symlink fw4 reads for iface.
func (in Include) LinkPath(iface string) string {
	return filepath.Join(in.IncludeDir, "mapehelper-"+iface+".nft")
}

// Enabled reports whether fw4's include directory (or its parent,
// /usr/share/nftables.d) exists, i.e. whether fw4 is installed.
func (in Include) Enabled() bool {
	if in.IncludeDir == "" {
		return false
	}
	st, err := os.Stat(filepath.Dir(in.IncludeDir))
	return err == nil && st.IsDir()
}

// Validate checks the include text of rs the way Install will, without
// replacing anything: up calls it before touching the kernel, so a ruleset
// that fw4 would reject never reaches the tunnel or our table either.
//
// The text checked is the include's declarations behind a replacing
// preamble (add, delete, add: Ruleset.checkText), not the installed
// file's flush: `nft -c` evaluates against the running kernel, where the
// table up is about to replace may come from an older model (before an
// upgrade, or another rule). The installed file flushes a table that up
// has just built from the same declarations, and re-declaring what exists
// unchanged is accepted (TestApplyAgreesWithRender loads it on top of every
// shape's Apply), so the verdict holds for the file fw4 will load.
func (in Include) Validate(iface string, rs *Ruleset) error {
	if !in.Enabled() {
		return nil
	}
	if err := os.MkdirAll(in.RuntimeDir, 0o755); err != nil {
		return fmt.Errorf("include directory: %w", err)
	}
	text := []byte(rs.checkText())
	key := in.memoKey(text)
	if in.accepted(key) {
		return nil
	}
	tmp := in.RuntimePath(iface) + ".check"
	if err := os.WriteFile(tmp, text, 0o644); err != nil {
		return fmt.Errorf("write include: %w", err)
	}
	defer os.Remove(tmp)
	return in.check(tmp, key)
}

// check runs the checker on path and records an accepted text under key.
func (in Include) check(path, key string) error {
	check := in.Check
	if check == nil {
		check = nftCheck
	}
	if err := check(path); err != nil {
		return fmt.Errorf("include rejected, fw4 left unchanged: %w", err)
	}
	in.remember(key)
	return nil
}

// memoKey is the memo entry of text under the current checker, or "" when
// the checker has no ID (no memo).
func (in Include) memoKey(text []byte) string {
	id := in.CheckID
	if id == nil {
		if in.Check != nil {
			return ""
		}
		id = nftID
	}
	who, err := id()
	if err != nil {
		return "" // no identity, no memo: the check runs
	}
	// FNV-128a, not SHA-256: the memo only has to tell texts apart by
	// accident (writing into the runtime directory needs root, who could
	// skip the check anyway), and crypto/sha256 links Go's FIPS module:
	// +262 KB on mipsel, past the 4 MiB budget.
	h := fnv.New128a()
	h.Write([]byte(who))
	h.Write([]byte{0})
	h.Write(text)
	return hex.EncodeToString(h.Sum(nil))
}

// accepted reports whether the text of key was accepted before, and marks
// the entry as used now, so pruning drops the least recently used.
func (in Include) accepted(key string) bool {
	if key == "" {
		return false
	}
	now := time.Now()
	return os.Chtimes(filepath.Join(in.RuntimeDir, checkedDir, key), now, now) == nil
}

// remember records key as accepted and drops the oldest entries beyond
// maxChecked. Best effort: without the entry the next up checks again.
func (in Include) remember(key string) {
	if key == "" {
		return
	}
	dir := filepath.Join(in.RuntimeDir, checkedDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	f, err := os.Create(filepath.Join(dir, key))
	if err != nil {
		return
	}
	f.Close()
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) <= maxChecked {
		return
	}
	type aged struct {
		name string
		mod  time.Time
	}
	var others []aged // every entry but the one just added
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && e.Name() != key {
			others = append(others, aged{e.Name(), fi.ModTime()})
		}
	}
	// Drop the oldest until maxChecked entries are left. One at a time
	// rather than slices.SortFunc: usually one entry goes, and the generic
	// sort cost 12.5 KB of mipsel code (docs/bench.md, size breakdown).
	for len(others) > maxChecked-1 {
		oldest := 0
		for i, e := range others {
			if e.mod.Before(others[oldest].mod) {
				oldest = i
			}
		}
		os.Remove(filepath.Join(dir, others[oldest].name))
		others[oldest] = others[len(others)-1]
		others = others[:len(others)-1]
	}
}

// Install validates the include of rs (Validate), writes it and links it
// into fw4's directory. It returns the symlink path ("" when fw4 is
// absent). The file replaces the old one only after the check, so a
// rejected ruleset never reaches fw4.
func (in Include) Install(iface string, rs *Ruleset) (string, error) {
	if err := os.MkdirAll(in.RuntimeDir, 0o755); err != nil {
		return "", fmt.Errorf("include directory: %w", err)
	}
	// up validated this very ruleset a moment ago: the memo skips a second
	// nft run.
	if err := in.Validate(iface, rs); err != nil {
		return "", err
	}
	dst := in.RuntimePath(iface)
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, []byte(rs.Include()), 0o644); err != nil {
		return "", fmt.Errorf("write include: %w", err)
	}
	defer os.Remove(tmp)
	if !in.Enabled() {
		return "", os.Rename(tmp, dst)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("install include: %w", err)
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(in.IncludeDir, 0o755); err != nil {
		return "", fmt.Errorf("fw4 include directory: %w", err)
	}
	link := in.LinkPath(iface)
	if cur, err := os.Readlink(link); err == nil && cur == abs {
		return link, nil // already there: no write to flash
	}
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("replace %s: %w", link, err)
	}
	if err := os.Symlink(abs, link); err != nil {
		return "", fmt.Errorf("link fw4 include: %w", err)
	}
	return link, nil
}

// Remove deletes the runtime file and our symlink. A path at the symlink's
// place that is not a symlink into RuntimeDir is not ours and stays.
func (in Include) Remove(iface string) error {
	var errs []error
	if in.IncludeDir != "" {
		link := in.LinkPath(iface)
		if target, err := os.Readlink(link); err == nil {
			if abs, _ := filepath.Abs(in.RuntimePath(iface)); target == abs {
				if err := os.Remove(link); err != nil {
					errs = append(errs, fmt.Errorf("remove %s: %w", link, err))
				}
			} else {
				errs = append(errs, fmt.Errorf("%s points to %s, not to our file: left alone", link, target))
			}
		}
	}
	if err := os.Remove(in.RuntimePath(iface)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove include: %w", err))
	}
	return errors.Join(errs...)
}

// nftID identifies the nft that nftCheck runs: its path, size and
// modification time, so an upgraded or different nft checks again.
func nftID() (string, error) {
	path, err := exec.LookPath("nft")
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("nft %s %d %d", path, fi.Size(), fi.ModTime().UnixNano()), nil
}

// nftCheck runs `nft -c -f path`: parse and evaluate against the running
// kernel without committing.
func nftCheck(path string) error {
	out, err := exec.Command("nft", "-c", "-f", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nft -c -f %s: %v: %s", path, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// LockFW4 takes fw4's lock (an exclusive flock of Lock, as sbin/fw4 takes
// it), waiting at most LockWait; unlock releases it. Without fw4 (Enabled
// false) or without Lock it takes nothing. The kernel drops the lock when
// the process dies, so a crash never leaves fw4 locked.
func (in Include) LockFW4() (unlock func(), err error) {
	if in.Lock == "" || !in.Enabled() {
		return func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(in.Lock), 0o755); err != nil {
		return nil, fmt.Errorf("fw4 lock: %w", err)
	}
	f, err := os.OpenFile(in.Lock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("fw4 lock: %w", err)
	}
	wait := in.LockWait
	if wait == 0 {
		wait = DefaultLockWait
	}
	// A blocking flock, not polling: the kernel hands the lock to a
	// waiter when it is released, so back-to-back fw4 reloads cannot
	// starve up (a poll would have to hit the gap between two of them).
	got := make(chan error, 1)
	go func() { got <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("fw4 lock %s: %w", in.Lock, err)
		}
		return func() { f.Close() }, nil
	case <-time.After(wait):
		go func() { <-got; f.Close() }() // let go of it as soon as it comes
		return nil, fmt.Errorf("fw4 is busy: %s held for %v by a fw4 start, reload or flush (fix: look for a hung fw4 or nft process, then set the interface up again)", in.Lock, wait)
	}
}
