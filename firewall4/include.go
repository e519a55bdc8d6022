package firewall4

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
}

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
func (in Include) Validate(iface string, rs *Ruleset) error {
	if !in.Enabled() {
		return nil
	}
	if err := os.MkdirAll(in.RuntimeDir, 0o755); err != nil {
		return fmt.Errorf("include directory: %w", err)
	}
	tmp := in.RuntimePath(iface) + ".check"
	if err := os.WriteFile(tmp, []byte(rs.Include()), 0o644); err != nil {
		return fmt.Errorf("write include: %w", err)
	}
	defer os.Remove(tmp)
	check := in.Check
	if check == nil {
		check = nftCheck
	}
	if err := check(tmp); err != nil {
		return fmt.Errorf("include rejected, fw4 left unchanged: %w", err)
	}
	return nil
}

// Install writes and validates the include of rs and links it into fw4's
// directory. It returns the symlink path ("" when fw4 is absent). The file
// is validated under a temporary name before it replaces the old one, so
// a rejected ruleset never reaches fw4.
func (in Include) Install(iface string, rs *Ruleset) (string, error) {
	if err := os.MkdirAll(in.RuntimeDir, 0o755); err != nil {
		return "", fmt.Errorf("include directory: %w", err)
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
	check := in.Check
	if check == nil {
		check = nftCheck
	}
	if err := check(tmp); err != nil {
		return "", fmt.Errorf("include rejected, fw4 left unchanged: %w", err)
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

// nftCheck runs `nft -c -f path`: parse and evaluate against the running
// kernel without committing.
func nftCheck(path string) error {
	out, err := exec.Command("nft", "-c", "-f", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nft -c -f %s: %v: %s", path, err, strings.TrimSpace(string(out)))
	}
	return nil
}
