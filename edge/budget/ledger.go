package budget

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/sectwin/sectwin/edge/dp"
)

var (
	// ErrLocked reports a ledger file owned by another open Ledger.
	ErrLocked = errors.New("budget: ledger is locked by another owner")
	// ErrClosed reports use of a closed Ledger.
	ErrClosed = errors.New("budget: ledger closed")
	// ErrFailed reports a Ledger that refuses everything after a failed
	// write or fsync; reopen it to recover from the file.
	ErrFailed = errors.New("budget: ledger failed")
)

// Options configures [Open].
type Options struct {
	// Now returns the time recorded in entries; nil means time.Now.
	Now func() time.Time
}

// Ticket identifies a reservation for [Ledger.Commit].
type Ticket struct {
	Seq    uint64
	Hash   string
	Stream string
	Unit   string
}

// Ledger is an open, locked ledger file. It is safe for concurrent use.
type Ledger struct {
	path string
	now  func() time.Time

	mu       sync.Mutex
	f        *os.File
	size     int64
	st       *state
	warnings []string
	failed   error
}

// Open opens the ledger at path, creating it if needed, takes its lock,
// and reloads and verifies it. A torn final line is dropped with a warning
// (see the package doc); any other damage fails with a *CorruptError.
func Open(ctx context.Context, path string, opts Options) (*Ledger, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, created, err := openFile(path)
	if err != nil {
		return nil, fmt.Errorf("budget: open %s: %w", path, err)
	}
	l, err := load(ctx, path, f, created, opts)
	if err != nil {
		_ = unlockFile(f)
		_ = f.Close()
		return nil, fmt.Errorf("budget: open %s: %w", path, err)
	}
	return l, nil
}

func openFile(path string) (f *os.File, created bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, true, nil
		}
		if errors.Is(err, fs.ErrExist) { // created by someone else meanwhile
			f, err = os.OpenFile(path, os.O_RDWR, 0)
		}
	}
	return f, false, err
}

