package budget

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sectwin/sectwin/edge/dp"
)

const eps1 = dp.Epsilon(dp.MicroPerEpsilon)

// clock returns a deterministic, advancing time source.
func clock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func openT(t *testing.T, path string) *Ledger {
	t.Helper()
	l, err := Open(context.Background(), path, Options{Now: clock()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func newLedger(t *testing.T) (*Ledger, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "budget.jsonl")
	return openT(t, path), path
}

func policy(g dp.Guarantee, capEps dp.Epsilon) Policy {
	return Policy{Stream: "netflow", Unit: "src_ip", Guarantee: g, Cap: capEps}
}

func request(window int64, e dp.Epsilon) Request {
	return Request{
		Stream: "netflow", Unit: "src_ip",
		Window:    Window{Index: window, Start: time.Unix(window*60, 0).UTC(), End: time.Unix(window*60+60, 0).UTC()},
		Mechanism: dp.MechanismDiscreteLaplace, Epsilon: e, L0: 1, LInf: 1_000_000, Bounds: []int64{0, 1_000_000},
		PartitionSetHash: strings.Repeat("a", 64), ConfigHash: strings.Repeat("b", 64), KeyID: "k2026q1",
	}
}

func TestReserveCommitReopen(t *testing.T) {
	ctx := context.Background()
	l, path := newLedger(t)
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.UnitLevel}, 5*eps1)); err != nil {
		t.Fatal(err)
	}
	tk, err := l.Reserve(ctx, request(1, 2*eps1))
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.Commit(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindCommit || c.Reservation != tk.Seq || c.Window.Index != 1 {
		t.Errorf("commit entry = %+v", c)
	}
	if _, err := l.Commit(ctx, tk); !errors.Is(err, ErrUnknownReservation) {
		t.Errorf("second Commit = %v, want ErrUnknownReservation", err)
	}
	want := l.Summary()
	if err := l.Verify(ctx); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(ctx, request(1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Reserve after Close = %v", err)
	}

	l2 := openT(t, path)
	got := l2.Summary()
	if got.Entries != 3 || got.Head != want.Head || len(got.Budgets) != 1 {
		t.Fatalf("reopened summary = %+v, want %+v", got, want)
	}
	b := got.Budgets[0]
	if b.Spent != 2*eps1 || b.Remaining != 3*eps1 || b.Reservations != 1 || b.Committed != 1 || b.Uncommitted != 0 || b.DeltaSpent != "0" {
		t.Errorf("budget = %+v", b)
	}
	entries := l2.Entries()
	r := entries[1]
	if r.Kind != KindReserve || r.EpsilonMicro != 2_000_000 || r.Delta != "0" || r.L0 != 1 || r.LInf != 1_000_000 ||
		r.KeyID != "k2026q1" || r.Mechanism != "dlap-cks20" || r.Window.Start.Unix() != 60 || r.PrevHash != entries[0].Hash {
		t.Errorf("reservation entry = %+v", r)
	}
	fs, _, err := Verify(ctx, path)
	if err != nil || fs.Head != want.Head {
		t.Errorf("Verify(path) = %+v, %v", fs, err)
	}
}

type step struct {
	window int64
	eps    dp.Epsilon
	ok     bool
}

// TestWindowRules checks which windows share a cap under each guarantee.
func TestWindowRules(t *testing.T) {
	tests := []struct {
		name  string
		g     dp.Guarantee
		cap   dp.Epsilon
		steps []step
	}{
		{"unit-level never resets", dp.Guarantee{Kind: dp.UnitLevel}, 3 * eps1, []step{
			{0, 2 * eps1, true}, {1, eps1, true}, {50, 1, false}, {-50, 1, false},
		}},
		{"event-level resets every window", dp.Guarantee{Kind: dp.EventLevel}, 3 * eps1, []step{
			{0, 2 * eps1, true}, {0, 2 * eps1, false}, {1, 3 * eps1, true}, {0, eps1, true}, {0, 1, false}, {2, 3*eps1 + 1, false},
		}},
		{"w-event shares the cap over w windows", dp.Guarantee{Kind: dp.WEvent, W: 3}, 3 * eps1, []step{
			{0, eps1, true}, {1, eps1, true}, {2, eps1, true},
			{2, 1, false},        // run [0,2] is full
			{3, eps1, true},      // run [1,3]
			{4, eps1, true},      // run [2,4]
			{1, 1, false},        // late: run [1,3] is full
			{5, 2 * eps1, false}, // run [3,5] has 2 already
			{5, eps1, true},
			{7, 2 * eps1, true}, // run [5,7]: 1 + 2
			{6, 1, false},       // runs [4,6] 2+…, [5,7] full
		}},
		{"w-event with w=1 is event-level", dp.Guarantee{Kind: dp.WEvent, W: 1}, eps1, []step{
			{0, eps1, true}, {0, 1, false}, {1, eps1, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLedger(t)
			ctx := context.Background()
			if err := l.Declare(ctx, policy(tt.g, tt.cap)); err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				_, err := l.Reserve(ctx, request(s.window, s.eps))
				if s.ok && err != nil {
					t.Fatalf("step %d (window %d, ε %s): %v", i, s.window, s.eps, err)
				}
				if !s.ok && !errors.Is(err, ErrBudgetExhausted) {
					t.Fatalf("step %d (window %d, ε %s): err = %v, want ErrBudgetExhausted", i, s.window, s.eps, err)
				}
			}
		})
	}
}

func TestRefusedReserveWritesNothing(t *testing.T) {
	ctx := context.Background()
	l, path := newLedger(t)
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.UnitLevel}, eps1)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(ctx, request(0, 600_000)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	n := len(l.Entries())
	_, err := l.Reserve(ctx, request(0, 500_000))
	var ex *ExhaustedError
	if !errors.As(err, &ex) || !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("Reserve = %v, want *ExhaustedError", err)
	}
	if ex.Cap != eps1 || ex.Spent != 600_000 || ex.Requested != 500_000 || ex.Stream != "netflow" {
		t.Errorf("ExhaustedError = %+v", ex)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) || len(l.Entries()) != n {
		t.Error("a refused reservation changed the ledger")
	}
	// Nothing consumed: the remaining 0.4 is still available.
	if _, err := l.Reserve(ctx, request(0, 400_000)); err != nil {
		t.Errorf("Reserve of the remainder: %v", err)
	}
}

