package assurancecase_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/internal/testenv"
)

// gatedEvidence holds the first RunCypher after arm until release is closed.
type gatedEvidence struct {
	assurancecase.TwinEvidence
	mu       sync.Mutex
	armed    bool
	entered  chan struct{}
	released chan struct{}
}

func (g *gatedEvidence) arm() {
	g.mu.Lock()
	g.armed, g.entered, g.released = true, make(chan struct{}), make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedEvidence) RunCypher(ctx context.Context, twin string, q evidence.CypherQuery, accept func(evidence.CypherPlan) error) (evidence.CypherRows, error) {
	g.mu.Lock()
	hold := g.armed
	g.armed = false
	g.mu.Unlock()
	if hold {
		close(g.entered)
		<-g.released
	}
	return g.TwinEvidence.RunCypher(ctx, twin, q, accept)
}

// TestLoadWinsOverAnEvaluationOfTheVersionItReplaces reproduces what a playbook's defeater
// met in CI: a change's re-evaluation of a case's old version was under way when the new
// version was stored and loaded, and stored the old version's statuses after the new ones.
// Here the old version's evaluation is held inside its evidence query while the new version
// loads; the new version's statuses must be what stays stored, and later changes must
// evaluate the new version.
func TestLoadWinsOverAnEvaluationOfTheVersionItReplaces(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := db.AutoCommit(ctx, `CREATE (:Host {twin: $twin, name: 'web-1'})`, map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	store := func(host string) {
		t.Helper()
		files := map[string][]byte{"web.gsn.yaml": []byte(`module:
  name: web
G1:
  text: the host is not quarantined
  supportedBy: [Sn1]
Sn1:
  text: no quarantined host by that name
  sectwinEvidence: {kind: cypher_check, window: 1h, cypher: {query: "MATCH (h:Host {twin: $twin, name: '` + host + `'}) WHERE h.quarantined RETURN h"}}
`)}
		c, err := assurancecase.FromGSN(twin, "web", "web", load(t, files), files, "tester", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SaveAssuranceCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	g1 := func() string {
		t.Helper()
		statuses, err := db.CaseStatuses(ctx, twin, "web")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range statuses {
			if s.Element == "G1" {
				return s.Status
			}
		}
		return ""
	}
	ev := &gatedEvidence{TwinEvidence: assurancecase.TwinEvidence{DB: db}}
	live := assurancecase.NewLive(db, ev, nil, zerolog.Nop(), assurancecase.LiveOptions{})

	// Version 1 is about web-1, which is not quarantined: G1 SUPPORTED.
	store("web-1")
	if _, err := live.Load(ctx, twin, "web"); err != nil {
		t.Fatal(err)
	}
	if s := g1(); s != "SUPPORTED" {
		t.Fatalf("version 1: G1 %s", s)
	}
	// web-1 is quarantined: version 1's re-evaluation would undermine G1. It is held in its query.
	if err := db.AutoCommit(ctx, `MATCH (h:Host {twin: $twin, name: 'web-1'}) SET h.quarantined = true`, map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	change := events.Change{Twin: twin, Op: "test", Nodes: []graph.NodeRef{{Label: graph.LabelHost, Key: "web-1"}}}
	ev.arm()
	applied := make(chan struct{})
	go func() { defer close(applied); live.Apply(ctx, change) }()
	<-ev.entered

	// Version 2 is about web-2, which does not exist: G1 SUPPORTED, whatever version 1 found.
	store("web-2")
	loaded := make(chan error, 1)
	go func() { _, err := live.Load(ctx, twin, "web"); loaded <- err }()
	time.Sleep(300 * time.Millisecond) // long enough for a load that does not wait to finish
	close(ev.released)
	<-applied
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if s := g1(); s != "SUPPORTED" {
		t.Errorf("after version 2 loaded: G1 %s (version 1's evaluation overwrote it)", s)
	}

	// A later change evaluates version 2: web-2, quarantined, undermines G1.
	if err := db.AutoCommit(ctx, `CREATE (:Host {twin: $twin, name: 'web-2', quarantined: true})`, map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	live.Apply(ctx, events.Change{Twin: twin, Op: "test", Nodes: []graph.NodeRef{{Label: graph.LabelHost, Key: "web-2"}}})
	if s := g1(); s != "UNDERMINED" {
		t.Errorf("a change after version 2 loaded: G1 %s", s)
	}
}
