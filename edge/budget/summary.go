package budget

import (
	"math/big"
	"slices"

	"github.com/sectwin/sectwin/edge/dp"
)

// Summary is what a ledger says about itself: the chain and every budget.
type Summary struct {
	Path string
	// Entries is the number of verified entries; Head is the hash of the
	// last one (64 zeros for an empty ledger), the value to anchor
	// externally.
	Entries int
	Head    string
	// Warnings lists recoveries, such as a dropped torn final line.
	Warnings []string
	// Budgets are in declaration order.
	Budgets []Budget
}

// Budget is the state of one (stream, unit) budget.
type Budget struct {
	Policy Policy
	// Window is the latest window with a reservation.
	Window int64
	// Spent is the ε that binds a reservation in Window: all spend for a
	// unit-level budget, the spend of Window for event-level, the largest
	// spend of a run of W windows containing Window for w-event.
	Spent     dp.Epsilon
	Remaining dp.Epsilon
	// DeltaSpent is the δ counterpart of Spent, as a fraction.
	DeltaSpent string
	// Lifetime is all ε ever reserved: the total loss of a unit present in
	// every window, whatever the resets.
	Lifetime dp.Epsilon
	// Windows is the number of windows with reservations.
	Windows int
	// Reservations counts reservations; Committed counts commits;
	// Uncommitted counts reservations without a commit (in flight, or
	// orphaned by a crash), which are spent all the same.
	Reservations, Committed, Uncommitted int
}

// Remaining is what a reservation could still spend.
type Remaining struct {
	Epsilon dp.Epsilon
	// Delta is a fraction.
	Delta string
}

func remainingDelta(capacity, spent *big.Rat) string {
	r := new(big.Rat).Sub(capacity, spent)
	if r.Sign() < 0 {
		r.SetInt64(0)
	}
	return r.RatString()
}

func (s *state) summary(path string, warnings []string) Summary {
	sum := Summary{
		Path:     path,
		Entries:  len(s.entries),
		Head:     s.head,
		Warnings: slices.Clone(warnings),
	}
	for _, k := range s.order {
		a := s.accounts[k]
		eps, delta := a.runSpend(a.latest)
		sum.Budgets = append(sum.Budgets, Budget{
			Policy:       a.policy,
			Window:       a.latest,
			Spent:        dp.Epsilon(eps),
			Remaining:    max(a.policy.Cap-dp.Epsilon(eps), 0),
			DeltaSpent:   delta.RatString(),
			Lifetime:     dp.Epsilon(a.lifetime.eps),
			Windows:      len(a.keys),
			Reservations: a.reservations,
			Committed:    a.committed,
			Uncommitted:  len(a.pending),
		})
	}
	return sum
}
