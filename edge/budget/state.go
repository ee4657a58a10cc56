package budget

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/sectwin/sectwin/edge/dp"
)

var (
	// ErrBudgetExhausted reports a reservation that would exceed its
	// budget. The concrete error is an *ExhaustedError. Nothing was written
	// and nothing was consumed.
	ErrBudgetExhausted = errors.New("budget: exhausted")
	// ErrNoPolicy reports a reservation for a (stream, unit) without a
	// declared policy.
	ErrNoPolicy = errors.New("budget: no policy declared")
	// ErrPolicyConflict reports an attempt to change the guarantee of a
	// budget that already has reservations.
	ErrPolicyConflict = errors.New("budget: policy conflicts with the ledger")
	// ErrUnknownReservation reports a commit of a ticket that is not an
	// uncommitted reservation of this ledger.
	ErrUnknownReservation = errors.New("budget: unknown or already committed reservation")
	// ErrInvalid reports a malformed policy or request.
	ErrInvalid = errors.New("budget: invalid")
)

// MaxCap bounds the ε cap of a policy.
const MaxCap dp.Epsilon = 1_000_000 * dp.MicroPerEpsilon

// Policy is the budget of one (stream, privacy unit).
type Policy struct {
	Stream string
	// Unit is the privacy-unit definition, such as "src_ip".
	Unit string
	// Guarantee decides which windows share Cap; see the package doc.
	Guarantee dp.Guarantee
	// Cap is the total ε the guarantee allows.
	Cap dp.Epsilon
	// DeltaCap is the total δ as a fraction or decimal; "" means 0, so
	// only pure ε-DP mechanisms fit.
	DeltaCap string
}

// Request describes one release to reserve budget for.
type Request struct {
	Stream string
	Unit   string
	Window Window
	// Mechanism names the noise mechanism, such as "dlap-cks20".
	Mechanism string
	Epsilon   dp.Epsilon
	// Delta is δ as a fraction or decimal; "" means 0.
	Delta string
	// L0 and LInf are the contribution caps; Bounds is [lower, upper] or
	// empty.
	L0, LInf         int64
	Bounds           []int64
	PartitionSetHash string
	ConfigHash       string
	// KeyID is the pseudonymization key id/epoch of the privacy units.
	KeyID string
}

// RequestFor builds the Request for a release stated by st.
func RequestFor(stream, unit string, w Window, st dp.Statement, keyID string) Request {
	return Request{
		Stream:           stream,
		Unit:             unit,
		Window:           w,
		Mechanism:        st.Mechanism,
		Epsilon:          st.Epsilon,
		Delta:            st.Delta,
		L0:               st.L0,
		LInf:             st.LInf,
		Bounds:           slices.Clone(st.Bounds),
		PartitionSetHash: st.PartitionSetHash,
		ConfigHash:       st.ConfigHash,
		KeyID:            keyID,
	}
}

// ExhaustedError is the error of a refused reservation.
type ExhaustedError struct {
	Stream, Unit string
	Guarantee    dp.Guarantee
	Window       int64
	// Cap, Spent and Requested are in ε; Spent is the largest spend among
	// the windows the reservation would share its cap with.
	Cap, Spent, Requested dp.Epsilon
	// DeltaCap, DeltaSpent and DeltaRequested are set when δ is the
	// exhausted resource.
	DeltaCap, DeltaSpent, DeltaRequested string
}

// Error implements error.
func (e *ExhaustedError) Error() string {
	if e.DeltaCap != "" {
		return fmt.Sprintf("budget: exhausted: %s/%s window %d (%s): delta spent %s + requested %s exceeds cap %s",
			e.Stream, e.Unit, e.Window, e.Guarantee, e.DeltaSpent, e.DeltaRequested, e.DeltaCap)
	}
	return fmt.Sprintf("budget: exhausted: %s/%s window %d (%s): epsilon spent %s + requested %s exceeds cap %s",
		e.Stream, e.Unit, e.Window, e.Guarantee, e.Spent, e.Requested, e.Cap)
}

// Unwrap makes errors.Is(err, ErrBudgetExhausted) true.
func (e *ExhaustedError) Unwrap() error { return ErrBudgetExhausted }

type key struct{ stream, unit string }

type spend struct {
	eps   int64 // micro-ε, saturating
	delta big.Rat
}