func TestDeltaBudget(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	p := policy(dp.Guarantee{Kind: dp.UnitLevel}, 10*eps1)
	p.DeltaCap = "0.000001"
	if err := l.Declare(ctx, p); err != nil {
		t.Fatal(err)
	}
	r := request(0, eps1)
	r.Delta = "1/2000000"
	for i, wantOK := range []bool{true, true, false} {
		_, err := l.Reserve(ctx, r)
		if wantOK != (err == nil) {
			t.Fatalf("reservation %d: %v", i, err)
		}
		var ex *ExhaustedError
		if !wantOK && (!errors.As(err, &ex) || ex.DeltaCap != "1/1000000" || ex.DeltaSpent != "1/1000000") {
			t.Errorf("ExhaustedError = %+v", ex)
		}
	}
	// A pure-DP budget (δ cap 0) refuses any δ > 0.
	q := policy(dp.Guarantee{Kind: dp.UnitLevel}, eps1)
	q.Stream = "other"
	if err := l.Declare(ctx, q); err != nil {
		t.Fatal(err)
	}
	r.Stream = "other"
	if _, err := l.Reserve(ctx, r); !errors.Is(err, ErrBudgetExhausted) {
		t.Errorf("δ > 0 under a pure budget: %v", err)
	}
	rem, err := l.Remaining("netflow", "src_ip", 0)
	if err != nil || rem.Epsilon != 8*eps1 || rem.Delta != "0" {
		t.Errorf("Remaining = %+v, %v", rem, err)
	}
}

func TestPolicyRules(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	unit := dp.Guarantee{Kind: dp.UnitLevel}
	event := dp.Guarantee{Kind: dp.EventLevel}

	if _, err := l.Reserve(ctx, request(0, 1)); !errors.Is(err, ErrNoPolicy) {
		t.Errorf("Reserve without policy = %v", err)
	}
	// Before any reservation the guarantee may still change.
	for _, p := range []Policy{policy(event, eps1), policy(unit, eps1), policy(unit, eps1)} {
		if err := l.Declare(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(l.Entries()); n != 2 {
		t.Errorf("%d entries after declaring twice the same policy, want 2", n)
	}
	if _, err := l.Reserve(ctx, request(0, eps1)); err != nil {
		t.Fatal(err)
	}
	if err := l.Declare(ctx, policy(event, eps1)); !errors.Is(err, ErrPolicyConflict) {
		t.Errorf("switching to event-level after a reservation = %v, want ErrPolicyConflict", err)
	}
	// Raising the cap is an explicit, chained decision.
	if err := l.Declare(ctx, policy(unit, 2*eps1)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(ctx, request(0, eps1)); err != nil {
		t.Errorf("after raising the cap: %v", err)
	}

	invalid := []Policy{
		{Unit: "u", Guarantee: unit, Cap: 1},
		{Stream: "s", Guarantee: unit, Cap: 1},
		{Stream: "s", Unit: "u", Cap: 1},
		{Stream: "s", Unit: "u", Guarantee: unit},
		{Stream: "s", Unit: "u", Guarantee: unit, Cap: MaxCap + 1},
		{Stream: "s", Unit: "u", Guarantee: dp.Guarantee{Kind: dp.WEvent}, Cap: 1},
		{Stream: "s", Unit: "u", Guarantee: unit, Cap: 1, DeltaCap: "1"},
		{Stream: "s", Unit: "u", Guarantee: unit, Cap: 1, DeltaCap: "-1/2"},
		{Stream: "s", Unit: "u", Guarantee: unit, Cap: 1, DeltaCap: "1e-999999999"},
	}
	for _, p := range invalid {
		if err := l.Declare(ctx, p); !errors.Is(err, ErrInvalid) {
			t.Errorf("Declare(%+v) = %v, want ErrInvalid", p, err)
		}
	}
}

func TestInvalidRequests(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.UnitLevel}, eps1)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*Request)
	}{
		{"zero epsilon", func(r *Request) { r.Epsilon = 0 }},
		{"negative epsilon", func(r *Request) { r.Epsilon = -1 }},
		{"no mechanism", func(r *Request) { r.Mechanism = "" }},
		{"zero L0", func(r *Request) { r.L0 = 0 }},
		{"zero L∞", func(r *Request) { r.LInf = 0 }},
		{"reversed bounds", func(r *Request) { r.Bounds = []int64{5, 1} }},
		{"one bound", func(r *Request) { r.Bounds = []int64{5} }},
		{"delta of one", func(r *Request) { r.Delta = "1" }},
		{"delta not rational", func(r *Request) { r.Delta = "tiny" }},
	}
	for _, tt := range tests {
		r := request(0, 1)
		tt.mod(&r)
		if _, err := l.Reserve(ctx, r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Reserve = %v, want ErrInvalid", tt.name, err)
		}
	}
	if n := len(l.Entries()); n != 1 {
		t.Errorf("invalid requests wrote entries: %d", n)
	}
}

