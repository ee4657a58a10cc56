package resolvers

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
)

// Authorisation by twin. A token reads and writes the twins it names (admin: all). It reads,
// and only reads, the subgraphs other twins share with its twins through grants. Any other twin
// looks exactly like one that does not exist: the same NOT_FOUND, the same nulls, so a token
// cannot learn which twins exist.

// twinAccess is what the caller may do with one twin.
type twinAccess struct {
	twin   string
	full   bool            // the caller's own twin
	labels map[string]bool // with !full: the labels shared with the caller
}

// sees reports whether the caller may read nodes of this label.
func (a twinAccess) sees(label string) bool { return a.full || a.labels[label] }

func (a twinAccess) subgraphs() []string {
	if a.full {
		return graph.Subgraphs()
	}
	var out []string
	for l := range a.labels {
		k, _ := graph.KindOf(l)
		out = append(out, k.Subgraph)
	}
	slices.Sort(out)
	return out
}

func notFound(ctx context.Context, twin string) error {
	return gqlErr(ctx, CodeNotFound, fmt.Sprintf("no twin %q is visible to this token", twin))
}

// access returns what the caller may do with twin, failing with UNAUTHENTICATED or FORBIDDEN
// for a missing scope and NOT_FOUND for a twin it may not see (or that does not exist). Write
// access needs full access.
func (r *Resolver) access(ctx context.Context, twin string, scope auth.Scope) (twinAccess, error) {
	p, err := principal(ctx, scope)
	if err != nil {
		return twinAccess{}, err
	}
	if !auth.ValidTwinName(twin) {
		return twinAccess{}, notFound(ctx, twin)
	}
	st := state(ctx)
	a, err := st.accessTo(ctx, r, p, twin)
	if err != nil {
		return twinAccess{}, backendErr(ctx, err)
	}
	if a == nil || (scope != auth.ScopeRead && !a.full) {
		return twinAccess{}, notFound(ctx, twin)
	}
	return *a, nil
}

// sees reports whether the caller may read nodes of label in twin, for nested fields whose
// parent was already authorised. It never errors: what cannot be seen is left out.
func (r *Resolver) sees(ctx context.Context, twin, label string) bool {
	p, ok := auth.FromContext(ctx)
	if !ok || !p.Has(auth.ScopeRead) {
		return false
	}
	a, err := state(ctx).accessTo(ctx, r, p, twin)
	return err == nil && a != nil && a.sees(label)
}

// requestState caches, for one GraphQL operation, what the caller may see and the loaders
// that batch its reads.
type requestState struct {
	mu      sync.Mutex
	access  map[string]*twinAccess // nil value: not visible
	grants  []graph.Grant
	grantsT bool // grants loaded
	loaders *loaders
	pre     prefetches
}

type stateKey struct{}

// WithRequestState gives one operation its own access cache and dataloaders. The server wraps
// every operation with it.
func (r *Resolver) WithRequestState(ctx context.Context) context.Context {
	return context.WithValue(ctx, stateKey{}, &requestState{access: map[string]*twinAccess{}, loaders: newLoaders(r.Graph)})
}

// state returns the operation's state, or a fresh one (tests calling resolvers directly).
func state(ctx context.Context) *requestState {
	if st, ok := ctx.Value(stateKey{}).(*requestState); ok {
		return st
	}
	return &requestState{access: map[string]*twinAccess{}}
}

func (st *requestState) accessTo(ctx context.Context, r *Resolver, p auth.Principal, twin string) (*twinAccess, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if a, ok := st.access[twin]; ok {
		return a, nil
	}
	exists, err := r.twinExists(ctx, twin)
	if err != nil {
		return nil, err
	}
	var a *twinAccess
	switch {
	case !exists:
	case p.CanSeeTwin(twin):
		a = &twinAccess{twin: twin, full: true}
	default:
		if !st.grantsT {
			st.grants, err = r.twins().Grants(ctx, p.Twins, nil)
			if err != nil {
				return nil, err
			}
			st.grantsT = true
		}
		for _, g := range st.grants {
			if g.Owner != twin || !slices.Contains(p.Twins, g.Grantee) {
				continue
			}
			if a == nil {
				a = &twinAccess{twin: twin, labels: map[string]bool{}}
			}
			for _, sub := range g.Subgraphs {
				if l, ok := graph.LabelOfSubgraph(sub); ok {
					a.labels[l] = true
				}
			}
		}
	}
	st.access[twin] = a
	return a, nil
}

// visibleTwins lists the twins the caller can see, own and shared.
func (r *Resolver) visibleTwins(ctx context.Context) ([]*graph.Twin, error) {
	p, err := principal(ctx, auth.ScopeRead)
	if err != nil {
		return nil, err
	}
	all := p.SeesAllTwins()
	names := slices.Clone(p.Twins)
	if !all {
		grants, err := r.twins().Grants(ctx, p.Twins, nil)
		if err != nil {
			return nil, backendErr(ctx, err)
		}
		for _, g := range grants {
			names = append(names, g.Owner)
		}
	}
	twins, err := r.twins().List(ctx, names, all)
	if err != nil {
		return nil, backendErr(ctx, err)
	}
	out := make([]*graph.Twin, len(twins))
	for i := range twins {
		out[i] = &twins[i]
	}
	return out, nil
}
