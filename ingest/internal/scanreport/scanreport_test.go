package scanreport_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/batch"
	"github.com/sectwin/sectwin/ingest/internal/scanreport"
)

// finish returns what Finish hands to a document.
func finish(b *scanreport.Builder) *ingest.Document {
	doc := &ingest.Document{}
	b.Finish(doc)
	return doc
}

func paths(ws []ingest.Warning) []string {
	out := []string{}
	for _, w := range ws {
		out = append(out, w.Path)
	}
	return out
}

func TestWarnings(t *testing.T) {
	b := scanreport.NewBuilder()
	for i := range scanreport.MaxWarningsPerKind + 3 {
		b.Warn("a", fmt.Sprintf("a[%d]", i), "a %d", i)
	}
	b.Warn("b", "b", "b %s", "x")
	got := finish(b).Warnings
	if len(got) != scanreport.MaxWarningsPerKind+2 {
		t.Fatalf("%d warnings: %v", len(got), got)
	}
	if got[0] != (ingest.Warning{Path: "a[0]", Message: "a 0"}) || got[scanreport.MaxWarningsPerKind] != (ingest.Warning{Path: "b", Message: "b x"}) {
		t.Errorf("warnings %v", got)
	}
	if last := got[len(got)-1]; last != (ingest.Warning{Message: "3 more warnings of this kind: a"}) {
		t.Errorf("summary %v", last)
	}
	if got := finish(scanreport.NewBuilder()); got.Warnings != nil || got.Components != nil || got.Batch.Nodes != nil || got.Batch.Edges != nil {
		t.Errorf("nothing built: %+v", got)
	}
}

func TestNode(t *testing.T) {
	tests := []struct {
		name, key string
		props     map[string]any
		ok        bool
		want      map[string]any
		warnings  []string
	}{
		{name: "kept as given", key: "k", props: map[string]any{"s": "x", "n": 1.5, "b": false, "l": []string{"a"}},
			ok: true, want: map[string]any{"s": "x", "n": 1.5, "b": false, "l": []string{"a"}}, warnings: []string{}},
		{name: "empty values dropped", key: "k", props: map[string]any{"s": "", "nil": nil, "l": []string{" ", ""}, "nan": math.NaN(), "inf": math.Inf(-1)},
			ok: true, want: map[string]any{}, warnings: []string{}},
		{name: "lists compacted", key: "k", props: map[string]any{"l": []string{" b", "a", "b ", ""}},
			ok: true, want: map[string]any{"l": []string{"b", "a"}}, warnings: []string{}},
		{name: "invalid UTF-8 replaced", key: "k", props: map[string]any{"s": "a\xffb"},
			ok: true, want: map[string]any{"s": "a\uFFFDb"}, warnings: []string{}},
		{name: "long string cut", key: "k", props: map[string]any{"s": strings.Repeat("é", batch.MaxStringLen)},
			ok: true, want: map[string]any{"s": strings.Repeat("é", batch.MaxStringLen/2)}, warnings: []string{"p"}},
		{name: "long list cut", key: "k", props: map[string]any{"l": numbers(batch.MaxListLen + 5)},
			ok: true, want: map[string]any{"l": numbers(batch.MaxListLen)}, warnings: []string{"p"}},
		{name: "empty key", key: "", ok: false, warnings: []string{"p"}},
		{name: "long key", key: strings.Repeat("k", batch.MaxKeyLen+1), ok: false, warnings: []string{"p"}},
		{name: "key not UTF-8", key: "k\xff", ok: false, warnings: []string{"p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := scanreport.NewBuilder()
			if ok := b.Node("p", graph.LabelFinding, tt.key, tt.props); ok != tt.ok {
				t.Fatalf("Node = %v, want %v", ok, tt.ok)
			}
			doc := finish(b)
			nodes := doc.Batch.Nodes
			if !tt.ok {
				if len(nodes) != 0 {
					t.Errorf("nodes %v", nodes)
				}
			} else if len(nodes) != 1 || !reflect.DeepEqual(nodes[0].Props, tt.want) {
				t.Errorf("nodes %v, want props %v", nodes, tt.want)
			}
			if got := paths(doc.Warnings); !reflect.DeepEqual(got, tt.warnings) {
				t.Errorf("warnings at %v, want %v", got, tt.warnings)
			}
		})
	}
}

func numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