func TestCommitErrors(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.UnitLevel}, eps1)); err != nil {
		t.Fatal(err)
	}
	tk, err := l.Reserve(ctx, request(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]Ticket{
		"zero":          {},
		"wrong seq":     {Seq: 1, Hash: tk.Hash, Stream: tk.Stream, Unit: tk.Unit},
		"wrong hash":    {Seq: tk.Seq, Hash: strings.Repeat("0", 64), Stream: tk.Stream, Unit: tk.Unit},
		"wrong stream":  {Seq: tk.Seq, Hash: tk.Hash, Stream: "x", Unit: tk.Unit},
		"out of range":  {Seq: 99, Hash: tk.Hash, Stream: tk.Stream, Unit: tk.Unit},
		"policy ticket": {Seq: 1, Hash: l.Entries()[0].Hash, Stream: tk.Stream, Unit: tk.Unit},
	} {
		if _, err := l.Commit(ctx, bad); !errors.Is(err, ErrUnknownReservation) {
			t.Errorf("%s: Commit = %v, want ErrUnknownReservation", name, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Commit(cctx, tk); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit with a cancelled context = %v", err)
	}
	if _, err := l.Commit(ctx, tk); err != nil {
		t.Errorf("Commit: %v", err)
	}
}

func TestLocked(t *testing.T) {
	l, path := newLedger(t)
	if _, err := Open(context.Background(), path, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
	openT(t, path) // the lock is free again
}

func TestConcurrentReservesNeverOverspend(t *testing.T) {
	ctx := context.Background()
	l, path := newLedger(t)
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.UnitLevel}, 20*eps1)); err != nil {
		t.Fatal(err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted int
	)
	for g := range 8 {
		wg.Go(func() {
			for i := range 5 {
				tk, err := l.Reserve(ctx, request(int64(g*10+i), eps1))
				if errors.Is(err, ErrBudgetExhausted) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				granted++
				mu.Unlock()
				if _, err := l.Commit(ctx, tk); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if granted != 20 {
		t.Errorf("granted %d reservations of ε=1 under a cap of 20", granted)
	}
	if s, _, err := Verify(ctx, path); err != nil || s.Budgets[0].Spent != 20*eps1 || s.Budgets[0].Uncommitted != 0 {
		t.Errorf("Verify = %+v, %v", s, err)
	}
}

func TestFailsClosedAfterWriteError(t *testing.T) {
	ctx := context.Background()
	l, path := newLedger(t)
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.UnitLevel}, eps1)); err != nil {
		t.Fatal(err)
	}
	_ = l.f.Close() // the disk goes away underneath
	if _, err := l.Reserve(ctx, request(0, 1)); !errors.Is(err, ErrFailed) {
		t.Fatalf("Reserve on a broken file = %v, want ErrFailed", err)
	}
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.UnitLevel}, 2*eps1)); !errors.Is(err, ErrFailed) {
		t.Errorf("Declare after a failure = %v, want ErrFailed", err)
	}
	l.f = nil // already closed
	if s := openT(t, path).Summary(); s.Entries != 1 {
		t.Errorf("reopened: %d entries, want 1", s.Entries)
	}
}

func TestLifetimeAcrossResets(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.EventLevel}, eps1)); err != nil {
		t.Fatal(err)
	}
	const windows = 12
	for w := range int64(windows) {
		if _, err := l.Reserve(ctx, request(w, eps1)); err != nil {
			t.Fatal(err)
		}
	}
	b := l.Summary().Budgets[0]
	if b.Lifetime != windows*eps1 || b.Spent != eps1 || b.Remaining != 0 || b.Windows != windows || b.Window != windows-1 || b.Uncommitted != windows {
		t.Errorf("budget = %+v", b)
	}
}
