package resolvers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Prefetch: a root lookup such as component(purl:) and a traversal under it such as
// dependencies(depth:) both need only the query's arguments, yet gqlgen resolves them one after
// the other. The root resolver reads the node and the traversal in one statement (or starts
// further traversals alongside), and the nested resolver takes the result: one round trip where
// a naive resolver makes two.

// future is a prefetched result.
type future struct {
	done chan struct{}
	val  any
	err  error
}

type prefetches struct {
	mu sync.Mutex
	m  map[string]*future
}

// start runs fn in the background under key, unless something already did.
func (p *prefetches) start(key string, fn func() (any, error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]*future{}
	}
	if _, ok := p.m[key]; ok {
		return
	}
	f := &future{done: make(chan struct{})}
	p.m[key] = f
	go func() {
		defer close(f.done)
		f.val, f.err = fn()
	}()
}

// put stores a result computed already.
func (p *prefetches) put(key string, val any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]*future{}
	}
	f := &future{done: make(chan struct{}), val: val}
	close(f.done)
	p.m[key] = f
}

// take returns the result prefetched under key, waiting for it, and forgets it.
func (p *prefetches) take(ctx context.Context, key string) (any, error, bool) {
	p.mu.Lock()
	f, ok := p.m[key]
	delete(p.m, key)
	p.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	select {
	case <-f.done:
		return f.val, f.err, true
	case <-ctx.Done():
		return nil, ctx.Err(), true
	}
}

// childFields returns the current field's selected children named name, with their arguments
// (defaults applied).
func childFields(ctx context.Context, name string) []map[string]any {
	if graphql.GetFieldContext(ctx) == nil {
		return nil
	}
	var vars map[string]any
	if oc := graphql.GetOperationContext(ctx); oc != nil {
		vars = oc.Variables
	}
	var out []map[string]any
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			out = append(out, f.ArgumentMap(vars))
		}
	}
	return out
}

// intOr reads an integer argument as parsed from a literal or a JSON variable.
func intOr(v any, def int) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return int(i)
		}
	}
	return def
}

func prefetchKey(parts ...any) string { return fmt.Sprint(parts...) }

// selectedProps lists the fields selected of a typeName object found by following path (field
// names) down from the current field: the properties a read must return. It answers nil, meaning
// "read whole nodes", whenever a fragment on the way makes that uncertain, so a projection can
// never drop a field the query asked for.
func selectedProps(ctx context.Context, typeName string, path ...string) []string {
	fc := graphql.GetFieldContext(ctx)
	oc := graphql.GetOperationContext(ctx)
	if fc == nil || oc == nil {
		return nil
	}
	sel := fc.Field.Selections
	for _, name := range path {
		var next ast.SelectionSet
		for _, s := range sel {
			f, ok := s.(*ast.Field)
			if !ok {
				return nil
			}
			if f.Name == name {
				next = append(next, f.SelectionSet...)
			}
		}
		sel = next
	}
	out := []string{}
	for _, f := range graphql.CollectFields(oc, sel, []string{typeName, "Node"}) {
		out = append(out, f.Name)
		out = append(out, fieldNeeds[f.Name]...)
	}
	return out
}

// fieldNeeds are the properties a resolved field reads from its object besides its own.
var fieldNeeds = map[string][]string{"monitoringPriority": {"criticality", "crownJewel"}}

// union merges projections; nil (whole nodes) wins.
func union(lists ...[]string) []string {
	out := []string{}
	for _, l := range lists {
		if l == nil {
			return nil
		}
		out = append(out, l...)
	}
	return out
}
