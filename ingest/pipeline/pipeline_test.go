package pipeline_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/sectwin/sectwin/bench/sbomgen"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/formats"
	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/ingest/pipeline"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type env struct {
	p    *pipeline.Pipeline
	db   *graph.DB
	twin string
}

// start runs a pipeline with workers over the real NATS and Neo4j.
func start(t *testing.T, workers int) *env {
	t.Helper()
	db := testenv.Migrated(t)
	b := testenv.NATS(t)
	ctx := t.Context()
	js, err := jobs.Open(ctx, b.JetStream())
	if err != nil {
		t.Fatal(err)
	}
	docs, err := pipeline.OpenDocs(ctx, b.JetStream())
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline.Pipeline{Bus: b, Jobs: js, Docs: docs, Graph: db, Parse: formats.Parse, Log: testenv.Logger(t), MaxDeliver: 3}
	for range workers {
		stop, err := b.Consume(ctx, bus.ConsumerSpec{Stream: bus.StreamIngest, Durable: "ingest-test", AckWait: 30 * time.Second,
			MaxDeliver: 3, Backoff: []time.Duration{100 * time.Millisecond}}, p.Handle)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
	}
	return &env{p: p, db: db, twin: testenv.Twin(t, db)}
}

func (e *env) submit(t *testing.T, data []byte, s pipeline.Submission) jobs.Job {
	t.Helper()
	if s.Twin == "" {
		s.Twin = e.twin
	}
	if s.Format == "" {
		s.Format = "cyclonedx"
	}
	job, err := e.p.Submit(t.Context(), data, s)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	job, err = e.p.Jobs.Wait(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func TestSBOMIngestsOnceAndIdempotently(t *testing.T) {
	e := start(t, 2)
	data, want := sbomgen.CycloneDX(sbomgen.Spec{Seed: 1, Components: 300, Dependencies: 900, Vulnerabilities: 20, Subject: "portal"})
	job := e.submit(t, data, pipeline.Submission{})
	if job.State != jobs.Done {
		t.Fatalf("job %+v", job)
	}
	if job.Declared.Components != want.Components || job.Declared.Relationships != want.Dependencies || job.Declared.Vulnerabilities != want.Vulnerabilities {
		t.Errorf("declared %+v, want %+v", job.Declared, want)
	}
	st, err := e.db.Stats(t.Context(), e.twin)
	if err != nil {
		t.Fatal(err)
	}
	check := func(st graph.Stats) {
		t.Helper()
		if st.Nodes["Component"] != want.Components+1 || st.Nodes["Vulnerability"] != want.Vulnerabilities || st.Nodes["Artifact"] != 1 {
			t.Errorf("nodes %v, want %d components (+ subject), %d vulnerabilities, 1 artifact", st.Nodes, want.Components, want.Vulnerabilities)
		}
		if st.Edges["DEPENDS_ON"] != want.Dependencies || st.Edges["AFFECTS"] != want.Affects || st.Edges["CONTAINS"] != want.Components {
			t.Errorf("edges %v, want %d DEPENDS_ON, %d AFFECTS, %d CONTAINS", st.Edges, want.Dependencies, want.Affects, want.Components)
		}
	}
	check(st)
	if job.Written.NodesCreated != st.TotalNodes() {
		t.Errorf("job wrote %d nodes, the twin holds %d", job.Written.NodesCreated, st.TotalNodes())
	}
	// The same bytes again: the same job, re-run, changing nothing.
	again := e.submit(t, data, pipeline.Submission{})
	if again.ID != job.ID || again.State != jobs.Done || again.Written.NodesCreated != 0 || again.Written.EdgesCreated != 0 {
		t.Errorf("second post: %+v", again)
	}
	st2, _ := e.db.Stats(t.Context(), e.twin)
	check(st2)
}

func TestReplaceSupersedesTheSubjectsEarlierSBOM(t *testing.T) {
	e := start(t, 1)
	v1, _ := sbomgen.CycloneDX(sbomgen.Spec{Seed: 1, Components: 50, Dependencies: 100, Subject: "portal"})
	v2, want2 := sbomgen.CycloneDX(sbomgen.Spec{Seed: 2, Components: 30, Dependencies: 40, Subject: "portal"})
	if j := e.submit(t, v1, pipeline.Submission{Subject: "portal", Replace: true}); j.State != jobs.Done {
		t.Fatalf("v1: %+v", j)
	}
	j := e.submit(t, v2, pipeline.Submission{Subject: "portal", Replace: true})
	if j.State != jobs.Done || j.Written.NodesDeleted == 0 {
		t.Fatalf("v2: %+v", j)
	}
	st, _ := e.db.Stats(t.Context(), e.twin)
	if st.Nodes["Component"] != want2.Components+1 || st.Edges["DEPENDS_ON"] != want2.Dependencies || st.Edges["CONTAINS"] != want2.Components {
		t.Errorf("after replace: %+v, want only v2's %d components and %d dependencies", st, want2.Components, want2.Dependencies)
	}
}

func TestUnreadableDocumentFailsTheJobAndIsDeadLettered(t *testing.T) {
	e := start(t, 1)
	job := e.submit(t, []byte(`{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [`), pipeline.Submission{})
	if job.State != jobs.Failed || len(job.Errors) == 0 || job.Errors[0].Location == "" {
		t.Fatalf("job %+v, want FAILED with a located error", job)
	}
	st, _ := e.db.Stats(t.Context(), e.twin)
	if st.TotalNodes() != 0 {
		t.Errorf("a failed job wrote %v", st.Nodes)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := e.p.Bus.JetStream().Stream(t.Context(), bus.StreamDLQ)
		if err != nil {
			t.Fatal(err)
		}
		si, err := info.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if si.State.Msgs >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed request never reached the dead-letter stream")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestOSVAdvisoryAffectsTheTwinsMatchingComponents(t *testing.T) {
	e := start(t, 1)
	sbom := []byte(`{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
  {"type": "library", "name": "lodash", "version": "4.17.15", "purl": "pkg:npm/lodash@4.17.15"},
  {"type": "library", "name": "lodash", "version": "4.17.21", "purl": "pkg:npm/lodash@4.17.21"},
  {"type": "library", "name": "left-pad", "version": "1.0.0", "purl": "pkg:npm/left-pad@1.0.0"}]}`)
	if j := e.submit(t, sbom, pipeline.Submission{}); j.State != jobs.Done {
		t.Fatalf("sbom: %+v", j)
	}
	advisory := []byte(`{"schema_version": "1.6.0", "id": "GHSA-35jh-r3h4-6jhm", "modified": "2024-01-01T00:00:00Z",
  "aliases": ["CVE-2021-23337"], "summary": "Command injection in lodash",
  "affected": [{"package": {"ecosystem": "npm", "name": "lodash", "purl": "pkg:npm/lodash"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]}`)
	j := e.submit(t, advisory, pipeline.Submission{Format: "osv"})
	if j.State != jobs.Done {
		t.Fatalf("advisory: %+v", j)
	}
	nodes, err := e.db.Nodes(t.Context(), e.twin, graph.LabelComponent, []string{"pkg:npm/lodash@4.17.15", "pkg:npm/lodash@4.17.21"})
	if err != nil || len(nodes) != 2 {
		t.Fatalf("components: %v %v", nodes, err)
	}
	hits, err := e.db.Neighbors(t.Context(), e.twin, graph.LabelComponent, []string{"pkg:npm/lodash@4.17.15", "pkg:npm/lodash@4.17.21", "pkg:npm/left-pad@1.0.0"},
		[]graph.Hop{{Type: "AFFECTS", In: true, Label: graph.LabelVulnerability}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if v := hits["pkg:npm/lodash@4.17.15"]; len(v) != 1 || v[0].Node.Ref().Key != "GHSA-35jh-r3h4-6jhm" || v[0].Edge["fixedVersion"] != "4.17.21" {
		t.Errorf("lodash 4.17.15: %+v", v)
	}
	if len(hits["pkg:npm/lodash@4.17.21"]) != 0 || len(hits["pkg:npm/left-pad@1.0.0"]) != 0 {
		t.Errorf("the fixed version or another package was marked affected: %+v", hits)
	}
}
