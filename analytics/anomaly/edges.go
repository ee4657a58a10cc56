package anomaly

import (
	"fmt"
	"strconv"
	"time"
)

// Edge is a directed connection: Src reached Dst on Port over Proto. Fields compare exactly
// (the caller normalises case and address forms).
type Edge struct {
	Src   string // an address, host name or pseudonym
	Dst   string
	Port  int    // 0..65535; 0 for protocols without ports
	Proto string // tcp, udp, icmp…
}

// String is "src → dst:port/proto".
func (e Edge) String() string {
	return e.Src + " → " + e.Dst + ":" + strconv.Itoa(e.Port) + "/" + e.Proto
}

func (e Edge) valid() bool {
	return e.Src != "" && e.Dst != "" && e.Port >= 0 && e.Port <= 65535
}

// Edges reports edges seen for the first time. It remembers at most Capacity edges exactly: the
// pinned ones (Seed) for good, the others until Capacity − pinned more recently seen edges
// push them out, after which they count as new again. Its memory is about 150 bytes per edge
// plus the strings' bytes.
type Edges struct {
	set       lru[Edge]
	evictions uint64
}

// NewEdges returns an empty set that remembers up to capacity edges (1..MaxCapacity).
func NewEdges(capacity int) (*Edges, error) {
	if capacity < 1 || capacity > MaxCapacity {
		return nil, fmt.Errorf("edges capacity %d: %w", capacity, ErrInvalidOptions)
	}
	return &Edges{set: newLRU[Edge](capacity)}, nil
}

// Seed pins e as known (designed, or known from inventory): it is never reported and never
// evicted. Seeding an edge already remembered pins it. It returns ErrInvalidEdge for an edge
// with an empty endpoint or a port outside 0..65535, and ErrFull when every slot is pinned
// already (then leave room: a set full of pinned edges cannot learn any other).
func (d *Edges) Seed(e Edge) error {
	if !e.valid() {
		return fmt.Errorf("seed %v: %w", e, ErrInvalidEdge)
	}
	if s, ok := d.set.get(e); ok {
		d.set.pin(s)
		return nil
	}
	if d.set.pinned >= d.set.capacity {
		return fmt.Errorf("seed %v: capacity %d: %w", e, d.set.capacity, ErrFull)
	}
	s, evicted, _ := d.set.add(e)
	if evicted {
		d.evictions++
	}
	d.set.pin(s)
	return nil
}

// EdgeResult is what Edges.Observe says about one connection.
type EdgeResult struct {
	Edge     Edge
	Evidence Evidence
	// New tells whether the edge was not remembered; Score is 1 when New, else 0.
	New   bool
	Score float64
	// Pinned tells whether the edge is a seeded (known) one.
	Pinned bool
	// Remembered is false only for a new edge that could not be kept because every slot is
	// pinned; it will be reported again.
	Remembered bool
	// Learnt is how many unpinned edges the set can remember (capacity − pinned), for
	// explanations.
	Learnt int
}

// Observe reports whether e is new and remembers it as the most recently seen edge, evicting
// the least recently seen unpinned edge when the set is full. ref and t are the caller's
// reference to the connection event and its time, returned as the evidence. An edge with an
// empty endpoint or a port outside 0..65535 returns ErrInvalidEdge and changes nothing.
// Observe allocates nothing once the set is full (the set's map may reorganise now and then).
func (d *Edges) Observe(t time.Time, e Edge, ref string) (EdgeResult, error) {
	res := EdgeResult{Edge: e, Evidence: Evidence{Ref: ref, Time: t}, Remembered: true, Learnt: d.set.capacity - d.set.pinned}
	if !e.valid() {
		res.Remembered = false
		return res, ErrInvalidEdge
	}
	if s, ok := d.set.get(e); ok {
		res.Pinned = d.set.nodes[s].pinned
		d.set.touch(s)
		return res, nil
	}
	res.New, res.Score = true, 1
	_, evicted, ok := d.set.add(e)
	if evicted {
		d.evictions++
	}
	res.Remembered = ok
	return res, nil
}

// Len is the number of edges remembered, pinned ones included.
func (d *Edges) Len() int { return d.set.len() }

// Pinned is the number of pinned edges.
func (d *Edges) Pinned() int { return d.set.pinned }

// Evictions is how many edges have been forgotten to make room so far.
func (d *Edges) Evictions() uint64 { return d.evictions }

// Explanation says in plain language what was seen: "first connection 10.0.0.5 →
// 10.0.0.9:22/tcp (neither designed nor among the 100000 most recently seen)".
func (r EdgeResult) Explanation() string {
	switch {
	case r.New:
		return "first connection " + r.Edge.String() + " (neither designed nor among the " +
			strconv.Itoa(r.Learnt) + " most recently seen)"
	case r.Pinned:
		return "designed connection " + r.Edge.String()
	default:
		return "known connection " + r.Edge.String()
	}
}
