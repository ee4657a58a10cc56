package batch_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/internal/batch"
)

func TestMergeProps(t *testing.T) {
	long := make([]string, batch.MaxListLen)
	for i := range long {
		long[i] = strconv.Itoa(i)
	}
	tests := []struct {
		name           string
		dst, src, want map[string]any
	}{
		{name: "missing values are filled in",
			dst:  map[string]any{"name": "a"},
			src:  map[string]any{"name": "b", "version": "1"},
			want: map[string]any{"name": "a", "version": "1"}},
		{name: "lists are united in order",
			dst:  map[string]any{"licenses": []string{"MIT", "0BSD"}},
			src:  map[string]any{"licenses": []string{"Apache-2.0", "MIT", ""}},
			want: map[string]any{"licenses": []string{"MIT", "0BSD", "Apache-2.0"}}},
		{name: "a united list stops at MaxListLen",
			dst:  map[string]any{"aliases": long},
			src:  map[string]any{"aliases": []string{"extra"}},
			want: map[string]any{"aliases": long}},
		{name: "a list does not replace a scalar",
			dst:  map[string]any{"x": "a"},
			src:  map[string]any{"x": []string{"b"}},
			want: map[string]any{"x": "a"}},
		{name: "higher severity wins",
			dst:  map[string]any{"severity": "LOW"},
			src:  map[string]any{"severity": "HIGH"},
			want: map[string]any{"severity": "HIGH"}},
		{name: "lower severity loses",
			dst:  map[string]any{"severity": "CRITICAL"},
			src:  map[string]any{"severity": "MEDIUM"},
			want: map[string]any{"severity": "CRITICAL"}},
		{name: "any known severity beats UNKNOWN",
			dst:  map[string]any{"severity": "UNKNOWN"},
			src:  map[string]any{"severity": "NONE"},
			want: map[string]any{"severity": "NONE"}},
		{name: "OPEN wins",
			dst:  map[string]any{"status": "FIXED"},
			src:  map[string]any{"status": "OPEN"},
			want: map[string]any{"status": "OPEN"}},
		{name: "other statuses: the first stays",
			dst:  map[string]any{"status": "affected"},
			src:  map[string]any{"status": "not_affected"},
			want: map[string]any{"status": "affected"}},
		{name: "higher EPSS wins",
			dst:  map[string]any{"epss": 0.2},
			src:  map[string]any{"epss": 0.7},
			want: map[string]any{"epss": 0.7}},
		{name: "lower EPSS loses",
			dst:  map[string]any{"epss": 0.7},
			src:  map[string]any{"epss": 0.2},
			want: map[string]any{"epss": 0.7}},
		{name: "kev true anywhere",
			dst:  map[string]any{"kev": false},
			src:  map[string]any{"kev": true},
			want: map[string]any{"kev": true}},
		{name: "kev stays true",
			dst:  map[string]any{"kev": true},
			src:  map[string]any{"kev": false},
			want: map[string]any{"kev": true}},
		{name: "higher score wins with its vector",
			dst:  map[string]any{"cvssScore": 5.0, "cvssVector": "A"},
			src:  map[string]any{"cvssScore": 9.8, "cvssVector": "B"},
			want: map[string]any{"cvssScore": 9.8, "cvssVector": "B"}},
		{name: "higher score without a vector drops the old vector",
			dst:  map[string]any{"cvssScore": 5.0, "cvssVector": "A"},
			src:  map[string]any{"cvssScore": 9.8},
			want: map[string]any{"cvssScore": 9.8}},
		{name: "lower score loses with its vector",
			dst:  map[string]any{"cvssScore": 9.8},
			src:  map[string]any{"cvssScore": 5.0, "cvssVector": "B"},
			want: map[string]any{"cvssScore": 9.8}},
		{name: "same score fills in the vector",
			dst:  map[string]any{"cvssScore": 7.5},
			src:  map[string]any{"cvssScore": 7.5, "cvssVector": "B"},
			want: map[string]any{"cvssScore": 7.5, "cvssVector": "B"}},
		{name: "same score keeps the vector there",
			dst:  map[string]any{"cvssScore": 7.5, "cvssVector": "A"},
			src:  map[string]any{"cvssScore": 7.5, "cvssVector": "B"},
			want: map[string]any{"cvssScore": 7.5, "cvssVector": "A"}},
		{name: "a score where there was none",
			dst:  map[string]any{"severity": "HIGH"},
			src:  map[string]any{"cvssScore": 7.5, "cvssVector": "B"},
			want: map[string]any{"severity": "HIGH", "cvssScore": 7.5, "cvssVector": "B"}},
		{name: "a vector alone where there is no score",
			dst:  map[string]any{},
			src:  map[string]any{"cvssVector": "B"},
			want: map[string]any{"cvssVector": "B"}},
		{name: "a vector alone does not join a score",
			dst:  map[string]any{"cvssScore": 7.5},
			src:  map[string]any{"cvssVector": "B"},
			want: map[string]any{"cvssScore": 7.5}},
		{name: "nothing to merge",
			dst:  map[string]any{"direct": true, "scope": "dev"},
			src:  nil,
			want: map[string]any{"direct": true, "scope": "dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch.MergeProps(tt.dst, tt.src)
			if !reflect.DeepEqual(tt.dst, tt.want) {
				t.Errorf("got %v, want %v", tt.dst, tt.want)
			}
		})
	}
}

