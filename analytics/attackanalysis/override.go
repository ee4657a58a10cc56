package attackanalysis

import (
	"context"
	"fmt"
	"time"

	"github.com/sectwin/sectwin/graph"
)

// OverrideStore records analysts' overrides.
type OverrideStore interface {
	SetAttackOverride(ctx context.Context, o graph.AttackOverride) (graph.AttackOverride, error)
	ClearAttackOverride(ctx context.Context, twin string, from, to graph.NodeRef, rule, by string, at time.Time) (bool, error)
}

// Override sets the probability of one existing attack step, records who did it and why, and
// re-derives the twin so that the step carries it.
func (a *Analyzer) Override(ctx context.Context, twin string, step StepRef, p float64, reason, by string) (graph.AttackOverride, error) {
	os, ok := a.st.(OverrideStore)
	if !ok {
		return graph.AttackOverride{}, fmt.Errorf("this store cannot record overrides")
	}
	s, err := a.Snapshot(ctx, twin)
	if err != nil {
		return graph.AttackOverride{}, err
	}
	if _, ok := graph.AttackRuleByID(step.Rule); !ok {
		return graph.AttackOverride{}, fmt.Errorf("%w: no rule %q (see attackRules)", ErrBadSelector, step.Rule)
	}
	if _, err := s.stepRefs(step); err != nil {
		return graph.AttackOverride{}, err
	}
	o, err := os.SetAttackOverride(ctx, graph.AttackOverride{Twin: twin, From: step.From, To: step.To, Rule: step.Rule,
		P: p, Reason: reason, By: by, At: a.now().UTC()})
	if err != nil {
		return o, err
	}
	if _, err := a.Refresh(ctx, twin); err != nil {
		return o, err
	}
	return o, nil
}

// ClearOverride removes the active override of a step and re-derives the twin.
func (a *Analyzer) ClearOverride(ctx context.Context, twin string, step StepRef, by string) (bool, error) {
	os, ok := a.st.(OverrideStore)
	if !ok {
		return false, fmt.Errorf("this store cannot record overrides")
	}
	cleared, err := os.ClearAttackOverride(ctx, twin, step.From, step.To, step.Rule, by, a.now().UTC())
	if err != nil || !cleared {
		return cleared, err
	}
	_, err = a.Refresh(ctx, twin)
	return cleared, err
}
