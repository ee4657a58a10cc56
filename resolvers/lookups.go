package resolvers

import (
	"context"
	"slices"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/resolvers/model"
)

// lookup returns one node by natural key, or nil when it does not exist or the caller may not
// see it: the two look alike.
func lookup[T graph.Node](ctx context.Context, r *Resolver, twin, label, key string) (T, error) {
	var zero T
	a, err := r.access(ctx, twin, auth.ScopeRead)
	if err != nil {
		if code(err) == CodeNotFound {
			return zero, nil
		}
		return zero, err
	}
	if !a.sees(label) {
		return zero, nil
	}
	// A root lookup has nothing to batch with: read it at once, without the loader's wait.
	found, err := r.Graph.Nodes(ctx, twin, label, []string{key})
	if err != nil {
		return zero, backendErr(ctx, err)
	}
	n, ok := found[key]
	if !ok {
		return zero, nil
	}
	return n.(T), nil
}

// cond is a filter condition when its value is set.
func cond[V any](prop string, op graph.Op, v *V) *graph.Cond {
	if v == nil {
		return nil
	}
	return &graph.Cond{Prop: prop, Op: op, Value: *v}
}

func conds(cs ...*graph.Cond) []graph.Cond {
	var out []graph.Cond
	for _, c := range cs {
		if c != nil {
			out = append(out, *c)
		}
	}
	return out
}

// dependencies resolves Component.dependencies and dependents.
func (r *Resolver) dependencies(ctx context.Context, c *graph.Component, depth, first *int, reverse bool) ([]*model.Dependency, error) {
	d, err := depthArg(ctx, depth, 1)
	if err != nil {
		return nil, err
	}
	n, err := limitArg(ctx, first)
	if err != nil {
		return nil, err
	}
	if !r.sees(ctx, c.Twin, graph.LabelComponent) {
		return []*model.Dependency{}, nil
	}
	var found []graph.Reached
	if v, err, ok := state(ctx).pre.take(ctx, prefetchKey("deps", c.Twin, c.Purl, d, n, reverse)); ok && err == nil {
		found = v.([]graph.Reached)
	} else {
		_, found, err = r.Graph.Dependencies(ctx, graph.TreeQuery{Twin: c.Twin, Purl: c.Purl, Depth: d, Reverse: reverse, Limit: n,
			RootProps: []string{}, Props: selectedProps(ctx, graph.LabelComponent, "component"), Edges: true})
	}
	if err != nil {
		return nil, backendErr(ctx, err)
	}
	out := make([]*model.Dependency, len(found))
	for i, f := range found {
		out[i] = &model.Dependency{Component: f.Node.(*graph.Component), Depth: f.Depth, Parent: f.Parent.Key,
			Scope: edgeString(f.Edge, "scope"), Direct: edgeBool(f.Edge, "direct")}
	}
	return out, nil
}

// flows resolves the FLOWS_TO data flows out of a service or data store.
func (r *Resolver) flows(ctx context.Context, n graph.Node) ([]*model.DataFlow, error) {
	list, err := r.neighbors(ctx, n, graph.Hop{Type: "FLOWS_TO"}, graph.MaxPageSize)
	out := make([]*model.DataFlow, len(list))
	for i, nb := range list {
		out[i] = &model.DataFlow{To: nb.Node, Data: edgeString(nb.Edge, "data"), Protocol: edgeString(nb.Edge, "protocol"),
			Encrypted: edgeBool(nb.Edge, "encrypted"), Classification: deref(edgeString(nb.Edge, "classification"))}
	}
	return out, err
}

// reachability turns REACHES neighbors of n into rules; in: the neighbors reach n.
func reachability(n graph.Node, list []graph.Neighbor, in bool) []*model.Reachability {
	out := make([]*model.Reachability, len(list))
	for i, nb := range list {
		rr := &model.Reachability{From: n, To: nb.Node, Port: edgeInt(nb.Edge, "port"), Proto: edgeString(nb.Edge, "proto"), Description: edgeString(nb.Edge, "description")}
		if in {
			rr.From, rr.To = nb.Node, n
		}
		out[i] = rr
	}
	return out
}

// uniqueNodes drops repeated nodes, keeping the first.
func uniqueNodes[T graph.Node](list []T) []T {
	seen := map[graph.NodeRef]bool{}
	out := make([]T, 0, len(list))
	for _, n := range list {
		if !seen[n.Ref()] {
			seen[n.Ref()] = true
			out = append(out, n)
		}
	}
	return out
}

