// Package attackanalysis answers attack-path questions about a twin: it derives the attack graph
// from the twin model with versioned rules (graph.AttackRules), projects it into the in-memory
// engine (analytics/attackpath), keeps that projection fresh on change events, and turns the
// engine's answers into explained paths, choke points, fix plans and what-if simulations.
//
// Docs: docs/attack-paths.md.
package attackanalysis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/attackpath"
	"github.com/sectwin/sectwin/analytics/attacktrace"
	"github.com/sectwin/sectwin/graph"
)

// Analyzer keeps one snapshot of the attack graph per twin in use.
type Analyzer struct {
	st       Store
	log      zerolog.Logger
	now      func() time.Time
	maxTwins int
	trace    attacktrace.Params
	traceAge time.Duration

	mu    sync.Mutex
	twins map[string]*twinCache
	epoch atomic.Uint64
}

type twinCache struct {
	refresh    sync.Mutex // one derivation at a time per twin
	snap       atomic.Pointer[Snapshot]
	dirty      atomic.Bool // the attack graph itself changed
	traceDirty atomic.Bool // only observations (alerts, anomalies) changed
	lastUsed   atomic.Int64
}

// Options configure an Analyzer.
type Options struct {
	// MaxTwins bounds the snapshots held in memory; the least recently used goes first.
	MaxTwins int
	Now      func() time.Time
	// Trace tunes how observed alerts and anomalies raise attack steps (docs/attack-paths.md).
	Trace attacktrace.Params
	// TraceMaxAge is how old a snapshot's observations may get before a question reads them
	// again, so that evidence fades and leaves the window without a new event (default 1 min).
	TraceMaxAge time.Duration
}

