package cyclonedx

import (
	"slices"
	"strings"

	"github.com/sectwin/sectwin/graph"
)

// maxList bounds list properties, as graph does.
const maxList = 1000

// maxText bounds free-text properties (summaries), below graph's 64 KiB limit.
const maxText = 64 << 10

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

func (b *builder) has(label, key string) bool {
	_, ok := b.nodeIdx[graph.NodeRef{Label: label, Key: key}]
	return ok
}

// node adds a node, or merges props into the one already there: values it lacks are set,
// lists are united, and for vulnerabilities the higher CVSS score (with its vector) and the
// higher severity win. Otherwise the first value stays.
func (b *builder) node(label, key string, props map[string]any) {
	ref := graph.NodeRef{Label: label, Key: key}
	i, ok := b.nodeIdx[ref]
	if !ok {
		b.nodeIdx[ref] = len(b.nodes)
		b.nodes = append(b.nodes, graph.NodeRow{Label: label, Key: key, Props: props})
		return
	}
	old := b.nodes[i].Props
	if s, ok := props["cvssScore"].(float64); ok {
		if o, had := old["cvssScore"].(float64); !had || s > o {
			old["cvssScore"] = s
			if v, ok := props["cvssVector"]; ok {
				old["cvssVector"] = v
			} else {
				delete(old, "cvssVector")
			}
		}
	}
	for k, v := range props {
		switch k {
		case "cvssScore", "cvssVector":
			if _, had := old[k]; !had {
				old[k] = v
			}
		case "severity":
			if o, had := old[k].(string); !had || severityRank(v.(string)) > severityRank(o) {
				old[k] = v
			}
		default:
			old[k] = mergeValue(old[k], v)
		}
	}
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
	old := b.edges[i].Props
	for pk, v := range props {
		old[pk] = mergeValue(old[pk], v)
	}
}

func (b *builder) batch() graph.Batch {
	return graph.Batch{Nodes: b.nodes, Edges: b.edges}
}

func mergeValue(old, v any) any {
	switch o := old.(type) {
	case nil:
		return v
	case []string:
		if n, ok := v.([]string); ok {
			return appendUnique(o, n...)
		}
	case string:
		if o == "" {
			return v
		}
	}
	return old
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

func severityRank(s string) int {
	return map[string]int{"UNKNOWN": 0, "NONE": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}[s]
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
