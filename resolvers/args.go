package resolvers

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/resolvers/model"
)

// DefaultPageSize is first when a query leaves it out.
const DefaultPageSize = 100

// pageSize validates a first: argument.
func pageSize(ctx context.Context, first *int) (int, error) {
	if first == nil {
		return DefaultPageSize, nil
	}
	if *first < 0 || *first > graph.MaxPageSize {
		return 0, gqlErr(ctx, CodeBadInput, fmt.Sprintf("first must be between 0 and %d, got %d", graph.MaxPageSize, *first))
	}
	return *first, nil
}

// depthArg validates a depth: argument.
func depthArg(ctx context.Context, depth *int, def int) (int, error) {
	if depth == nil {
		return def, nil
	}
	if *depth < 1 || *depth > graph.MaxDepth {
		return 0, gqlErr(ctx, CodeBadInput, fmt.Sprintf("depth must be between 1 and %d, got %d", graph.MaxDepth, *depth))
	}
	return *depth, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// severitiesAtLeast lists the severities at or above s.
func severitiesAtLeast(s model.Severity) []string {
	all := []string{"NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
	for i, v := range all {
		if v == string(s) {
			return all[i:]
		}
	}
	return all
}

func pageInfo(p graph.Page) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNextPage}
	if n := len(p.Cursors); n > 0 {
		pi.EndCursor = &p.Cursors[n-1]
	}
	return pi
}

// pageOf runs a page query for label after checking access, and returns the typed nodes.
func pageOf[T graph.Node](ctx context.Context, r *Resolver, q graph.PageQuery, first *int, after *string) ([]T, graph.Page, error) {
	a, err := r.access(ctx, q.Twin, "read")
	if err != nil {
		return nil, graph.Page{}, err
	}
	if !a.sees(q.Label) {
		return nil, graph.Page{}, notFound(ctx, q.Twin)
	}
	if q.First, err = pageSize(ctx, first); err != nil {
		return nil, graph.Page{}, err
	}
	q.After = deref(after)
	q.Count = wantsField(ctx, "totalCount")
	if wantsField(ctx, "nodes") || wantsField(ctx, "edges") {
		q.Props = union(selectedProps(ctx, q.Label, "nodes"), selectedProps(ctx, q.Label, "edges", "node"))
	} else {
		q.Props = selectedProps(ctx, q.Label) // a plain list
	}
	p, err := r.Graph.Page(ctx, q)
	if err != nil {
		return nil, graph.Page{}, writeErr(ctx, q.Twin, err)
	}
	out := make([]T, 0, len(p.Nodes))
	for _, n := range p.Nodes {
		out = append(out, n.(T))
	}
	return out, p, nil
}

// wantsField reports whether the current field's selection asks for a child field.
func wantsField(ctx context.Context, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// edgeString reads an optional string property of a relationship.
func edgeString(m map[string]any, k string) *string {
	if s, ok := m[k].(string); ok {
		return &s
	}
	return nil
}

func edgeBool(m map[string]any, k string) *bool {
	if b, ok := m[k].(bool); ok {
		return &b
	}
	return nil
}

func edgeInt(m map[string]any, k string) *int {
	if n, ok := m[k].(int64); ok {
		i := int(n)
		return &i
	}
	return nil
}

// limitArg validates the first: of a plain list field.
func limitArg(ctx context.Context, first *int) (int, error) { return pageSize(ctx, first) }

// edges pairs a page's nodes with their cursors as a connection's edges, made by mk.
func edges[T, E any](nodes []T, p graph.Page, mk func(cursor string, n T) E) []E {
	out := make([]E, len(nodes))
	for i, n := range nodes {
		out[i] = mk(p.Cursors[i], n)
	}
	return out
}
