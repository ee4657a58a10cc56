package pipeline_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

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

func TestScanOfAnArtifactRecordsAScanRun(t *testing.T) {
	e := start(t, 1)
	digest := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	grype := []byte(`{"matches": [{"vulnerability": {"id": "CVE-2021-44228", "severity": "Critical"},
    "artifact": {"id": "a1", "name": "log4j-core", "version": "2.14.1", "type": "java-archive", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}}],
  "source": {"type": "image", "target": {"userInput": "registry.example.com/shop/api:1.4.2", "imageID": "` + digest("1") + `",
    "repoDigests": ["registry.example.com/shop/api@` + digest("2") + `"]}},
  "descriptor": {"name": "grype", "version": "0.80.0", "db": {"built": "2026-10-30T01:30:51Z", "schemaVersion": 5}}}`)
	trivy := []byte(`{"SchemaVersion": 2, "ArtifactName": "registry.example.com/shop/web:2", "ArtifactType": "container_image",
  "Metadata": {"ImageID": "` + digest("3") + `", "RepoDigests": ["registry.example.com/shop/web@` + digest("4") + `"]}, "Results": []}`)
	sarif := []byte(`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Semgrep OSS"}},
  "results": [{"ruleId": "go.sqli", "level": "error", "message": {"text": "SQL built from input"},
    "locations": [{"physicalLocation": {"artifactLocation": {"uri": "main.go"}, "region": {"startLine": 3}}}]}]}]}`)
	directory := []byte(`{"matches": [], "source": {"type": "directory", "target": "/src"}, "descriptor": {"name": "grype", "version": "0.80.0"}}`)
	cases := []struct {
		name      string
		data      []byte
		s         pipeline.Submission
		artifact  string // "" when no scan run is recorded
		tool      string
		knowledge time.Time
	}{
		{"grype of an image", grype, pipeline.Submission{Format: "grype"}, digest("2"), "grype", time.Date(2026, 10, 30, 1, 30, 51, 0, time.UTC)},
		{"trivy of an image", trivy, pipeline.Submission{Format: "trivy"}, digest("4"), "Trivy", time.Time{}},
		{"sarif about a posted subject", sarif, pipeline.Submission{Format: "sarif", Subject: digest("5")}, digest("5"), "Semgrep OSS", time.Time{}},
		{"grype of a directory", directory, pipeline.Submission{Format: "grype"}, "", "", time.Time{}},
	}
	want := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := time.Now()
			if j := e.submit(t, c.data, c.s); j.State != jobs.Done {
				t.Fatalf("job %+v", j)
			}
			after := time.Now()
			if c.artifact == "" {
				return
			}
			want++
			runs, err := e.db.EvidenceScanRuns(t.Context(), e.twin, []string{c.artifact}, []string{c.s.Format})
			if err != nil || len(runs) != 1 {
				t.Fatalf("scan runs %+v, %v", runs, err)
			}
			r := runs[0]
			source := c.s.Format + ":" + pipeline.Digest(c.data)
			if r.Format != c.s.Format || r.Tool != c.tool || r.Artifact != c.artifact || r.Source != source || !r.KnowledgeAsOf.Equal(c.knowledge) ||
				r.ID != graph.ID(graph.LabelScanRun, e.twin, graph.ScanRunKey(source, c.artifact)) {
				t.Errorf("scan run %+v, want %s by %q of %s from %s, knowledge %v", r, c.s.Format, c.tool, c.artifact, source, c.knowledge)
			}
			if r.Collected.Before(before) || r.Collected.After(after) {
				t.Errorf("collected %v, not while the job ran (%v to %v)", r.Collected, before, after)
			}
			// The same document again: the same scan run, collected again.
			if j := e.submit(t, c.data, c.s); j.State != jobs.Done {
				t.Fatalf("again: job %+v", j)
			}
			again, err := e.db.EvidenceScanRuns(t.Context(), e.twin, []string{c.artifact}, []string{c.s.Format})
			if err != nil || len(again) != 1 || again[0].ID != r.ID || again[0].Collected.Before(r.Collected) {
				t.Errorf("after posting again: %+v, %v; first %+v", again, err, r)
			}
		})
	}
	recs, err := e.db.ReadTx(t.Context(), func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(t.Context(), `MATCH (s:ScanRun {twin: $twin})-[:SCANNED]->(:Artifact) RETURN count(s)`, map[string]any{"twin": e.twin})
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(t.Context())
		if err != nil {
			return nil, err
		}
		return rec.Values[0], nil
	})
	if err != nil || recs.(int64) != int64(want) {
		t.Errorf("%v scan runs in the twin, %v; want %d", recs, err, want)
	}
}