// account is the replayed state of one budget.
type account struct {
	policy   Policy
	deltaCap *big.Rat
	windows  map[int64]*spend
	keys     []int64 // sorted window indexes of windows
	lifetime spend
	latest   int64

	reservations, committed int
	pending                 map[uint64]string // uncommitted reservation seq → hash
}

// state is the verified content of a ledger.
type state struct {
	entries  []Entry
	head     string
	accounts map[key]*account
	order    []key
}

func newState() *state {
	return &state{head: genesis, accounts: make(map[key]*account)}
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// normalize validates p and returns it with DeltaCap canonical.
func (p Policy) normalize() (Policy, *big.Rat, error) {
	if p.Stream == "" || p.Unit == "" {
		return p, nil, invalidf("policy needs a stream and a unit (got %q, %q)", p.Stream, p.Unit)
	}
	if err := p.Guarantee.Validate(); err != nil {
		return p, nil, fmt.Errorf("%w: policy %s/%s: %w", ErrInvalid, p.Stream, p.Unit, err)
	}
	if p.Cap <= 0 || p.Cap > MaxCap {
		return p, nil, invalidf("policy %s/%s: cap must be in (0, %s] (got %s)", p.Stream, p.Unit, MaxCap, p.Cap)
	}
	dc, canonical, err := parseDelta(p.DeltaCap)
	if err != nil {
		return p, nil, invalidf("policy %s/%s: %v", p.Stream, p.Unit, err)
	}
	p.DeltaCap = canonical
	return p, dc, nil
}

// check validates e against the state without changing it. Errors are
// the typed errors of this package; replay turns them into corruption.
func (s *state) check(e *Entry) error {
	switch e.Kind {
	case KindPolicy:
		p, _, err := Policy{Stream: e.Stream, Unit: e.Unit, Guarantee: e.Guarantee, Cap: dp.Epsilon(e.CapMicro), DeltaCap: e.DeltaCap}.normalize()
		if err != nil {
			return err
		}
		if p.DeltaCap != e.DeltaCap {
			return invalidf("delta cap %q is not canonical (%q)", e.DeltaCap, p.DeltaCap)
		}
		if a := s.accounts[key{e.Stream, e.Unit}]; a != nil && a.reservations > 0 && a.policy.Guarantee != e.Guarantee {
			return fmt.Errorf("%w: %s/%s has reservations under %s; declaring %s would reset its budget",
				ErrPolicyConflict, e.Stream, e.Unit, a.policy.Guarantee, e.Guarantee)
		}
	case KindReserve:
		a := s.accounts[key{e.Stream, e.Unit}]
		if a == nil {
			return fmt.Errorf("%w for %s/%s", ErrNoPolicy, e.Stream, e.Unit)
		}
		switch {
		case e.Window == nil:
			return invalidf("reservation without a window")
		case e.Mechanism == "":
			return invalidf("reservation without a mechanism")
		case e.EpsilonMicro <= 0:
			return invalidf("reservation epsilon must be greater than 0 (got %s)", dp.Epsilon(e.EpsilonMicro))
		case e.L0 < 1 || e.LInf < 1:
			return invalidf("reservation needs L0 ≥ 1 and L∞ ≥ 1 (got %d, %d)", e.L0, e.LInf)
		case len(e.Bounds) != 0 && (len(e.Bounds) != 2 || e.Bounds[0] > e.Bounds[1]):
			return invalidf("reservation bounds %v are not [lower, upper]", e.Bounds)
		}
		d, canonical, err := parseDelta(e.Delta)
		if err != nil {
			return invalidf("reservation: %v", err)
		}
		if canonical != e.Delta {
			return invalidf("delta %q is not canonical (%q)", e.Delta, canonical)
		}
		return a.fits(e.Window.Index, e.EpsilonMicro, d)
	case KindCommit:
		a := s.accounts[key{e.Stream, e.Unit}]
		if a == nil {
			return fmt.Errorf("%w: seq %d of %s/%s", ErrUnknownReservation, e.Reservation, e.Stream, e.Unit)
		}
		if _, ok := a.pending[e.Reservation]; !ok {
			return fmt.Errorf("%w: seq %d of %s/%s", ErrUnknownReservation, e.Reservation, e.Stream, e.Unit)
		}
	case KindRecover:
		if e.Note == "" {
			return invalidf("recover entry without a note")
		}
	default:
		return invalidf("unknown entry kind %q", e.Kind)
	}
	return nil
}

// apply checks e and adds it to the state.
func (s *state) apply(e Entry) error {
	if err := s.check(&e); err != nil {
		return err
	}
	k := key{e.Stream, e.Unit}
	switch e.Kind {
	case KindPolicy:
		p, dc, _ := Policy{Stream: e.Stream, Unit: e.Unit, Guarantee: e.Guarantee, Cap: dp.Epsilon(e.CapMicro), DeltaCap: e.DeltaCap}.normalize()
		a := s.accounts[k]
		if a == nil {
			a = &account{windows: make(map[int64]*spend), pending: make(map[uint64]string)}
			s.accounts[k] = a
			s.order = append(s.order, k)
		}
		a.policy, a.deltaCap = p, dc
	case KindReserve:
		a := s.accounts[k]
		d, _, _ := parseDelta(e.Delta)
		i := e.Window.Index
		w := a.windows[i]
		if w == nil {
			w = &spend{}
			a.windows[i] = w
			pos, _ := slices.BinarySearch(a.keys, i)
			a.keys = slices.Insert(a.keys, pos, i)
		}
		w.eps = addSat(w.eps, e.EpsilonMicro)
		w.delta.Add(&w.delta, d)
		a.lifetime.eps = addSat(a.lifetime.eps, e.EpsilonMicro)
		a.lifetime.delta.Add(&a.lifetime.delta, d)
		if a.reservations == 0 || i > a.latest {
			a.latest = i
		}
		a.reservations++
		a.pending[e.Seq] = e.Hash
	case KindCommit:
		a := s.accounts[k]
		delete(a.pending, e.Reservation)
		a.committed++
	}
	s.entries = append(s.entries, e)
	s.head = e.Hash
	return nil
}

// runSpend returns the largest ε and δ spent in any run of windows that
// shares its cap with window i. For unit-level budgets that is everything.
func (a *account) runSpend(i int64) (int64, *big.Rat) {
	g := a.policy.Guarantee
	if !g.Resets() {
		return a.lifetime.eps, new(big.Rat).Set(&a.lifetime.delta)
	}
	w := int64(1)
	if g.Kind == dp.WEvent {
		w = g.W
	}
	// Runs [j−w+1, j] for j in [i, i+w−1] contain i. The spend of a run
	// only grows when j reaches a window with spend, so it is enough to
	// try j = i and every such window in (i, i+w−1].
	lo, hi := satSub(i, w-1), satAdd(i, w-1)
	from, _ := slices.BinarySearch(a.keys, lo)
	to, found := slices.BinarySearch(a.keys, hi)
	if found {
		to++
	}
	keys := a.keys[from:to]
	// Prefix sums over the windows in range. Every run of w windows stays
	// within a cap (≤ MaxCap), so 2w−1 windows cannot overflow int64.
	pe := make([]int64, len(keys)+1)
	pd := make([]big.Rat, len(keys)+1)
	for n, k := range keys {
		s := a.windows[k]
		pe[n+1] = addSat(pe[n], s.eps)
		pd[n+1].Add(&pd[n], &s.delta)
	}
	var maxEps int64
	maxDelta := new(big.Rat)
	for _, j := range append([]int64{i}, keys...) {
		if j < i {
			continue
		}
		l, _ := slices.BinarySearch(keys, satSub(j, w-1))
		r, found := slices.BinarySearch(keys, j)
		if found {
			r++
		}
		maxEps = max(maxEps, pe[r]-pe[l])
		if d := new(big.Rat).Sub(&pd[r], &pd[l]); d.Cmp(maxDelta) > 0 {
			maxDelta = d
		}
	}
	return maxEps, maxDelta
}

func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satSub(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

// fits reports whether eps and delta fit the budget in window i.
func (a *account) fits(i, eps int64, delta *big.Rat) error {
	spentEps, spentDelta := a.runSpend(i)
	p := a.policy
	e := &ExhaustedError{
		Stream: p.Stream, Unit: p.Unit, Guarantee: p.Guarantee, Window: i,
		Cap: p.Cap, Spent: dp.Epsilon(spentEps), Requested: dp.Epsilon(eps),
	}
	if addSat(spentEps, eps) > int64(p.Cap) {
		return e
	}
	if total := new(big.Rat).Add(spentDelta, delta); total.Cmp(a.deltaCap) > 0 {
		e.DeltaCap, e.DeltaSpent, e.DeltaRequested = a.deltaCap.RatString(), spentDelta.RatString(), delta.RatString()
		return e
	}
	return nil
}
