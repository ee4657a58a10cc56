package graph_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func nan() float64 { return math.NaN() }

func comp(purl, name string, extra ...any) graph.NodeRow {
	props := map[string]any{"name": name}
	for i := 0; i+1 < len(extra); i += 2 {
		props[extra[i].(string)] = extra[i+1]
	}
	return graph.NodeRow{Label: graph.LabelComponent, Key: purl, Props: props}
}

func ref(label, key string) graph.NodeRef { return graph.NodeRef{Label: label, Key: key} }

func edge(typ string, from, to graph.NodeRef, props ...any) graph.EdgeRow {
	p := map[string]any{}
	for i := 0; i+1 < len(props); i += 2 {
		p[props[i].(string)] = props[i+1]
	}
	return graph.EdgeRow{Type: typ, From: from, To: to, Props: p}
}

func TestEveryLabelHasACompositeKeyConstraint(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := ctxT(t)
	got, err := db.Constraints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range graph.Labels() {
		k, _ := graph.KindOf(l)
		want := l + "(twin," + k.Key + ")"
		if !slices.Contains(got, want) {
			t.Errorf("no uniqueness constraint %s; have %v", want, got)
		}
	}
}

func TestWriteIsIdempotentAndRecordsProvenance(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := ctxT(t)
	twin := testenv.NewTwin(t, db)
	a, b := "pkg:npm/a@1.0.0", "pkg:npm/b@2.0.0"
	batch := graph.Batch{
		Nodes: []graph.NodeRow{comp(a, "a", "version", "1.0.0", "licenses", []any{"MIT"}), comp(b, "b")},
		Edges: []graph.EdgeRow{edge("DEPENDS_ON", ref("Component", a), ref("Component", b), "scope", "runtime", "direct", true)},
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := db.Write(ctx, twin, batch, graph.WriteOptions{Source: "test:one", Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if res.NodesCreated != 2 || res.EdgesCreated != 1 || res.NodesUpdated != 0 {
		t.Fatalf("first write: %+v", res)
	}
	t1 := t0.Add(time.Hour)
	res, err = db.Write(ctx, twin, batch, graph.WriteOptions{Source: "test:two", Now: t1})
	if err != nil {
		t.Fatal(err)
	}
	if res.NodesCreated != 0 || res.EdgesCreated != 0 || res.NodesUpdated != 2 || res.EdgesUpdated != 1 {
		t.Fatalf("second write: %+v", res)
	}
	st, err := db.Stats(ctx, twin)
	if err != nil {
		t.Fatal(err)
	}
	if st.TotalNodes() != 2 || st.TotalEdges() != 1 {
		t.Fatalf("stats after two writes: %+v", st)
	}
	nodes, err := db.Nodes(ctx, twin, graph.LabelComponent, []string{a, "pkg:npm/absent@1"})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := nodes[a].(*graph.Component)
	if !ok || len(nodes) != 1 {
		t.Fatalf("Nodes: %#v", nodes)
	}
	if c.Version != "1.0.0" || !slices.Equal(c.Licenses, []string{"MIT"}) || c.Twin != twin {
		t.Errorf("decoded %+v", c)
	}
	if !slices.Equal(c.Provenance.Sources, []string{"test:one", "test:two"}) || !c.Provenance.FirstSeen.Equal(t0) || !c.Provenance.LastSeen.Equal(t1) {
		t.Errorf("provenance %+v", c.Provenance)
	}
	// A partial update keeps the properties it does not name.
	if _, err := db.Write(ctx, twin, graph.Batch{Nodes: []graph.NodeRow{{Label: "Component", Key: a, Props: map[string]any{"supplier": "ACME"}}}},
		graph.WriteOptions{Source: "test:one"}); err != nil {
		t.Fatal(err)
	}
	nodes, _ = db.Nodes(ctx, twin, graph.LabelComponent, []string{a})
	if c := nodes[a].(*graph.Component); c.Version != "1.0.0" || c.Supplier != "ACME" {
		t.Errorf("after partial update %+v", c)
	}
}

func TestWriteRejectsBadBatchesAndWritesNothing(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := ctxT(t)
	twin := testenv.NewTwin(t, db)
	ok := comp("pkg:npm/ok@1", "ok")
	tests := []struct {
		name  string
		batch graph.Batch
		want  string
	}{
		{"unknown label", graph.Batch{Nodes: []graph.NodeRow{ok, {Label: "Bogus", Key: "x"}}}, `nodes[1]: unknown node type "Bogus"`},
		{"twin label", graph.Batch{Nodes: []graph.NodeRow{{Label: "Twin", Key: "x"}}}, `unknown node type "Twin"`},
		{"empty key", graph.Batch{Nodes: []graph.NodeRow{{Label: "Component"}}}, "Component.purl is required"},
		{"unknown prop", graph.Batch{Nodes: []graph.NodeRow{comp("pkg:npm/x@1", "x", "colour", "red")}}, "nodes[0].props.colour: unknown property"},
		{"meta prop", graph.Batch{Nodes: []graph.NodeRow{comp("pkg:npm/x@1", "x", "twin", "other")}}, "nodes[0].props.twin: unknown property"},
		{"wrong type", graph.Batch{Nodes: []graph.NodeRow{{Label: "Vulnerability", Key: "CVE-1", Props: map[string]any{"cvssScore": "high"}}}}, "cvssScore: want a number"},
		{"NaN", graph.Batch{Nodes: []graph.NodeRow{{Label: "Vulnerability", Key: "CVE-1", Props: map[string]any{"epss": nan()}}}}, "finite"},
		{"bad pair", graph.Batch{Nodes: []graph.NodeRow{ok}, Edges: []graph.EdgeRow{edge("RUNS", ref("Component", "pkg:npm/ok@1"), ref("Component", "pkg:npm/ok@1"))}}, "RUNS cannot join Component to Component"},
		{"missing key prop", graph.Batch{Edges: []graph.EdgeRow{edge("REACHES", ref("Zone", "a"), ref("Zone", "b"), "proto", "tcp")}}, "edges[0].props.port: required for REACHES"},
		{"unknown edge", graph.Batch{Edges: []graph.EdgeRow{edge("OWNS", ref("Zone", "a"), ref("Zone", "b"))}}, `unknown relationship "OWNS"`},
		{"long key", graph.Batch{Nodes: []graph.NodeRow{comp(strings.Repeat("x", 3000), "x")}}, "longer than 2048"},
		{"non-UTF-8 key", graph.Batch{Nodes: []graph.NodeRow{comp("pkg:npm/\xff@1", "x")}}, "not valid UTF-8"},
		{"non-UTF-8 value", graph.Batch{Nodes: []graph.NodeRow{comp("pkg:npm/x@1", "\xc3\x28")}}, "nodes[0].props.name: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Write(ctx, twin, tt.batch, graph.WriteOptions{Source: "test"})
			var ve *graph.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a ValidationError containing %q", err, tt.want)
			}
		})
	}
	t.Run("missing endpoint", func(t *testing.T) {
		_, err := db.Write(ctx, twin, graph.Batch{
			Nodes: []graph.NodeRow{ok},
			Edges: []graph.EdgeRow{edge("DEPENDS_ON", ref("Component", "pkg:npm/ok@1"), ref("Component", "pkg:npm/ghost@1"))},
		}, graph.WriteOptions{Source: "test"})
		var me *graph.MissingNodesError
		if !errors.As(err, &me) || len(me.Missing) != 1 || me.Missing[0].Key != "pkg:npm/ghost@1" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown twin", func(t *testing.T) {
		_, err := db.Write(ctx, testenv.RandomName("nope"), graph.Batch{Nodes: []graph.NodeRow{ok}}, graph.WriteOptions{Source: "test"})
		if !errors.Is(err, graph.ErrTwinNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	st, err := db.Stats(ctx, twin)
	if err != nil {
		t.Fatal(err)
	}
	if st.TotalNodes() != 0 {
		t.Fatalf("failed writes left %v", st.Nodes)
	}
}

func TestPruneRemovesOnlyWhatTheSourceNoLongerDeclares(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := ctxT(t)
	twin := testenv.NewTwin(t, db)
	zones := func(names ...string) []graph.NodeRow {
		var out []graph.NodeRow
		for _, n := range names {
			out = append(out, graph.NodeRow{Label: "Zone", Key: n})
		}
		return out
	}
	reach := func(a, b string, port int) graph.EdgeRow {
		return edge("REACHES", ref("Zone", a), ref("Zone", b), "port", port, "proto", "tcp")
	}
	first := graph.Batch{Nodes: zones("dmz", "app", "db"), Edges: []graph.EdgeRow{reach("dmz", "app", 443), reach("app", "db", 5432), reach("app", "db", 22)}}
	if _, err := db.Write(ctx, twin, first, graph.WriteOptions{Source: "manifest:x", Prune: true}); err != nil {
		t.Fatal(err)
	}
	// Another source also knows the db zone.
	if _, err := db.Write(ctx, twin, graph.Batch{Nodes: zones("db")}, graph.WriteOptions{Source: "other"}); err != nil {
		t.Fatal(err)
	}
	second := graph.Batch{Nodes: zones("dmz", "app"), Edges: []graph.EdgeRow{reach("dmz", "app", 443)}}
	res, err := db.Write(ctx, twin, second, graph.WriteOptions{Source: "manifest:x", Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.EdgesDeleted != 2 || res.NodesDeleted != 0 {
		t.Errorf("prune result %+v", res)
	}
	nodes, _ := db.Nodes(ctx, twin, "Zone", []string{"db", "app"})
	if z := nodes["db"].(*graph.Zone); !slices.Equal(z.Provenance.Sources, []string{"other"}) {
		t.Errorf("db zone sources %v, want [other]", z.Provenance.Sources)
	}
	// Applying the same declaration again changes nothing.
	before, _ := db.Stats(ctx, twin)
	res, err = db.Write(ctx, twin, second, graph.WriteOptions{Source: "manifest:x", Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := db.Stats(ctx, twin)
	if res.NodesDeleted+res.EdgesDeleted+res.NodesCreated+res.EdgesCreated != 0 || before.TotalNodes() != after.TotalNodes() || before.TotalEdges() != after.TotalEdges() {
		t.Errorf("re-apply changed things: %+v, %v → %v", res, before, after)
	}
	// Declaring nothing removes the source's nodes, but not the other source's.
	if _, err := db.Write(ctx, twin, graph.Batch{}, graph.WriteOptions{Source: "manifest:x", Prune: true}); err != nil {
		t.Fatal(err)
	}
	st, _ := db.Stats(ctx, twin)
	if st.TotalNodes() != 1 || st.Nodes["Zone"] != 1 || st.TotalEdges() != 0 {
		t.Errorf("after empty prune: %+v", st)
	}
}

func TestPagesAreStableAndMatchBruteForce(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := ctxT(t)
	twin := testenv.NewTwin(t, db)
	var rows []graph.NodeRow
	sevs := []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}
	for i := range 57 {
		props := map[string]any{"severity": sevs[i%4], "kev": i%5 == 0}
		if i%7 != 0 { // some without a score: they sort as -1
			props["cvssScore"] = float64(i%10) + 0.5
		}
		rows = append(rows, graph.NodeRow{Label: "Vulnerability", Key: fmt.Sprintf("CVE-2026-%04d", (i*37)%100), Props: props})
	}
	if _, err := db.Write(ctx, twin, graph.Batch{Nodes: rows}, graph.WriteOptions{Source: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		orderBy string
		desc    bool
		conds   []graph.Cond
		first   int
	}{
		{"by key", "", false, nil, 10},
		{"by key desc", "", true, nil, 7},
		{"by score", "cvssScore", false, nil, 6},
		{"by score desc filtered", "cvssScore", true, []graph.Cond{{Prop: "severity", Op: graph.OpIn, Value: []string{"HIGH", "CRITICAL"}}}, 4},
		{"kev only", "severity", false, []graph.Cond{{Prop: "kev", Op: graph.OpEq, Value: true}}, 3},
		{"prefix", "", false, []graph.Cond{{Prop: "vulnerabilityId", Op: graph.OpPrefix, Value: "CVE-2026-00"}}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			after := ""
			total := -1
			for page := 0; ; page++ {
				p, err := db.Page(ctx, graph.PageQuery{Twin: twin, Label: "Vulnerability", Conds: tt.conds, OrderBy: tt.orderBy, Desc: tt.desc, After: after, First: tt.first, Count: page == 0})
				if err != nil {
					t.Fatal(err)
				}
				if page == 0 {
					total = p.Total
				}
				for _, n := range p.Nodes {
					got = append(got, n.Ref().Key)
				}
				if !p.HasNextPage {
					break
				}
				after = p.Cursors[len(p.Cursors)-1]
			}
			want := bruteForce(rows, tt.orderBy, tt.desc, tt.conds)
			if !slices.Equal(got, want) {
				t.Errorf("pages\n got %v\nwant %v", got, want)
			}
			if total != len(want) {
				t.Errorf("total %d, want %d", total, len(want))
			}
		})
	}
	if _, err := db.Page(ctx, graph.PageQuery{Twin: twin, Label: "Vulnerability", After: "not-a-cursor", First: 5}); !errors.Is(err, graph.ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

// bruteForce orders and filters rows in Go the way Page should.
func bruteForce(rows []graph.NodeRow, orderBy string, desc bool, conds []graph.Cond) []string {
	var keep []graph.NodeRow
	for _, r := range rows {
		ok := true
		for _, c := range conds {
			v := r.Props[c.Prop]
			if c.Prop == "vulnerabilityId" {
				v = r.Key
			}
			switch c.Op {
			case graph.OpEq:
				ok = ok && v == c.Value
			case graph.OpIn:
				ok = ok && slices.Contains(c.Value.([]string), v.(string))
			case graph.OpPrefix:
				ok = ok && strings.HasPrefix(v.(string), c.Value.(string))
			}
		}
		if ok {
			keep = append(keep, r)
		}
	}
	sortVal := func(r graph.NodeRow) any {
		switch orderBy {
		case "cvssScore":
			if v, ok := r.Props["cvssScore"].(float64); ok {
				return v
			}
			return -1.0
		case "severity":
			return r.Props["severity"].(string)
		}
		return nil
	}
	slices.SortFunc(keep, func(a, b graph.NodeRow) int {
		c := 0
		switch va := sortVal(a).(type) {
		case float64:
			vb := sortVal(b).(float64)
			if va < vb {
				c = -1
			} else if va > vb {
				c = 1
			}
		case string:
			c = strings.Compare(va, sortVal(b).(string))
		}
		if c == 0 {
			c = strings.Compare(a.Key, b.Key)
		}
		if desc {
			c = -c
		}
		return c
	})
	out := []string{}
	for _, r := range keep {
		out = append(out, r.Key)
	}
	return out
}

func TestSupersedeReplacesAnEarlierDocument(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := ctxT(t)
	twin := testenv.NewTwin(t, db)
	a, b, c := "pkg:npm/a@1", "pkg:npm/b@1", "pkg:npm/c@1"
	dep := func(x, y string) graph.EdgeRow { return edge("DEPENDS_ON", ref("Component", x), ref("Component", y)) }
	v1 := graph.Batch{Nodes: []graph.NodeRow{comp(a, "a"), comp(b, "b")}, Edges: []graph.EdgeRow{dep(a, b)}}
	if _, err := db.Write(ctx, twin, v1, graph.WriteOptions{Source: "sbom:v1"}); err != nil {
		t.Fatal(err)
	}
	// A manifest also declares b: it must survive v1 being superseded.
	if _, err := db.Write(ctx, twin, graph.Batch{Nodes: []graph.NodeRow{comp(b, "b")}}, graph.WriteOptions{Source: "manifest:m"}); err != nil {
		t.Fatal(err)
	}
	// A failed replacement removes nothing.
	bad := graph.Batch{Nodes: []graph.NodeRow{comp(a, "a")}, Edges: []graph.EdgeRow{dep(a, "pkg:npm/ghost@1")}}
	if _, err := db.Write(ctx, twin, bad, graph.WriteOptions{Source: "sbom:v2", Supersede: []string{"sbom:v1"}}); err == nil {
		t.Fatal("write with a missing endpoint succeeded")
	}
	if st, _ := db.Stats(ctx, twin); st.TotalNodes() != 2 || st.TotalEdges() != 1 {
		t.Fatalf("a failed replacement changed the twin: %+v", st)
	}
	v2 := graph.Batch{Nodes: []graph.NodeRow{comp(a, "a"), comp(c, "c")}, Edges: []graph.EdgeRow{dep(a, c)}}
	res, err := db.Write(ctx, twin, v2, graph.WriteOptions{Source: "sbom:v2", Supersede: []string{"sbom:v1"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.EdgesDeleted != 1 || res.NodesDeleted != 0 {
		t.Errorf("replace result %+v: want the a→b edge deleted and b kept (the manifest declares it)", res)
	}
	nodes, _ := db.Nodes(ctx, twin, "Component", []string{a, b, c})
	if got := nodes[a].(*graph.Component).Provenance.Sources; !slices.Equal(got, []string{"sbom:v2"}) {
		t.Errorf("a sources %v, want [sbom:v2]", got)
	}
	if got := nodes[b].(*graph.Component).Provenance.Sources; !slices.Equal(got, []string{"manifest:m"}) {
		t.Errorf("b sources %v, want [manifest:m]", got)
	}
	// Without the manifest's claim, b goes when its only document is superseded.
	v3 := graph.Batch{Nodes: []graph.NodeRow{comp(c, "c")}}
	res, err = db.Write(ctx, twin, v3, graph.WriteOptions{Source: "sbom:v3", Supersede: []string{"sbom:v2"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.NodesDeleted != 1 || res.EdgesDeleted != 1 {
		t.Errorf("second replace %+v: want a and a→c removed", res)
	}
	st, _ := db.Stats(ctx, twin)
	if st.Nodes["Component"] != 2 || st.TotalEdges() != 0 {
		t.Errorf("after v3: %+v, want b (manifest) and c", st)
	}
}