// New returns an Analyzer over st.
func New(st Store, log zerolog.Logger, opt Options) *Analyzer {
	if opt.MaxTwins <= 0 {
		opt.MaxTwins = 16
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.TraceMaxAge <= 0 {
		opt.TraceMaxAge = time.Minute
	}
	return &Analyzer{st: st, log: log, now: opt.Now, maxTwins: opt.MaxTwins, trace: opt.Trace.WithDefaults(), traceAge: opt.TraceMaxAge,
		twins: map[string]*twinCache{}}
}

// Snapshot is one twin's attack graph at one point: immutable, shared by concurrent queries.
type Snapshot struct {
	Twin    string
	Epoch   uint64
	BuiltAt time.Time
	Derive  DeriveResult
	// Project is how long reading the projection from Neo4j and building the engine graph took.
	Project time.Duration

	// TracedAt is when the observations behind the snapshot were read (zero: not yet).
	TracedAt time.Time

	proj    *projection
	g       *attackpath.Graph // the attack graph with the observations' raises
	base    *attackpath.Graph // the attack graph as derived
	trace   *traceLayer       // nil before observations were read
	entries []int32           // zones marked internet
	jewels  []int32           // assets marked crown jewel
	idx     *nodeIndex        // shared by the snapshots of one derivation
}

// nodeIndex maps node refs to engine indexes, built on first use.
type nodeIndex struct {
	once sync.Once
	refs map[graph.NodeRef]int32
}

// Graph is the engine graph of the snapshot.
func (s *Snapshot) Graph() *attackpath.Graph { return s.g }

// Nodes is the number of attack-graph nodes; Steps the number of attack steps.
func (s *Snapshot) Nodes() int { return len(s.proj.nodes) }

// Steps is the number of attack steps projected.
func (s *Snapshot) Steps() int { return s.g.NumEdges() }

// Ref names node i of the engine graph.
func (s *Snapshot) Ref(i int32) graph.NodeRef {
	n := s.proj.nodes[i]
	return graph.NodeRef{Label: n.Label, Key: n.Key}
}

// Node returns what the projection knows of node i.
func (s *Snapshot) Node(i int32) graph.AttackNode { return s.proj.nodes[i] }

// Lookup returns the engine index of a node.
func (s *Snapshot) Lookup(r graph.NodeRef) (int32, bool) {
	s.idx.once.Do(func() {
		s.idx.refs = make(map[graph.NodeRef]int32, len(s.proj.nodes))
		for i, n := range s.proj.nodes {
			s.idx.refs[graph.NodeRef{Label: n.Label, Key: n.Key}] = int32(i)
		}
	})
	i, ok := s.idx.refs[r]
	return i, ok
}

// Snapshot returns the twin's current snapshot, deriving and projecting it first when there is
// none or a change made it stale, and reading the observations again when new ones arrived or
// the last read is older than Options.TraceMaxAge.
func (a *Analyzer) Snapshot(ctx context.Context, twin string) (*Snapshot, error) {
	c := a.cache(twin)
	c.lastUsed.Store(a.now().UnixNano())
	if s := c.snap.Load(); s != nil && !c.dirty.Load() {
		if !a.traceStale(c, s) {
			return s, nil
		}
		return a.retrace(ctx, twin, c)
	}
	return a.rebuild(ctx, twin, c)
}

// Current returns the twin's snapshot as held, without refreshing it (nil when none); the
// follower's work shows here.
func (a *Analyzer) Current(twin string) *Snapshot {
	a.mu.Lock()
	c, ok := a.twins[twin]
	a.mu.Unlock()
	if !ok {
		return nil
	}
	return c.snap.Load()
}

// Refresh derives the twin's attack graph now and returns the new snapshot.
func (a *Analyzer) Refresh(ctx context.Context, twin string) (*Snapshot, error) {
	c := a.cache(twin)
	c.dirty.Store(true)
	return a.rebuild(ctx, twin, c)
}

// Invalidate marks a twin's snapshot stale after a change; the next question rebuilds it. It
// reports whether the twin had a snapshot (and so is worth refreshing eagerly).
func (a *Analyzer) Invalidate(twin string) bool {
	a.mu.Lock()
	c, ok := a.twins[twin]
	a.mu.Unlock()
	if ok {
		c.dirty.Store(true)
	}
	return ok
}

// InvalidateTrace marks a twin's observations stale after new alerts or anomalies: the next
// question reads them again, without deriving the attack graph. It reports whether the twin had
// a snapshot.
func (a *Analyzer) InvalidateTrace(twin string) bool {
	a.mu.Lock()
	c, ok := a.twins[twin]
	a.mu.Unlock()
	if ok {
		c.traceDirty.Store(true)
	}
	return ok
}

// Forget drops a twin's snapshot (the twin was deleted).
func (a *Analyzer) Forget(twin string) {
	a.mu.Lock()
	delete(a.twins, twin)
	a.mu.Unlock()
}

func (a *Analyzer) cache(twin string) *twinCache {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.twins[twin]
	if !ok {
		if len(a.twins) >= a.maxTwins {
			a.evictLocked()
		}
		c = &twinCache{}
		a.twins[twin] = c
	}
	return c
}

func (a *Analyzer) evictLocked() {
	var oldest string
	var at int64
	for name, c := range a.twins {
		if u := c.lastUsed.Load(); oldest == "" || u < at {
			oldest, at = name, u
		}
	}
	delete(a.twins, oldest)
}

func (a *Analyzer) rebuild(ctx context.Context, twin string, c *twinCache) (*Snapshot, error) {
	c.refresh.Lock()
	defer c.refresh.Unlock()
	if s := c.snap.Load(); s != nil && !c.dirty.Load() {
		return s, nil // another caller rebuilt it while this one waited
	}
	c.dirty.Store(false)
	p, res, err := derive(ctx, a.st, twin, a.now().UTC())
	if err != nil {
		c.dirty.Store(true)
		return nil, err
	}
	start := time.Now()
	s, err := a.build(twin, p)
	if err != nil {
		c.dirty.Store(true)
		return nil, err
	}
	s.Derive, s.Project = res, time.Since(start)
	c.traceDirty.Store(false)
	if s, err = a.traced(ctx, s); err != nil {
		c.dirty.Store(true)
		return nil, err
	}
	c.snap.Store(s)
	a.log.Debug().Str("twin", twin).Int("nodes", len(p.nodes)).Int("steps", s.g.NumEdges()).
		Int("created", res.Created).Int("updated", res.Updated).Int("deleted", res.Deleted).
		Dur("derive", res.Duration).Msg("attack graph refreshed")
	return s, nil
}

// Project reads the twin's stored attack graph without deriving it, as a benchmark or a
// read-only replica would.
func (a *Analyzer) Project(ctx context.Context, twin string) (*Snapshot, error) {
	start := time.Now()
	p, err := load(ctx, a.st, twin)
	if err != nil {
		return nil, err
	}
	s, err := a.build(twin, p)
	if err != nil {
		return nil, err
	}
	s.Project = time.Since(start)
	c := a.cache(twin)
	c.snap.Store(s)
	c.dirty.Store(false)
	return s, nil
}

func (a *Analyzer) build(twin string, p *projection) (*Snapshot, error) {
	g, err := attackpath.Build(len(p.nodes), p.edges)
	p.edges = nil // the engine holds them now
	if err != nil {
		return nil, fmt.Errorf("attack graph of twin %s: %w", twin, err)
	}
	s := &Snapshot{Twin: twin, Epoch: a.epoch.Add(1), BuiltAt: a.now().UTC(), proj: p, g: g, base: g, idx: &nodeIndex{}}
	for i, n := range p.nodes {
		if n.Internet {
			s.entries = append(s.entries, int32(i))
		}
		if n.CrownJewel {
			s.jewels = append(s.jewels, int32(i))
		}
	}
	return s, nil
}

// ErrBadSelector marks selectors naming nothing usable.
var ErrBadSelector = errors.New("bad selector")
