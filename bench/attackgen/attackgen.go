// Package attackgen generates synthetic attack graphs for the benchmarks and tests of
// analytics/attackpath: seeded, deterministic (the same Config gives the same nodes and edges,
// bit for bit) and layered as in the attack-path design (§5).
//
// Nodes are laid out in layers, contiguously and in this order: internet-exposed entry services
// (1%), workloads (45%), identities (20%) and credentials (15%), data stores and internal services
// (the rest, about 19%) and crown jewels (0.05%, at least one). Identities and credentials share
// one tier. Every edge starts at a node chosen uniformly at random and goes, with these
// probabilities, to a uniformly chosen node of
//
//   - the next tier (forward, 55%),
//   - the same tier (lateral, 30%),
//   - the previous tier (backward, 12%),
//   - a tier two or more ahead (skip-layer, 3%).
//
// A kind that the source's tier cannot have (forward from a jewel, backward from an entry) falls
// back to the nearest kind that it can, so the ratios are met within a fraction of a percent.
// 30% of the edges get a heavy-tailed, EPSS-like probability in (0.001, 0.97] (log-uniform in the
// square of a uniform variate, so the median is about 0.006); the others get p in (0.7, 1].
//
// The result is plain slices, so that it can be projected into the engine or written into a
// database alike:
//
//	r := attackgen.Generate(attackgen.Config{Seed: 1, Nodes: 100_000})
//	// r.Edges[i].From, .To, .P; r.Entries; r.Jewels
package attackgen

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Layer is the role of a node in the attack graph.
type Layer uint8

// The layers, in tier order.
const (
	Entry Layer = iota
	Workload
	Identity
	Credential
	Data
	Jewel
	numLayers
)

var layerNames = [numLayers]string{"entry", "workload", "identity", "credential", "data", "jewel"}

// String returns the layer's lower-case name, also the prefix of its nodes' names.
func (l Layer) String() string {
	if l < numLayers {
		return layerNames[l]
	}
	return "layer(" + strconv.Itoa(int(l)) + ")"
}

// tier maps a layer to its position in the forward direction; identities and credentials share
// one tier.
func (l Layer) tier() int {
	switch l {
	case Entry:
		return 0
	case Workload:
		return 1
	case Identity, Credential:
		return 2
	case Data:
		return 3
	}
	return 4
}

const numTiers = 5

// Layer shares of the nodes. Data takes what the others leave.
const (
	EntryShare      = 0.01
	WorkloadShare   = 0.45
	IdentityShare   = 0.20
	CredentialShare = 0.15
	JewelShare      = 0.0005
)

// Edge kind shares.
const (
	ForwardShare  = 0.55
	LateralShare  = 0.30
	BackwardShare = 0.12
	SkipShare     = 0.03
)

// Defaults for a zero Config field.
const (
	DefaultNodes        = 10_000
	DefaultOutDegree    = 6
	DefaultEPSSFraction = 0.30
	// MinNodes is the smallest graph Generate makes (one node per layer, and enough nodes for
	// the shares to mean something).
	MinNodes = 100
)

// Config says which graph to generate.
type Config struct {
	// Seed chooses the graph: the same Config gives the same result.
	Seed uint64
	// Nodes is the number of nodes (DefaultNodes if 0, at least MinNodes).
	Nodes int
	// OutDegree is the average out-degree: Generate makes round(Nodes×OutDegree) edges
	// (DefaultOutDegree if 0).
	OutDegree float64
	// EPSSFraction is the fraction of edges with a heavy-tailed, EPSS-like probability
	// (DefaultEPSSFraction if 0; a negative value means none).
	EPSSFraction float64
}

// Node is one generated node.
type Node struct {
	Index int32
	Layer Layer
	Name  string // "<layer>-<n>", n counting within the layer from 0; unique and stable
}

// Edge is one generated edge: a step from From to To that succeeds with probability P.
type Edge struct {
	From, To int32
	P        float64
}

// Kind is how an edge relates the tiers of its ends.
type Kind uint8

// The edge kinds.
const (
	Forward Kind = iota
	Lateral
	Backward
	Skip
)

// Result is a generated graph. Nodes[i].Index == i; the nodes of a layer are contiguous.
type Result struct {
	Nodes []Node
	Edges []Edge
	// Kinds[i] is the kind of Edges[i].
	Kinds []Kind
	// Entries and Jewels are the indexes of the entry and jewel nodes, ascending.
	Entries, Jewels []int32
	// Layers[l] is the half-open index range [lo, hi) of layer l.
	Layers [numLayers][2]int32
}

// LayerOf returns the layer of node v.
func (r *Result) LayerOf(v int32) Layer { return r.Nodes[v].Layer }

