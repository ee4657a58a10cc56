package attackanalysis_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/attackanalysis"
	"github.com/sectwin/sectwin/analytics/attackpath"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// step is one engine edge named by its ends, for comparing projections with what was written.
type step struct {
	from, to string
	p        float64
}

func steps(s *attackanalysis.Snapshot) []step {
	g := s.Graph()
	var out []step
	for e := range g.NumEdges() {
		id := attackpath.EdgeID(e)
		out = append(out, step{s.Ref(g.EdgeFrom(id)).Key, s.Ref(g.EdgeTo(id)).Key, g.EdgeP(id)})
	}
	slices.SortFunc(out, func(a, b step) int {
		if c := strings.Compare(a.from, b.from); c != 0 {
			return c
		}
		return strings.Compare(a.to, b.to)
	})
	return out
}

// TestProjectionReadsWhatWasStored writes attack steps of a rule the analysis does not know (as
// the benchmark does), across enough nodes that both concurrent readers get some, plus one step
// into a node outside the attack graph. Deriving keeps the unknown steps, and both the derived
// snapshot and the read-only projection hold exactly the stored steps between attack-graph
// nodes.
func TestProjectionReadsWhatWasStored(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	ctx := t.Context()
	var rows []map[string]any
	var want []step
	for i := range 40 {
		from, to := fmt.Sprintf("svc-%02d", i), fmt.Sprintf("svc-%02d", (i*7+3)%40)
		p := float64(i%9+1) / 10
		rows = append(rows, map[string]any{"f": from, "t": to, "p": p})
		want = append(want, step{from, to, p})
	}
	want = append(want, step{"edge", "svc-00", 0.5})
	err := db.AutoCommit(ctx, `UNWIND range(0, 39) AS i
CREATE (:Service {twin: $twin, name: 'svc-' + CASE WHEN i < 10 THEN '0' ELSE '' END + toString(i)})
WITH count(*) AS made
CREATE (z:Zone {twin: $twin, name: 'edge', internet: true})
CREATE (:Vulnerability {twin: $twin, id: 'CVE-0000-0001'})
WITH z
MATCH (s:Service {twin: $twin, name: 'svc-00'}) CREATE (z)-[:ATTACK {twin: $twin, rule: 'synthetic', p: 0.5, hash: ''}]->(s)
WITH count(*) AS made
UNWIND $rows AS row
MATCH (a:Service {twin: $twin, name: row.f}), (b:Service {twin: $twin, name: row.t})
CREATE (a)-[:ATTACK {twin: $twin, rule: 'synthetic', p: row.p, hash: ''}]->(b)
WITH count(*) AS made
MATCH (a:Service {twin: $twin, name: 'svc-01'}), (v:Vulnerability {twin: $twin})
CREATE (a)-[:ATTACK {twin: $twin, rule: 'synthetic', p: 0.9, hash: ''}]->(v)`, map[string]any{"twin": twin, "rows": rows})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want, func(a, b step) int {
		if c := strings.Compare(a.from, b.from); c != 0 {
			return c
		}
		return strings.Compare(a.to, b.to)
	})

	an := attackanalysis.New(db, zerolog.Nop(), attackanalysis.Options{})
	derived, err := an.Refresh(ctx, twin)
	if err != nil {
		t.Fatal(err)
	}
	if d := derived.Derive; d.Created != 0 || d.Updated != 0 || d.Deleted != 0 {
		t.Errorf("deriving touched steps of an unknown rule: %+v", d)
	}
	projected, err := an.Project(ctx, twin)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*attackanalysis.Snapshot{"derived": derived, "projected": projected} {
		if s.Nodes() != 41 {
			t.Errorf("%s: %d nodes, want 40 services and 1 zone", name, s.Nodes())
		}
		if got := steps(s); !slices.Equal(got, want) {
			t.Errorf("%s steps:\n got %v\nwant %v", name, got, want)
		}
		if i, ok := s.Lookup(graph.NodeRef{Label: graph.LabelZone, Key: "edge"}); !ok || !s.Node(i).Internet {
			t.Errorf("%s: the internet zone is missing or not an entry", name)
		}
	}
}
