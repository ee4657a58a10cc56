package budget_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sectwin/sectwin/edge/budget"
	"github.com/sectwin/sectwin/edge/dp"
)

// Example shows one aggregate window end to end: declare the budget,
// bound and aggregate, reserve (durably), release, commit.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "budget-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	ledger, err := budget.Open(ctx, filepath.Join(dir, "budget.jsonl"), budget.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ledger.Close()
	g := dp.Guarantee{Kind: dp.WEvent, W: 60}
	if err := ledger.Declare(ctx, budget.Policy{Stream: "netflow", Unit: "src_ip", Guarantee: g, Cap: 8 * dp.MicroPerEpsilon}); err != nil {
		fmt.Println(err)
		return
	}

	parts, _ := dp.CrossPartitions([]string{"site1", "site2"}, []string{"443", "53"})
	spec := dp.WindowSpec{
		Metric:     dp.MetricConfig{Name: "bytes", Algo: dp.AlgoSum, Epsilon: 5 * dp.MicroPerEpsilon, Bounds: []int64{0, 1_000_000}},
		Partitions: parts,
		Guarantee:  g,
	}
	for window := range int64(2) {
		w, err := dp.NewWindow(spec, nil) // nil: crypto/rand
		if err != nil {
			fmt.Println(err)
			return
		}
		_ = w.Add("k2026q1:AbC", "site1|443", 1200)
		_ = w.Add("k2026q1:XyZ", "site2|53", 80)

		req := budget.RequestFor("netflow", "src_ip", budget.Window{Index: window}, w.Statement(), "k2026q1")
		ticket, err := ledger.Reserve(ctx, req)
		if errors.Is(err, budget.ErrBudgetExhausted) {
			fmt.Printf("window %d: suppressed{reason=budget_exhausted}\n", window)
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		rel, err := w.Release()
		if err != nil {
			fmt.Println(err) // the reservation stays spent
			return
		}
		if _, err := ledger.Commit(ctx, ticket); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("window %d: %d partitions released with ε=%s (%s, %s)\n",
			window, len(rel.Partitions), rel.Statement.Epsilon, rel.Statement.Mechanism, rel.Statement.Guarantee)
	}
	b := ledger.Summary().Budgets[0]
	fmt.Printf("spent %s of %s\n", b.Spent, b.Policy.Cap)
	// Output:
	// window 0: 4 partitions released with ε=5 (dlap-cks20, w_event(60))
	// window 1: suppressed{reason=budget_exhausted}
	// spent 5 of 8
}
