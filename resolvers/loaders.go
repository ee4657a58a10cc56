package resolvers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/sectwin/sectwin/graph"
)

// Dataloaders: nested fields of many parents (each service's hosts, each component's
// vulnerabilities…) are collected for a short window and read in one statement per kind of
// hop, never one per parent.

// A batch collects keys until none has arrived for batchIdle, and at most for batchMax after its
// first. gqlgen resolves the fields of a list's items concurrently, so they arrive close
// together, but not within a fixed window on a busy machine: a list of 60 took 5 ms to ask for
// its items' fields, and a fixed 300 µs window split it into a dozen statements.
const (
	batchIdle = 1 * time.Millisecond
	batchMax  = 100 * time.Millisecond
)

type nodeKey struct{ twin, label, key string }

type neighborKey struct {
	twin, label, key string
	path             path
	limit            int
}

// path is one to three hops, comparable so that it can key a loader.
type path [3]graph.Hop

func (p path) hops() []graph.Hop {
	n := 0
	for n < len(p) && p[n].Type != "" {
		n++
	}
	return p[:n]
}

type loaders struct {
	nodes     *loader[nodeKey, graph.Node]
	neighbors *loader[neighborKey, []graph.Neighbor]
	claims    *loader[nodeKey, []graph.ClaimAbout] // each node's monitoringPriority
}

func newLoaders(db *graph.DB) *loaders {
	return &loaders{nodes: newLoader(byTwinLabel(db.Nodes)), neighbors: newLoader(loadNeighbors(db)), claims: newLoader(byTwinLabel(db.ClaimsAboutEach))}
}

// loader batches the keys that concurrent resolvers ask for and serves each key once per
// operation.
type loader[K comparable, V any] struct {
	fetch dataloader.BatchFunc[K, V]
	mu    sync.Mutex
	seen  map[K]*loaded[V]
	open  *batch[K, V] // collecting keys
}

type loaded[V any] struct {
	ready chan struct{}
	res   *dataloader.Result[V]
}

type batch[K comparable, V any] struct {
	keys  []K
	out   []*loaded[V]
	start time.Time
	timer *time.Timer
	ran   bool
}

func newLoader[K comparable, V any](fetch dataloader.BatchFunc[K, V]) *loader[K, V] {
	return &loader[K, V]{fetch: fetch, seen: map[K]*loaded[V]{}}
}

// Load asks for key and returns a function that waits for its value.
func (l *loader[K, V]) Load(ctx context.Context, key K) func() (V, error) {
	l.mu.Lock()
	v, ok := l.seen[key]
	if !ok {
		v = &loaded[V]{ready: make(chan struct{})}
		l.seen[key] = v
		b := l.open
		if b == nil {
			b = &batch[K, V]{start: time.Now()}
			b.timer = time.AfterFunc(batchIdle, func() { l.run(ctx, b) })
			l.open = b
		} else if time.Since(b.start) < batchMax {
			b.timer.Reset(batchIdle)
		}
		b.keys = append(b.keys, key)
		b.out = append(b.out, v)
	}
	l.mu.Unlock()
	return func() (V, error) {
		<-v.ready
		return v.res.Data, v.res.Error
	}
}

// run closes batch b and fetches its keys.
func (l *loader[K, V]) run(ctx context.Context, b *batch[K, V]) {
	l.mu.Lock()
	if b.ran { // a Reset after the timer fired runs it again
		l.mu.Unlock()
		return
	}
	b.ran = true
	if l.open == b {
		l.open = nil
	}
	l.mu.Unlock()
	var res []*dataloader.Result[V]
	defer func() {
		if p := recover(); p != nil || len(res) != len(b.keys) {
			err := fmt.Errorf("loader: %d keys gave %d results (panic: %v)", len(b.keys), len(res), p)
			res = make([]*dataloader.Result[V], len(b.keys))
			for i := range res {
				res[i] = &dataloader.Result[V]{Error: err}
			}
		}
		for i, v := range b.out {
			v.res = res[i]
			close(v.ready)
		}
	}()
	res = l.fetch(ctx, b.keys)
}

// group splits keys by what one statement can serve, keeping each key's index.
func group[K comparable, G comparable](keys []K, by func(K) G) map[G][]int {
	out := map[G][]int{}
	for i, k := range keys {
		g := by(k)
		out[g] = append(out[g], i)
	}
	return out
}

