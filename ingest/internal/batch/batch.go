// Package batch assembles the graph.Batch of a parsed document: nodes are merged by natural key
// and edges by type and endpoints, so that a batch never holds one node or edge twice nor an
// edge to a node outside it. What two mentions of one node or edge say is merged by MergeProps.
package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/internal/severity"
)

// Limits of graph validation (graph/write.go): a batch within them passes it.
const (
	MaxKeyLen    = 2048     // bytes of a natural key
	MaxStringLen = 64 << 10 // bytes of a string property
	MaxListLen   = 1000     // items of a list property
)

// Statuses of a Finding. A finding OPEN in any mention stays OPEN when mentions are merged.
const (
	StatusOpen       = "OPEN"
	StatusFixed      = "FIXED"
	StatusSuppressed = "SUPPRESSED"
)

// Builder collects the nodes and edges of a batch. The zero value is not usable: call New.
type Builder struct {
	batch  graph.Batch
	nodeAt map[graph.NodeRef]int
	edgeAt map[edgeKey]int
}

type edgeKey struct {
	typ      string
	from, to graph.NodeRef
}

// New returns an empty Builder.
func New() *Builder {
	return &Builder{nodeAt: map[graph.NodeRef]int{}, edgeAt: map[edgeKey]int{}}
}

// Has reports whether the batch holds the node.
func (b *Builder) Has(label, key string) bool {
	_, ok := b.nodeAt[graph.NodeRef{Label: label, Key: key}]
	return ok
}

// Node adds a node, or merges props into the node already there (MergeProps). The builder
// keeps props: the caller must not change the map afterwards.
func (b *Builder) Node(label, key string, props map[string]any) {
	ref := graph.NodeRef{Label: label, Key: key}
	if i, ok := b.nodeAt[ref]; ok {
		MergeProps(b.batch.Nodes[i].Props, props)
		return
	}
	b.nodeAt[ref] = len(b.batch.Nodes)
	b.batch.Nodes = append(b.batch.Nodes, graph.NodeRow{Label: label, Key: key, Props: props})
}

// Edge adds a relationship between two nodes of the batch, or merges props into the edge
// already there (MergeProps). It adds nothing and reports false when an endpoint is not in the
// batch.
func (b *Builder) Edge(typ string, from, to graph.NodeRef, props map[string]any) bool {
	if !b.Has(from.Label, from.Key) || !b.Has(to.Label, to.Key) {
		return false
	}
	k := edgeKey{typ, from, to}
	if i, ok := b.edgeAt[k]; ok {
		MergeProps(b.batch.Edges[i].Props, props)
		return true
	}
	b.edgeAt[k] = len(b.batch.Edges)
	b.batch.Edges = append(b.batch.Edges, graph.EdgeRow{Type: typ, From: from, To: to, Props: props})
	return true
}

// Batch returns the batch built so far, nodes and edges in the order they were first added.
func (b *Builder) Batch() graph.Batch { return b.batch }

// MergeProps merges what another mention of a node or edge says (src) into what the batch
// holds (dst): a property dst lacks is set; lists are united (AppendUnique); the higher
// severity (severity.Rank), the higher EPSS, and a finding status OPEN win; kev is true when
// either says so; cvssScore and cvssVector are a pair: the higher score wins with its vector,
// and a vector is only filled in for the same score (or when neither has a score). Otherwise the
// value already there stays.
func MergeProps(dst, src map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(src)) {
		if k == "cvssScore" || k == "cvssVector" {
			continue // a pair, below
		}
		v := src[k]
		old, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		switch k {
		case "severity":
			ns, _ := v.(string)
			olds, _ := old.(string)
			if severity.Rank(ns) > severity.Rank(olds) {
				dst[k] = v
			}
		case "status":
			if v == StatusOpen { // a finding open anywhere is open
				dst[k] = v
			}
		case "epss":
			nf, _ := v.(float64)
			of, _ := old.(float64)
			dst[k] = max(nf, of)
		case "kev":
			nb, _ := v.(bool)
			ob, _ := old.(bool)
			dst[k] = nb || ob
		default:
			ol, oldList := old.([]string)
			nl, newList := v.([]string)
			if oldList && newList {
				dst[k] = AppendUnique(slices.Clone(ol), nl...)
			}
		}
	}
	nsc, hasNew := src["cvssScore"].(float64)
	osc, hasOld := dst["cvssScore"].(float64)
	switch {
	case hasNew && (!hasOld || nsc > osc):
		dst["cvssScore"] = nsc
		delete(dst, "cvssVector")
		if vec, ok := src["cvssVector"]; ok {
			dst["cvssVector"] = vec
		}
	case hasNew && nsc == osc && dst["cvssVector"] == nil && src["cvssVector"] != nil,
		!hasNew && !hasOld && dst["cvssVector"] == nil && src["cvssVector"] != nil:
		dst["cvssVector"] = src["cvssVector"]
	}
}

// AppendUnique appends the values of add that list lacks, empty ones excepted, as long as list
// has fewer than MaxListLen items.
func AppendUnique(list []string, add ...string) []string {
	for _, s := range add {
		if s != "" && len(list) < MaxListLen && !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

// Compact trims the strings of l and drops the empty and repeated ones, keeping the order. It
// returns a new slice.
func Compact(l []string) []string {
	seen := make(map[string]bool, len(l))
	out := l[:0:0]
	for _, s := range l {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// ValidKey reports whether a natural key can be written: not empty, at most MaxKeyLen bytes,
// UTF-8.
func ValidKey(key string) bool {
	return key != "" && len(key) <= MaxKeyLen && utf8.ValidString(key)
}

// Fingerprint is a natural key hashed from its parts (hex SHA-256), each part length-prefixed
// so that no two lists of parts collide.
func Fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