func TestComponentsAndEdges(t *testing.T) {
	comp := func(k string) graph.NodeRef { return graph.NodeRef{Label: graph.LabelComponent, Key: k} }
	b := scanreport.NewBuilder()
	b.Component("c[0]", "pkg:npm/a@1", map[string]any{"name": "a", "licenses": []string{"MIT"}})
	b.Component("c[1]", "pkg:npm/b@1", nil)
	b.Component("c[2]", "pkg:npm/a@1", map[string]any{"licenses": []string{"0BSD"}})
	if b.Component("c[3]", "", nil) {
		t.Error("a component without a key was added")
	}
	if !b.Has(graph.LabelComponent, "pkg:npm/b@1") || b.Has(graph.LabelFinding, "pkg:npm/b@1") {
		t.Error("Has is wrong")
	}
	if !b.Edge("e", "DEPENDS_ON", comp("pkg:npm/a@1"), comp("pkg:npm/b@1"), map[string]any{"direct": true, "scope": ""}) {
		t.Error("edge refused")
	}
	// An edge to a node outside the batch is dropped before its properties are looked at.
	if b.Edge("e", "DEPENDS_ON", comp("pkg:npm/a@1"), comp("pkg:npm/c@1"), map[string]any{"s": strings.Repeat("x", batch.MaxStringLen+1)}) {
		t.Error("dangling edge added")
	}
	doc := finish(b)
	if got, want := doc.Components, []string{"pkg:npm/a@1", "pkg:npm/b@1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Components = %v, want %v", got, want)
	}
	bt := doc.Batch
	if len(bt.Nodes) != 2 || !reflect.DeepEqual(bt.Nodes[0].Props, map[string]any{"name": "a", "licenses": []string{"MIT", "0BSD"}}) {
		t.Errorf("nodes %v", bt.Nodes)
	}
	if len(bt.Edges) != 1 || !reflect.DeepEqual(bt.Edges[0].Props, map[string]any{"direct": true}) {
		t.Errorf("edges %v", bt.Edges)
	}
	if got := paths(doc.Warnings); !reflect.DeepEqual(got, []string{"c[3]"}) {
		t.Errorf("warnings at %v", got)
	}
}

func TestPurlFor(t *testing.T) {
	tests := []struct {
		name, declared, pkg, version string
		want                         string
		ok                           bool
		warning                      string // the start of the one warning, "" for none
	}{
		{name: "purl", declared: " pkg:NPM/lodash@4.17.21 ", pkg: "lodash", version: "4.17.21", want: "pkg:npm/lodash@4.17.21", ok: true},
		{name: "unreadable purl", declared: "lodash", pkg: "lodash", version: "4.17.21", want: "pkg:generic/lodash@4.17.21", ok: true, warning: `purl "lodash" is not a package URL`},
		{name: "purl too long", declared: "pkg:npm/" + strings.Repeat("a", 2100), pkg: "a", want: "pkg:generic/a", ok: true, warning: `purl "pkg:npm/aaa`},
		{name: "unreadable purl, no name", declared: "lodash", pkg: " ", warning: `purl "lodash" is not a package URL (`},
		{name: "no purl", pkg: "libc6", version: "2.36-9", want: "pkg:generic/libc6@2.36-9", ok: true, warning: "no purl; used pkg:generic/libc6@2.36-9"},
		{name: "no purl, blank name", pkg: " ", version: "1", warning: "neither a purl nor a package name; skipped"},
		{name: "nothing", warning: "neither a purl nor a package name; skipped"},
		{name: "no purl, long name", pkg: strings.Repeat("n", 3000), version: "1", want: "", ok: true, warning: "no purl; used pkg:generic/nnn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := scanreport.NewBuilder()
			got, ok := b.PurlFor("p", tt.declared, tt.pkg, tt.version)
			if ok != tt.ok || tt.want != "" && got != tt.want {
				t.Errorf("PurlFor = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
			if ok && !batch.ValidKey(got) {
				t.Errorf("key %q cannot be written", got)
			}
			ws := finish(b).Warnings
			switch {
			case tt.warning == "" && len(ws) > 0:
				t.Errorf("warnings %v", ws)
			case tt.warning != "" && (len(ws) != 1 || ws[0].Path != "p" || !strings.HasPrefix(ws[0].Message, tt.warning)):
				t.Errorf("warnings %v, want one at p starting %q", ws, tt.warning)
			}
		})
	}
}

func TestVersionRange(t *testing.T) {
	tests := []struct {
		installed string
		fixed     []string
		want      string
	}{
		{"1.2.3", []string{"1.2.4"}, "<1.2.4"},
		{"", []string{"1.2.4"}, "<1.2.4"},
		{" 1.2.3 ", nil, "=1.2.3"},
		{"1.2.3", []string{"1.2.4", "1.3.1"}, "=1.2.3"},
		{" ", nil, ""},
		{"", []string{"a", "b"}, ""},
	}
	for _, tt := range tests {
		if got := scanreport.VersionRange(tt.installed, tt.fixed); got != tt.want {
			t.Errorf("VersionRange(%q, %q) = %q, want %q", tt.installed, tt.fixed, got, tt.want)
		}
	}
}
