//go:build unix

package telemetry

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) the test process has used, GC included: on a
// loaded machine a benchmark's wall time per op also counts the time it waited for a core.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