func TestMergePropsDoesNotAlias(t *testing.T) {
	backing := make([]string, 1, 10)
	backing[0] = "a"
	dst := map[string]any{"l": backing}
	batch.MergeProps(dst, map[string]any{"l": []string{"b"}})
	if got := backing[:2][1]; got != "" {
		t.Errorf("merging wrote %q into the old list's backing array", got)
	}
}

func TestAppendUnique(t *testing.T) {
	full := make([]string, batch.MaxListLen)
	for i := range full {
		full[i] = strconv.Itoa(i)
	}
	tests := []struct {
		list, add, want []string
	}{
		{nil, nil, nil},
		{nil, []string{"a", "", "b", "a"}, []string{"a", "b"}},
		{[]string{"a"}, []string{"b", "a"}, []string{"a", "b"}},
		{[]string{" a"}, []string{"a"}, []string{" a", "a"}}, // no trimming: values are taken as given
		{full, []string{"x"}, full},
		{full[:batch.MaxListLen-1], []string{"x", "y"}, append(append([]string{}, full[:batch.MaxListLen-1]...), "x")},
	}
	for _, tt := range tests {
		if got := batch.AppendUnique(tt.list, tt.add...); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("AppendUnique(%.40v, %v) = %.40v, want %.40v", tt.list, tt.add, got, tt.want)
		}
	}
}

func TestCompact(t *testing.T) {
	tests := []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{"", " "}, []string{}},
		{[]string{" b ", "a", "b", "a ", ""}, []string{"b", "a"}},
	}
	for _, tt := range tests {
		in := append([]string(nil), tt.in...)
		got := batch.Compact(in)
		if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("Compact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !reflect.DeepEqual(in, tt.in) {
			t.Errorf("Compact changed its input: %q", in)
		}
	}
}

func TestValidKey(t *testing.T) {
	tests := map[string]bool{
		"":                                     false,
		"pkg:npm/a@1":                          true,
		strings.Repeat("a", batch.MaxKeyLen):   true,
		strings.Repeat("a", batch.MaxKeyLen+1): false,
		"a\xff":                                false,
	}
	for key, want := range tests {
		if got := batch.ValidKey(key); got != want {
			t.Errorf("ValidKey(%.20q…) = %v, want %v", key, got, want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a := batch.Fingerprint("sarif", "tool", "rule")
	tests := []struct {
		name  string
		parts []string
		same  bool
	}{
		{"same parts", []string{"sarif", "tool", "rule"}, true},
		{"parts joined differently", []string{"sarif", "toolrule"}, false},
		{"a part moved across the boundary", []string{"sarif", "too", "lrule"}, false},
		{"an empty part more", []string{"sarif", "tool", "rule", ""}, false},
	}
	for _, tt := range tests {
		if got := batch.Fingerprint(tt.parts...); (got == a) != tt.same {
			t.Errorf("%s: Fingerprint(%q) = %s, first %s", tt.name, tt.parts, got, a)
		}
	}
	if len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("Fingerprint = %q, want 64 hex digits", a)
	}
}

func TestBuilder(t *testing.T) {
	comp := func(k string) graph.NodeRef { return graph.NodeRef{Label: graph.LabelComponent, Key: k} }
	b := batch.New()
	b.Node(graph.LabelComponent, "a", map[string]any{"name": "a", "licenses": []string{"MIT"}})
	b.Node(graph.LabelComponent, "b", map[string]any{"name": "b"})
	b.Node(graph.LabelComponent, "a", map[string]any{"version": "1", "licenses": []string{"0BSD"}})
	b.Node(graph.LabelVulnerability, "a", map[string]any{"severity": "LOW"}) // another label: another node
	if !b.Has(graph.LabelComponent, "a") || b.Has(graph.LabelComponent, "c") || !b.Has(graph.LabelVulnerability, "a") {
		t.Error("Has is wrong")
	}
	if !b.Edge("DEPENDS_ON", comp("a"), comp("b"), map[string]any{"direct": true}) {
		t.Error("an edge between nodes of the batch was refused")
	}
	if !b.Edge("DEPENDS_ON", comp("a"), comp("b"), map[string]any{"scope": "dev", "direct": false}) {
		t.Error("a repeated edge was refused")
	}
	if b.Edge("DEPENDS_ON", comp("a"), comp("c"), nil) || b.Edge("DEPENDS_ON", comp("c"), comp("a"), nil) {
		t.Error("an edge to a node outside the batch was added")
	}
	want := graph.Batch{
		Nodes: []graph.NodeRow{
			{Label: graph.LabelComponent, Key: "a", Props: map[string]any{"name": "a", "version": "1", "licenses": []string{"MIT", "0BSD"}}},
			{Label: graph.LabelComponent, Key: "b", Props: map[string]any{"name": "b"}},
			{Label: graph.LabelVulnerability, Key: "a", Props: map[string]any{"severity": "LOW"}},
		},
		Edges: []graph.EdgeRow{{Type: "DEPENDS_ON", From: comp("a"), To: comp("b"), Props: map[string]any{"direct": true, "scope": "dev"}}},
	}
	if got := b.Batch(); !reflect.DeepEqual(got, want) {
		t.Errorf("Batch() = %+v\nwant %+v", got, want)
	}
	if got := batch.New().Batch(); got.Nodes != nil || got.Edges != nil {
		t.Errorf("empty builder: %+v", got)
	}
}