func load(ctx context.Context, path string, f *os.File, created bool, opts Options) (*Ledger, error) {
	if err := lockFile(f); err != nil {
		return nil, err
	}
	if created {
		if err := f.Sync(); err != nil {
			return nil, err
		}
		if err := syncDir(filepath.Dir(path)); err != nil {
			return nil, err
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	st, good, torn, err := replay(data)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	l := &Ledger{path: path, now: now, f: f, size: good, st: st}
	if torn != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := f.Truncate(good); err != nil {
			return nil, err
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
		note := fmt.Sprintf("dropped a torn final line left by an interrupted append (%d bytes, sha256 %x)", len(torn), sha256.Sum256(torn))
		l.warnings = append(l.warnings, note)
		if err := l.append(&Entry{Kind: KindRecover, Note: note}); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close releases the lock and closes the file. Further calls fail with
// [ErrClosed].
func (l *Ledger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	err := unlockFile(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// usable reports why l cannot be used, if it cannot. l.mu is held.
func (l *Ledger) usable(ctx context.Context) error {
	switch {
	case l.f == nil:
		return ErrClosed
	case l.failed != nil:
		return l.failed
	}
	return ctx.Err()
}

// append chains e, writes it and fsyncs. It fails closed: after a write or
// sync error l refuses everything. l.mu is held (or l is not yet shared).
func (l *Ledger) append(e *Entry) error {
	e.Seq = uint64(len(l.st.entries)) + 1
	e.PrevHash = l.st.head
	e.Time = l.now().UTC()
	e.Hash = e.computeHash()
	if err := l.st.check(e); err != nil {
		return err
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("budget: encode entry: %w", err)
	}
	line = append(line, '\n')
	if _, err := l.f.WriteAt(line, l.size); err != nil {
		l.failed = fmt.Errorf("%w: write: %w", ErrFailed, err)
		return l.failed
	}
	if err := l.f.Sync(); err != nil {
		l.failed = fmt.Errorf("%w: fsync: %w", ErrFailed, err)
		return l.failed
	}
	l.size += int64(len(line))
	if err := l.st.apply(*e); err != nil { // checked above; unreachable
		l.failed = fmt.Errorf("%w: %w", ErrFailed, err)
		return l.failed
	}
	return nil
}

// Declare records p as the budget of (p.Stream, p.Unit). Declaring the
// policy in force again writes nothing. A different cap is recorded as a
// new policy entry; a different guarantee is refused with
// [ErrPolicyConflict] once the budget has reservations.
func (l *Ledger) Declare(ctx context.Context, p Policy) error {
	p, _, err := p.normalize()
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(ctx); err != nil {
		return err
	}
	if a := l.st.accounts[key{p.Stream, p.Unit}]; a != nil && a.policy == p {
		return nil
	}
	return l.append(&Entry{
		Kind: KindPolicy, Stream: p.Stream, Unit: p.Unit,
		Guarantee: p.Guarantee, CapMicro: int64(p.Cap), DeltaCap: p.DeltaCap,
	})
}

// Reserve durably reserves the privacy loss of one release. It returns
// only after the reservation is written and fsynced; the caller may then
// release and should [Ledger.Commit]. If the reservation would exceed the
// budget it fails with an *ExhaustedError (errors.Is ErrBudgetExhausted),
// writes nothing and consumes nothing: the caller must suppress the release.
func (l *Ledger) Reserve(ctx context.Context, r Request) (Ticket, error) {
	_, canonical, err := parseDelta(r.Delta)
	if err != nil {
		return Ticket{}, invalidf("reservation for %s/%s: %v", r.Stream, r.Unit, err)
	}
	w := r.Window
	e := &Entry{
		Kind: KindReserve, Stream: r.Stream, Unit: r.Unit, Window: &w,
		Mechanism: r.Mechanism, EpsilonMicro: int64(r.Epsilon), Delta: canonical,
		L0: r.L0, LInf: r.LInf, Bounds: slices.Clone(r.Bounds),
		PartitionSetHash: r.PartitionSetHash, ConfigHash: r.ConfigHash, KeyID: r.KeyID,
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(ctx); err != nil {
		return Ticket{}, err
	}
	if err := l.append(e); err != nil {
		return Ticket{}, err
	}
	return Ticket{Seq: e.Seq, Hash: e.Hash, Stream: e.Stream, Unit: e.Unit}, nil
}

// Commit records that the release of t went out. The budget was already
// spent by the reservation; committing changes no spend.
func (l *Ledger) Commit(ctx context.Context, t Ticket) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(ctx); err != nil {
		return Entry{}, err
	}
	a := l.st.accounts[key{t.Stream, t.Unit}]
	if a == nil || a.pending[t.Seq] != t.Hash || t.Hash == "" {
		return Entry{}, fmt.Errorf("%w: seq %d of %s/%s", ErrUnknownReservation, t.Seq, t.Stream, t.Unit)
	}
	w := *l.st.entries[t.Seq-1].Window
	e := &Entry{Kind: KindCommit, Stream: t.Stream, Unit: t.Unit, Window: &w, Reservation: t.Seq}
	if err := l.append(e); err != nil {
		return Entry{}, err
	}
	return e.clone(), nil
}

// Remaining returns the ε a reservation for (stream, unit) in window could
// still spend.
func (l *Ledger) Remaining(stream, unit string, window int64) (Remaining, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.st.accounts[key{stream, unit}]
	if a == nil {
		return Remaining{}, fmt.Errorf("%w for %s/%s", ErrNoPolicy, stream, unit)
	}
	eps, delta := a.runSpend(window)
	return Remaining{
		Epsilon: max(a.policy.Cap-dp.Epsilon(eps), 0),
		Delta:   remainingDelta(a.deltaCap, delta),
	}, nil
}

// Entries returns a copy of every entry, oldest first.
func (l *Ledger) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Entry, len(l.st.entries))
	for i, e := range l.st.entries {
		out[i] = e.clone()
	}
	return out
}

// Summary reports every budget's spend and the chain head.
func (l *Ledger) Summary() Summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st.summary(l.path, l.warnings)
}

// Verify re-reads the file and checks that it still verifies and matches
// what this Ledger wrote, detecting changes made behind its back.
func (l *Ledger) Verify(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(ctx); err != nil {
		return err
	}
	fi, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("budget: verify %s: %w", l.path, err)
	}
	data := make([]byte, fi.Size())
	if _, err := l.f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("budget: verify %s: %w", l.path, err)
	}
	st, good, torn, err := replay(data)
	switch {
	case err != nil:
		return fmt.Errorf("budget: verify %s: %w", l.path, err)
	case torn != nil || good != l.size:
		return fmt.Errorf("budget: verify %s: %w", l.path, &CorruptError{Line: len(st.entries) + 1, Reason: fmt.Sprintf("file is %d bytes, the ledger wrote %d", len(data), l.size)})
	case st.head != l.st.head:
		return fmt.Errorf("budget: verify %s: %w", l.path, &CorruptError{Line: len(st.entries), Reason: "chain head differs from the one this ledger wrote"})
	}
	return nil
}

// Verify reads and verifies the ledger at path without taking its lock, for
// inspection tools such as `sectwin edge budget`. It returns the summary and
// entries of the verified prefix; on damage, the error is a *CorruptError
// naming the first broken line. A torn final line (possibly an append in
// progress) is reported in Summary.Warnings, not as an error.
func Verify(ctx context.Context, path string) (Summary, []Entry, error) {
	if err := ctx.Err(); err != nil {
		return Summary{}, nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Summary{}, nil, fmt.Errorf("budget: verify %s: %w", path, err)
	}
	st, _, torn, err := replay(data)
	var warnings []string
	if torn != nil {
		warnings = append(warnings, fmt.Sprintf("torn final line (%d bytes): an interrupted or in-progress append; Open drops it", len(torn)))
	}
	if err != nil {
		err = fmt.Errorf("budget: verify %s: %w", path, err)
	}
	return st.summary(path, warnings), st.entries, err
}