// changeFor is the part of a change event the caller may see: for a shared twin, only the
// shared nodes and no counts (they would tell of changes to what is not shared). It returns nil
// when nothing is visible.
func changeFor(a twinAccess, c events.Change) *model.TwinChange {
	if !a.full {
		c.NodesCreated, c.NodesUpdated, c.NodesDeleted, c.EdgesCreated, c.EdgesUpdated, c.EdgesDeleted = 0, 0, 0, 0, 0, 0
	}
	out := &model.TwinChange{Twin: c.Twin, Op: c.Op, Source: c.Source, At: c.At, Truncated: c.Truncated,
		NodesCreated: c.NodesCreated, NodesUpdated: c.NodesUpdated, NodesDeleted: c.NodesDeleted,
		EdgesCreated: c.EdgesCreated, EdgesUpdated: c.EdgesUpdated, EdgesDeleted: c.EdgesDeleted,
		Nodes: []*model.ChangedNode{}}
	for _, n := range c.Nodes {
		if a.sees(n.Label) {
			out.Nodes = append(out.Nodes, &model.ChangedNode{ID: graph.ID(n.Label, c.Twin, n.Key), Type: n.Label, Key: n.Key})
		}
	}
	if !a.full && len(out.Nodes) == 0 {
		return nil
	}
	return out
}

// componentWithTrees serves component(purl:) when dependencies or dependents are selected: the
// first such field's statement also reads the component itself, so lookup and tree are one
// round trip; further ones start alongside (see prefetch.go). handled is false when none is
// selected. Arguments out of range are left to the fields' own validation.
func (r *Resolver) componentWithTrees(ctx context.Context, twin, purl string) (root *graph.Component, handled bool, err error) {
	type tree struct {
		d, n    int
		reverse bool
	}
	var trees []tree
	var props [][]string
	edges := false
	for _, field := range []struct {
		name    string
		reverse bool
	}{{"dependencies", false}, {"dependents", true}} {
		for _, args := range childFields(ctx, field.name) {
			d, n := intOr(args["depth"], 1), intOr(args["first"], DefaultPageSize)
			if d >= 1 && d <= graph.MaxDepth && n >= 0 && n <= graph.MaxPageSize {
				trees = append(trees, tree{d, n, field.reverse})
			}
		}
		props = append(props, selectedProps(ctx, graph.LabelComponent, field.name, "component"))
		// Parents and DEPENDS_ON properties cost extra: read them only when selected.
		sel := selectedProps(ctx, "Dependency", field.name)
		edges = edges || sel == nil || slices.ContainsFunc(sel, func(f string) bool { return f == "parent" || f == "scope" || f == "direct" })
	}
	itemProps := union(props...)
	rootProps := selectedProps(ctx, graph.LabelComponent)
	if len(trees) == 0 {
		return nil, false, nil
	}
	st := state(ctx)
	for _, t := range trees[1:] {
		st.pre.start(prefetchKey("deps", twin, purl, t.d, t.n, t.reverse), func() (any, error) {
			_, deps, err := r.Graph.Dependencies(context.WithoutCancel(ctx), graph.TreeQuery{Twin: twin, Purl: purl, Depth: t.d, Reverse: t.reverse, Limit: t.n,
				RootProps: []string{}, Props: itemProps, Edges: edges})
			return deps, err
		})
	}
	t := trees[0]
	root, deps, err := r.Graph.Dependencies(ctx, graph.TreeQuery{Twin: twin, Purl: purl, Depth: t.d, Reverse: t.reverse, Limit: t.n,
		RootProps: rootProps, Props: itemProps, Edges: edges})
	if err != nil {
		return nil, true, err
	}
	st.pre.put(prefetchKey("deps", twin, purl, t.d, t.n, t.reverse), deps)
	return root, true, nil
}

// vulnerabilityWithServices serves vulnerability(id:) when affectedServices is selected, in one
// statement with it.
func (r *Resolver) vulnerabilityWithServices(ctx context.Context, twin, id string) (root *graph.Vulnerability, handled bool, err error) {
	fields := childFields(ctx, "affectedServices")
	if len(fields) != 1 {
		return nil, false, nil
	}
	n := intOr(fields[0]["first"], DefaultPageSize)
	if n < 0 || n > graph.MaxPageSize {
		return nil, false, nil
	}
	root, affected, err := r.Graph.AffectedServices(ctx, twin, id, n, map[string][]string{
		graph.LabelVulnerability: selectedProps(ctx, graph.LabelVulnerability),
		graph.LabelService:       selectedProps(ctx, graph.LabelService, "affectedServices", "service"),
		graph.LabelComponent:     selectedProps(ctx, graph.LabelComponent, "affectedServices", "components"),
	})
	if err != nil {
		return nil, true, err
	}
	state(ctx).pre.put(prefetchKey("affected", twin, id, n), affected)
	return root, true, nil
}
