package manifest_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
	"github.com/sectwin/sectwin/manifest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// exampleIn parses the example and points it at a fresh twin of this test.
func exampleIn(t *testing.T, twin string) *manifest.Manifest {
	m := parseExample(t)
	m.Metadata.Twin = twin
	return m
}

func stats(t *testing.T, db *graph.DB, twin string) graph.Stats {
	t.Helper()
	st, err := db.Stats(ctxT(t), twin)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func sameStats(a, b graph.Stats) bool {
	return maps.Equal(a.Nodes, b.Nodes) && maps.Equal(a.Edges, b.Edges)
}

// dropService removes a service and everything that refers to it from a manifest.
func dropService(m *manifest.Manifest, name string) {
	s := &m.Spec
	s.Services = slices.DeleteFunc(s.Services, func(v manifest.Service) bool { return v.Name == name })
	s.Reaches = slices.DeleteFunc(s.Reaches, func(r manifest.Reach) bool { return r.From.Service == name || r.To.Service == name })
	s.DataFlows = slices.DeleteFunc(s.DataFlows, func(f manifest.DataFlow) bool { return f.From.Service == name || f.To.Service == name })
	for i := range s.Identities {
		s.Identities[i].Access = slices.DeleteFunc(s.Identities[i].Access, func(a manifest.Access) bool { return a.Service == name })
	}
}

func TestApplyingTheExampleTwiceChangesNothing(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := ctxT(t)
	twin := testenv.Twin(t, db)
	m := exampleIn(t, twin)
	b := m.Batch()

	res, err := manifest.Apply(ctx, db, m, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NodesCreated != len(b.Nodes) || res.EdgesCreated != len(b.Edges) || res.NodesUpdated+res.EdgesUpdated+res.NodesDeleted+res.EdgesDeleted != 0 {
		t.Fatalf("first apply: %+v, want %d nodes and %d edges created", res, len(b.Nodes), len(b.Edges))
	}
	first := stats(t, db, twin)
	wantNodes, wantEdges := count(b)
	if !maps.Equal(first.Nodes, wantNodes) || !maps.Equal(first.Edges, wantEdges) {
		t.Fatalf("stats %+v\nwant nodes %v edges %v", first, wantNodes, wantEdges)
	}
	t.Logf("example in Neo4j: %d nodes, %d edges", first.TotalNodes(), first.TotalEdges())

	twins, err := (graph.Twins{DB: db}).List(ctx, []string{twin}, false)
	if err != nil || len(twins) != 1 || twins[0].Description != m.Metadata.Description {
		t.Fatalf("twin %+v, %v", twins, err)
	}

	for _, opt := range []manifest.Options{{}, {Prune: true}} {
		res, err = manifest.Apply(ctx, db, exampleIn(t, twin), opt)
		if err != nil {
			t.Fatal(err)
		}
		if res.NodesCreated+res.EdgesCreated+res.NodesDeleted+res.EdgesDeleted != 0 || res.NodesUpdated != len(b.Nodes) || res.EdgesUpdated != len(b.Edges) {
			t.Errorf("re-apply %+v: %+v, want nothing created or deleted", opt, res)
		}
		if again := stats(t, db, twin); !sameStats(first, again) {
			t.Errorf("re-apply %+v changed the stats: %+v → %+v", opt, first, again)
		}
	}

	nodes, err := db.Nodes(ctx, twin, graph.LabelService, []string{"signal-timing-service"})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := nodes["signal-timing-service"].(*graph.Service)
	if !ok || !s.CrownJewel || s.Criticality != "CRITICAL" || !slices.Equal(s.Provenance.Sources, []string{"manifest:traffic-signals"}) {
		t.Errorf("signal-timing-service %+v", nodes["signal-timing-service"])
	}
}

func TestPruneRemovesWhatTheManifestNoLongerDeclares(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := ctxT(t)
	twin := testenv.Twin(t, db)
	if _, err := manifest.Apply(ctx, db, exampleIn(t, twin), manifest.Options{}); err != nil {
		t.Fatal(err)
	}
	// Another source also knows the log pipeline.
	if _, err := db.Write(ctx, twin, graph.Batch{Nodes: []graph.NodeRow{{Label: graph.LabelService, Key: "log-pipeline"}}},
		graph.WriteOptions{Source: "test:other"}); err != nil {
		t.Fatal(err)
	}
	before := stats(t, db, twin)

	m := exampleIn(t, twin)
	dropService(m, "vpn-gateway")
	dropService(m, "log-pipeline")
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	b := m.Batch()

	// Without prune, what the manifest no longer declares stays.
	res, err := manifest.Apply(ctx, db, m, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NodesDeleted+res.EdgesDeleted+res.NodesCreated+res.EdgesCreated != 0 {
		t.Errorf("apply without prune: %+v", res)
	}
	if after := stats(t, db, twin); !sameStats(before, after) {
		t.Errorf("apply without prune changed the stats: %+v → %+v", before, after)
	}
	services := func() map[string]graph.Node {
		nodes, err := db.Nodes(ctx, twin, graph.LabelService, []string{"vpn-gateway", "log-pipeline", "api-gateway"})
		if err != nil {
			t.Fatal(err)
		}
		return nodes
	}
	if n := services(); len(n) != 3 {
		t.Fatalf("services before prune: %v", slices.Collect(maps.Keys(n)))
	}

	// With prune, it goes, with its edges; what another source declared only loses this source.
	res, err = manifest.Apply(ctx, db, m, manifest.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	after := stats(t, db, twin)
	if res.NodesDeleted != 1 || res.NodesCreated+res.EdgesCreated != 0 {
		t.Errorf("apply with prune: %+v", res)
	}
	if after.TotalNodes() != len(b.Nodes)+1 || after.TotalEdges() != len(b.Edges) || after.Nodes["Service"] != before.Nodes["Service"]-1 {
		t.Errorf("after prune %+v; want %d nodes (the manifest's and log-pipeline), %d edges", after, len(b.Nodes)+1, len(b.Edges))
	}
	if res.EdgesDeleted != before.TotalEdges()-after.TotalEdges() || res.EdgesDeleted == 0 {
		t.Errorf("%d edges deleted, stats say %d", res.EdgesDeleted, before.TotalEdges()-after.TotalEdges())
	}
	n := services()
	if _, ok := n["vpn-gateway"]; ok {
		t.Error("vpn-gateway survived the prune")
	}
	if lp, ok := n["log-pipeline"].(*graph.Service); !ok || !slices.Equal(lp.Provenance.Sources, []string{"test:other"}) {
		t.Errorf("log-pipeline after prune: %+v", n["log-pipeline"])
	}
	if _, ok := n["api-gateway"]; !ok {
		t.Error("api-gateway was pruned")
	}
	if n := edgesOf(t, db, twin, "log-pipeline"); n != 0 {
		t.Errorf("log-pipeline kept %d edges", n)
	}
}

// edgesOf counts the relationships of a service, either direction.
func edgesOf(t *testing.T, db *graph.DB, twin, service string) int64 {
	t.Helper()
	out, err := db.ReadTx(ctxT(t), func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(context.Background(), "MATCH (:Service {twin: $twin, name: $name})-[r]-() RETURN count(r)",
			map[string]any{"twin": twin, "name": service})
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(context.Background())
		if err != nil {
			return nil, err
		}
		return rec.Values[0], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.(int64)
}

func TestInvalidManifestWritesNothing(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := ctxT(t)
	twins := graph.Twins{DB: db}

	t.Run("new twin", func(t *testing.T) {
		twin := testenv.Twin(t, db)
		m := exampleIn(t, twin)
		m.Spec.Services = append(m.Spec.Services, manifest.Service{Name: "ghost-service", Hosts: []string{"ghost-host"}})
		_, err := manifest.Apply(ctx, db, m, manifest.Options{Prune: true})
		var me *manifest.Error
		if !errors.As(err, &me) || len(me.Problems) != 1 || me.Problems[0].Field != "spec.services[21].hosts[0]" {
			t.Fatalf("err = %v", err)
		}
		if ok, err := twins.Exists(ctx, twin); ok || err != nil {
			t.Errorf("the twin was created: %v %v", ok, err)
		}
		if st := stats(t, db, twin); st.TotalNodes()+st.TotalEdges() != 0 {
			t.Errorf("wrote %+v", st)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		twin := testenv.Twin(t, db)
		res, err := manifest.Apply(ctx, db, exampleIn(t, twin), manifest.Options{DryRun: true, Prune: true})
		if err != nil || res.NodesCreated+res.EdgesCreated+res.NodesUpdated+len(res.Changed) != 0 {
			t.Fatalf("dry run: %+v, %v", res, err)
		}
		if ok, _ := twins.Exists(ctx, twin); ok {
			t.Error("a dry run created the twin")
		}
		if _, err := manifest.Apply(ctx, nil, exampleIn(t, twin), manifest.Options{DryRun: true}); err != nil {
			t.Errorf("a dry run needs no database: %v", err)
		}
	})
	t.Run("existing twin", func(t *testing.T) {
		twin := testenv.Twin(t, db)
		if _, err := manifest.Apply(ctx, db, exampleIn(t, twin), manifest.Options{}); err != nil {
			t.Fatal(err)
		}
		before := stats(t, db, twin)
		m := exampleIn(t, twin)
		m.Metadata.Description = "changed"
		m.Spec.Services = m.Spec.Services[:3] // would prune most of the twin
		m.Spec.Services[0].Runs = []string{"no-such-artifact"}
		if _, err := manifest.Apply(ctx, db, m, manifest.Options{Prune: true}); err == nil {
			t.Fatal("an invalid manifest applied")
		}
		if after := stats(t, db, twin); !sameStats(before, after) {
			t.Errorf("a failed apply changed the twin: %+v → %+v", before, after)
		}
		list, _ := twins.List(ctx, []string{twin}, false)
		if len(list) != 1 || list[0].Description == "changed" {
			t.Errorf("a failed apply changed the twin's description: %+v", list)
		}
	})
}