// byTwinLabel batches keys by twin and label, one fetch per pair: the nodes, each node's claims.
func byTwinLabel[V any](fetch func(ctx context.Context, twin, label string, keys []string) (map[string]V, error)) dataloader.BatchFunc[nodeKey, V] {
	return func(ctx context.Context, keys []nodeKey) []*dataloader.Result[V] {
		out := make([]*dataloader.Result[V], len(keys))
		type g struct{ twin, label string }
		for grp, idx := range group(keys, func(k nodeKey) g { return g{k.twin, k.label} }) {
			ks := make([]string, len(idx))
			for i, j := range idx {
				ks[i] = keys[j].key
			}
			found, err := fetch(ctx, grp.twin, grp.label, ks)
			for _, j := range idx {
				out[j] = &dataloader.Result[V]{Data: found[keys[j].key], Error: err}
			}
		}
		return out
	}
}

func loadNeighbors(db *graph.DB) dataloader.BatchFunc[neighborKey, []graph.Neighbor] {
	return func(ctx context.Context, keys []neighborKey) []*dataloader.Result[[]graph.Neighbor] {
		out := make([]*dataloader.Result[[]graph.Neighbor], len(keys))
		type g struct {
			twin, label string
			path        path
			limit       int
		}
		for grp, idx := range group(keys, func(k neighborKey) g { return g{k.twin, k.label, k.path, k.limit} }) {
			ks := make([]string, len(idx))
			for i, j := range idx {
				ks[i] = keys[j].key
			}
			found, err := db.Neighbors(ctx, grp.twin, grp.label, ks, grp.path.hops(), grp.limit)
			for _, j := range idx {
				out[j] = &dataloader.Result[[]graph.Neighbor]{Data: found[keys[j].key], Error: err}
			}
		}
		return out
	}
}

// claimsAbout loads the evaluated claims about a node (graph.DB.ClaimsAbout).
func (r *Resolver) claimsAbout(ctx context.Context, twin string, n graph.NodeRef) ([]graph.ClaimAbout, error) {
	if st := state(ctx); st.loaders != nil {
		return st.loaders.claims.Load(ctx, nodeKey{twin, n.Label, n.Key})()
	}
	return r.Graph.ClaimsAbout(ctx, twin, n)
}

// node loads one node, nil when absent.
func (r *Resolver) node(ctx context.Context, twin, label, key string) (graph.Node, error) {
	st := state(ctx)
	if st.loaders == nil {
		m, err := r.Graph.Nodes(ctx, twin, label, []string{key})
		return m[key], err
	}
	return st.loaders.nodes.Load(ctx, nodeKey{twin, label, key})()
}

// neighbors loads the nodes one hop from n that the caller may see, at most limit.
func (r *Resolver) neighbors(ctx context.Context, n graph.Node, hop graph.Hop, limit int) ([]graph.Neighbor, error) {
	return r.reach(ctx, n, path{hop}, limit)
}

// reach loads the distinct nodes at the end of a path from n that the caller may see, at most
// limit. Every node on the way must be visible too.
func (r *Resolver) reach(ctx context.Context, n graph.Node, p path, limit int) ([]graph.Neighbor, error) {
	ref := n.Ref()
	for _, h := range p.hops() {
		if h.Label != "" && !r.sees(ctx, n.TwinName(), h.Label) {
			return nil, nil
		}
	}
	twin := n.TwinName()
	var list []graph.Neighbor
	var err error
	if st := state(ctx); st.loaders != nil {
		list, err = st.loaders.neighbors.Load(ctx, neighborKey{twin, ref.Label, ref.Key, p, limit})()
	} else {
		var m map[string][]graph.Neighbor
		m, err = r.Graph.Neighbors(ctx, twin, ref.Label, []string{ref.Key}, p.hops(), limit)
		list = m[ref.Key]
	}
	if err != nil {
		return nil, backendErr(ctx, err)
	}
	out := list[:0:0]
	for _, nb := range list {
		if r.sees(ctx, twin, nb.Node.Ref().Label) {
			out = append(out, nb)
		}
	}
	return out, nil
}

// typed returns the neighbors' nodes of one Go type.
func typed[T graph.Node](list []graph.Neighbor) []T {
	out := make([]T, 0, len(list))
	for _, nb := range list {
		if t, ok := nb.Node.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// nodesOf returns the neighbors' nodes.
func nodesOf(list []graph.Neighbor) []graph.Node {
	out := make([]graph.Node, len(list))
	for i, nb := range list {
		out[i] = nb.Node
	}
	return out
}