// Generate builds the graph cfg describes. It makes exactly the configured number of nodes and
// edges and never a self-loop; parallel edges may occur.
func Generate(cfg Config) *Result {
	n := cfg.Nodes
	if n == 0 {
		n = DefaultNodes
	}
	n = max(n, MinNodes)
	deg := cfg.OutDegree
	if deg <= 0 || math.IsNaN(deg) {
		deg = DefaultOutDegree
	}
	epss := cfg.EPSSFraction
	switch {
	case epss == 0 || math.IsNaN(epss):
		epss = DefaultEPSSFraction
	case epss < 0:
		epss = 0
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xa77ac4))

	r := &Result{}
	sizes := layerSizes(n)
	lo := int32(0)
	for l := range numLayers {
		r.Layers[l] = [2]int32{lo, lo + int32(sizes[l])}
		lo += int32(sizes[l])
	}
	r.Nodes = makeNodes(r.Layers, n)
	r.Entries = indexRange(r.Layers[Entry])
	r.Jewels = indexRange(r.Layers[Jewel])

	// Tier ranges: the layers are in tier order, so a tier is contiguous too.
	var tiers [numTiers][2]int32
	for l := range numLayers {
		t := l.tier()
		if tiers[t] == [2]int32{} {
			tiers[t] = r.Layers[l]
		} else {
			tiers[t][1] = r.Layers[l][1]
		}
	}
	tierOf := func(v int32) int {
		for t := range numTiers {
			if v < tiers[t][1] {
				return t
			}
		}
		return numTiers - 1
	}
	pick := func(t int) int32 {
		lo, hi := tiers[t][0], tiers[t][1]
		return lo + rng.Int32N(hi-lo)
	}

	m := int(math.Round(float64(n) * deg))
	r.Edges = make([]Edge, m)
	r.Kinds = make([]Kind, m)
	for i := range r.Edges {
		from := rng.Int32N(int32(n))
		t := tierOf(from)
		x := rng.Float64()
		var kind Kind
		switch {
		case x < ForwardShare:
			kind = Forward
		case x < ForwardShare+LateralShare:
			kind = Lateral
		case x < ForwardShare+LateralShare+BackwardShare:
			kind = Backward
		default:
			kind = Skip
		}
		kind = feasible(kind, t, tiers)
		var to int32
		switch kind {
		case Forward:
			to = pick(t + 1)
		case Backward:
			to = pick(t - 1)
		case Skip:
			to = pick(t + 2 + rng.IntN(numTiers-t-2))
		default:
			// Lateral: any other node of the tier.
			lo, hi := tiers[t][0], tiers[t][1]
			to = lo + rng.Int32N(hi-lo-1)
			if to >= from {
				to++
			}
		}
		var p float64
		if rng.Float64() < epss {
			u := 1 - rng.Float64() // (0, 1]
			p = 0.001 * math.Pow(970, u*u)
		} else {
			p = 0.7 + 0.3*(1-rng.Float64())
		}
		r.Edges[i] = Edge{From: from, To: to, P: p}
		r.Kinds[i] = kind
	}
	return r
}

// feasible returns kind, or the nearest kind a node of tier t can have.
func feasible(kind Kind, t int, tiers [numTiers][2]int32) Kind {
	lateralOK := tiers[t][1]-tiers[t][0] > 1
	for range 4 {
		switch kind {
		case Forward:
			if t+1 < numTiers {
				return Forward
			}
			kind = Lateral
		case Lateral:
			if lateralOK {
				return Lateral
			}
			kind = Backward
		case Backward:
			if t > 0 {
				return Backward
			}
			kind = Forward
		case Skip:
			if t+2 < numTiers {
				return Skip
			}
			kind = Forward
		}
	}
	return Backward // the jewel tier with a single jewel
}

// layerSizes splits n nodes into the layers: at least one node each, data takes the rest.
func layerSizes(n int) [numLayers]int {
	var s [numLayers]int
	share := [numLayers]float64{EntryShare, WorkloadShare, IdentityShare, CredentialShare, 0, JewelShare}
	used := 0
	for l := range numLayers {
		if l == Data {
			continue
		}
		s[l] = max(1, int(math.Round(float64(n)*share[l])))
		used += s[l]
	}
	s[Data] = n - used
	return s
}

// makeNodes names the nodes; all names are substrings of one string, so a million nodes cost
// two allocations.
func makeNodes(layers [numLayers][2]int32, n int) []Node {
	nodes := make([]Node, n)
	var b strings.Builder
	b.Grow(n * 18)
	ends := make([]int, n)
	var digits [20]byte
	for l := range numLayers {
		for v := layers[l][0]; v < layers[l][1]; v++ {
			b.WriteString(layerNames[l])
			b.WriteByte('-')
			b.Write(strconv.AppendInt(digits[:0], int64(v-layers[l][0]), 10))
			ends[v] = b.Len()
		}
	}
	all := b.String()
	start := 0
	for l := range numLayers {
		for v := layers[l][0]; v < layers[l][1]; v++ {
			nodes[v] = Node{Index: v, Layer: l, Name: all[start:ends[v]]}
			start = ends[v]
		}
	}
	return nodes
}

func indexRange(r [2]int32) []int32 {
	out := make([]int32, 0, r[1]-r[0])
	for v := r[0]; v < r[1]; v++ {
		out = append(out, v)
	}
	return out
}
