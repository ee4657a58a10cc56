package spdx

import (
	"slices"
	"strings"

	"github.com/sectwin/sectwin/graph"
)

// maxList bounds list properties, as graph does.
const maxList = 1000

// builder collects nodes and edges, merging the rows that share a key so that the batch never
// holds one node or edge twice.
type builder struct {
	nodes   []graph.NodeRow
	nodeIdx map[graph.NodeRef]int
	edges   []graph.EdgeRow
	edgeIdx map[edgeKey]int
}

type edgeKey struct {
	typ      string
	from, to graph.NodeRef
}

func newBuilder() *builder {
	return &builder{nodeIdx: map[graph.NodeRef]int{}, edgeIdx: map[edgeKey]int{}}
}

// node adds a node, or merges props into the one already there: values it lacks are set and
// lists are united; otherwise the first value stays.
func (b *builder) node(label, key string, props map[string]any) {
	ref := graph.NodeRef{Label: label, Key: key}
	i, ok := b.nodeIdx[ref]
	if !ok {
		b.nodeIdx[ref] = len(b.nodes)
		b.nodes = append(b.nodes, graph.NodeRow{Label: label, Key: key, Props: props})
		return
	}
	merge(b.nodes[i].Props, props)
}

// edge adds an edge, or merges props into the one already there (first value wins).
func (b *builder) edge(typ string, from, to graph.NodeRef, props map[string]any) {
	k := edgeKey{typ, from, to}
	i, ok := b.edgeIdx[k]
	if !ok {
		b.edgeIdx[k] = len(b.edges)
		b.edges = append(b.edges, graph.EdgeRow{Type: typ, From: from, To: to, Props: props})
		return
	}
	merge(b.edges[i].Props, props)
}

func (b *builder) batch() graph.Batch {
	return graph.Batch{Nodes: b.nodes, Edges: b.edges}
}

func merge(old, props map[string]any) {
	for k, v := range props {
		switch o := old[k].(type) {
		case nil:
			old[k] = v
		case []string:
			if n, ok := v.([]string); ok {
				old[k] = appendUnique(o, n...)
			}
		case string:
			if o == "" {
				old[k] = v
			}
		}
	}
}

// appendUnique appends the values of add that list lacks, empty ones excepted, up to maxList.
func appendUnique(list []string, add ...string) []string {
	for _, s := range add {
		if s != "" && len(list) < maxList && !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// clean trims s and replaces invalid UTF-8, which graph refuses.
func clean(s string) string {
	return strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
}
