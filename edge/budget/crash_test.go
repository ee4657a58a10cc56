package budget

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sectwin/sectwin/edge/dp"
)

// crashEnv switches the test binary into the crashing child of
// TestCrashBetweenReserveAndCommit; its value is the ledger path.
const crashEnv = "SECTWIN_BUDGET_CRASH_CHILD"

// crashChild reserves ε = 3 of a cap of 5 and SIGKILLs itself before
// committing, as a collector dying mid-release would.
func crashChild(path string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	l, err := Open(ctx, path, Options{})
	if err != nil {
		fail(err)
	}
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.WEvent, W: 60}, 5*eps1)); err != nil {
		fail(err)
	}
	if _, err := l.Reserve(ctx, request(100, 3*eps1)); err != nil {
		fail(err)
	}
	// The release would happen here. Die before Commit, lock held.
	if err := syscall.Kill(os.Getpid(), syscall.SIGKILL); err != nil {
		fail(err)
	}
	time.Sleep(time.Minute)
	fail(errors.New("still alive after SIGKILL"))
}

func TestCrashBetweenReserveAndCommit(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "budget.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashBetweenReserveAndCommit$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, out)
	}

	// The parent takes over: the kernel released the dead child's lock.
	s, entries, err := Verify(ctx, path)
	if err != nil || len(s.Warnings) != 0 {
		t.Fatalf("Verify = %+v, %v", s, err)
	}
	if len(entries) != 2 || entries[1].Kind != KindReserve {
		t.Fatalf("entries = %+v, want policy and reservation", entries)
	}
	l := openT(t, path)
	b := l.Summary().Budgets[0]
	if b.Spent != 3*eps1 || b.Uncommitted != 1 || b.Committed != 0 || b.Remaining != 2*eps1 {
		t.Fatalf("after the crash: %+v; the orphaned reservation must count as spent", b)
	}
	// A further reservation sees the orphan: 3 + 3 > 5 is refused …
	if _, err := l.Reserve(ctx, request(120, 3*eps1)); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("Reserve(3) after the crash = %v, want ErrBudgetExhausted", err)
	}
	// … 3 + 2 fits, and then nothing is left in the run.
	if _, err := l.Reserve(ctx, request(120, 2*eps1)); err != nil {
		t.Fatalf("Reserve(2) after the crash: %v", err)
	}
	if _, err := l.Reserve(ctx, request(159, 1)); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("Reserve in the same 60-window run = %v, want ErrBudgetExhausted", err)
	}
	// Window 160 no longer shares a run with window 100: 2 (window 120) + 3.
	if _, err := l.Reserve(ctx, request(160, 3*eps1)); err != nil {
		t.Fatalf("Reserve in a later run: %v", err)
	}
	if err := l.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}
