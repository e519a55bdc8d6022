package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lock takes the exclusive flock of <dir>/<iface>.lock, waiting until ctx
// ends. netifd may run setup and teardown of one interface back to back;
// the lock keeps them from interleaving. The kernel drops the lock if the
// process dies, so a crash never leaves the interface locked.
func lock(ctx context.Context, dir, iface string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fileErr(fmt.Errorf("state directory: %w", err))
	}
	path := filepath.Join(dir, iface+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fileErr(fmt.Errorf("lock %s: %w", path, err))
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, codef(CodeBusy, "interface %s is busy: another mapehelper up/down holds %s", iface, path)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fileErr codes a file-system error: no access to /var/run means we are
// not root, the usual cause.
func fileErr(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return codef(CodeNoPermission, "%v (need root or CAP_NET_ADMIN)", err)
	}
	return codeErr(CodeFailed, err)
}
