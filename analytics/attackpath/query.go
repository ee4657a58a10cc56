package attackpath

import (
	"errors"
	"fmt"
	"math"
)

// ErrBadQuery is wrapped by the errors returned for invalid query input.
var ErrBadQuery = errors.New("attackpath: bad query")

// Query limits.
const (
	MaxK            = 1000
	DefaultMaxHops  = 32
	MaxMaxHops      = 255
	ctxCheckEvery   = 4096 // heap pops between context checks
	defaultMaxFixes = 10
)

// Query asks for the most likely paths from Sources to Targets.
type Query struct {
	Sources, Targets []int32
	// K is how many paths to return, 1 to MaxK.
	K int
	// MinLikelihood stops the enumeration at the first path less likely than this (0: none).
	MinLikelihood float64
	// MaxHops bounds the edges of a path, 1 to MaxMaxHops (0: DefaultMaxHops).
	MaxHops int
	// Exclude removes nodes and edges for this query only (fix plans, simulation).
	Exclude *Exclusion
}

// Exclusion is a set of nodes and edges to leave out of a query. Leaving out a node leaves out
// all its edges; an excluded source or target takes no part in the query.
type Exclusion struct {
	Nodes []int32
	Edges []EdgeID
}

// Path is one attack path: Nodes[0] is a source, Nodes[len-1] a target, and Edges[i] goes from
// Nodes[i] to Nodes[i+1] (the most likely of parallel edges).
type Path struct {
	Nodes []int32
	Edges []EdgeID
	// Likelihood is the product of the edges' p; Cost is the sum of their −ln p.
	Likelihood float64
	Cost       float64
}

// Hops returns the number of edges of p.
func (p Path) Hops() int { return len(p.Edges) }

// checkNodes returns an ErrBadQuery error if a node of vs is out of range.
func (g *Graph) checkNodes(what string, vs []int32) error {
	for _, v := range vs {
		if !g.validNode(v) {
			return fmt.Errorf("%w: %s %d out of range [0, %d)", ErrBadQuery, what, v, g.n)
		}
	}
	return nil
}

func (g *Graph) checkExclusion(x *Exclusion) error {
	if x == nil {
		return nil
	}
	if err := g.checkNodes("excluded node", x.Nodes); err != nil {
		return err
	}
	for _, e := range x.Edges {
		if !g.validEdge(e) {
			return fmt.Errorf("%w: excluded edge %d out of range [0, %d)", ErrBadQuery, e, len(g.outTo))
		}
	}
	return nil
}

// normalize validates q and returns it with its defaults applied.
func (g *Graph) normalize(q Query) (Query, error) {
	switch {
	case q.K <= 0 || q.K > MaxK:
		return q, fmt.Errorf("%w: k = %d, want 1 to %d", ErrBadQuery, q.K, MaxK)
	case len(q.Sources) == 0:
		return q, fmt.Errorf("%w: no sources", ErrBadQuery)
	case len(q.Targets) == 0:
		return q, fmt.Errorf("%w: no targets", ErrBadQuery)
	case q.MaxHops < 0 || q.MaxHops > MaxMaxHops:
		return q, fmt.Errorf("%w: max hops = %d, want 0 to %d", ErrBadQuery, q.MaxHops, MaxMaxHops)
	case math.IsNaN(q.MinLikelihood) || q.MinLikelihood < 0 || q.MinLikelihood > 1:
		return q, fmt.Errorf("%w: min likelihood = %v, want 0 to 1", ErrBadQuery, q.MinLikelihood)
	}
	if q.MaxHops == 0 {
		q.MaxHops = DefaultMaxHops
	}
	if err := g.checkNodes("source", q.Sources); err != nil {
		return q, err
	}
	if err := g.checkNodes("target", q.Targets); err != nil {
		return q, err
	}
	return q, g.checkExclusion(q.Exclude)
}

// bitset is a fixed-size set of small non-negative integers.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)      { b[i>>6] |= 1 << (i & 63) }
func (b bitset) has(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }
