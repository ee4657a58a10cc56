//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package budget

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// lockFile fails: without flock the ledger cannot guarantee a single
// owner, so it refuses to open.
func lockFile(*os.File) error {
	return fmt.Errorf("budget: no flock on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func unlockFile(*os.File) error { return nil }
