package graph_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

// recordsStore is evidence.Store over the twin, scan runs and attestations included.
type recordsStore struct{ *graph.DB }

var _ evidence.Store = recordsStore{}

func (s recordsStore) Subject(ctx context.Context, twin string, r evidence.SubjectRef) (evidence.SubjectFacts, error) {
	return s.EvidenceSubject(ctx, twin, r)
}
func (s recordsStore) ScanRuns(ctx context.Context, twin string, artifacts, formats []string) ([]evidence.ScanRun, error) {
	return s.EvidenceScanRuns(ctx, twin, artifacts, formats)
}
func (s recordsStore) Exposures(ctx context.Context, twin string, scope evidence.ExposureScope) ([]evidence.Exposure, error) {
	return s.EvidenceExposures(ctx, twin, scope)
}
func (s recordsStore) Findings(ctx context.Context, twin string, artifacts, sources []string) ([]evidence.Finding, error) {
	return s.EvidenceFindings(ctx, twin, artifacts, sources)
}
func (s recordsStore) Events(ctx context.Context, twin string, q evidence.EventQuery, fn func(evidence.Event) error) error {
	return s.EvidenceEvents(ctx, twin, q, fn)
}
func (s recordsStore) Attestations(ctx context.Context, twin string, q evidence.AttestationQuery) ([]evidence.Attestation, error) {
	return s.EvidenceAttestations(ctx, twin, q)
}

// artifactsTwin makes a twin with these artifacts (by digest).
func artifactsTwin(t *testing.T, db *graph.DB, digests ...string) string {
	t.Helper()
	twin := testenv.NewTwin(t, db)
	if err := db.AutoCommit(t.Context(), `UNWIND $digests AS d CREATE (:Artifact {twin: $twin, digest: d, name: 'app', firstSeen: datetime()})`,
		map[string]any{"twin": twin, "digests": digests}); err != nil {
		t.Fatal(err)
	}
	return twin
}

func count(t *testing.T, db *graph.DB, cypher string, params map[string]any) int64 {
	t.Helper()
	out, err := db.ReadTx(t.Context(), func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(t.Context(), cypher, params)
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(t.Context())
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

func TestRecordScanRun(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := t.Context()
	twin := artifactsTwin(t, db, "sha256:a")
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	r := graph.ScanRunRecord{Format: "Grype", Tool: "grype", Artifact: "sha256:a", Source: "grype:sha256:doc1", Collected: t0.Add(time.Hour), KnowledgeAsOf: t0}
	key := graph.ScanRunKey(r.Source, r.Artifact)
	want := evidence.ScanRun{ID: graph.ID(graph.LabelScanRun, twin, key), Format: "grype", Tool: "grype", Artifact: "sha256:a",
		Source: "grype:sha256:doc1", Collected: t0.Add(time.Hour), KnowledgeAsOf: t0}
	read := func() []evidence.ScanRun {
		t.Helper()
		runs, err := db.EvidenceScanRuns(ctx, twin, []string{"sha256:a"}, []string{"grype"})
		if err != nil {
			t.Fatal(err)
		}
		return runs
	}
	steps := []struct {
		name      string
		collected time.Time
		want      time.Time // collected afterwards
	}{
		{"first", t0.Add(time.Hour), t0.Add(time.Hour)},
		{"again", t0.Add(time.Hour), t0.Add(time.Hour)},
		{"earlier does not move collected back", t0, t0.Add(time.Hour)},
		{"later moves collected forward", t0.Add(3 * time.Hour), t0.Add(3 * time.Hour)},
	}
	for _, s := range steps {
		r.Collected = s.collected
		if err := db.RecordScanRun(ctx, twin, r); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		want.Collected = s.want
		if got := read(); !reflect.DeepEqual(got, []evidence.ScanRun{want}) {
			t.Errorf("%s: %+v, want %+v", s.name, got, want)
		}
	}
	params := map[string]any{"twin": twin}
	if n := count(t, db, `MATCH (s:ScanRun {twin: $twin}) RETURN count(s)`, params); n != 1 {
		t.Errorf("%d scan runs after recording one four times", n)
	}
	if n := count(t, db, `MATCH (:ScanRun {twin: $twin})-[r:SCANNED]->(:Artifact {twin: $twin, digest: 'sha256:a'}) RETURN count(r)`, params); n != 1 {
		t.Errorf("%d SCANNED relationships, want 1", n)
	}
	// A scan run is no kind of the model: the twin's statistics do not count it.
	st, err := db.Stats(ctx, twin)
	if err != nil || st.TotalNodes() != 1 { // the artifact
		t.Errorf("stats %+v, %v", st, err)
	}

	bad := []struct {
		name string
		edit func(*graph.ScanRunRecord)
	}{
		{"no format", func(r *graph.ScanRunRecord) { r.Format = " " }},
		{"no source", func(r *graph.ScanRunRecord) { r.Source = "" }},
		{"@ in source", func(r *graph.ScanRunRecord) { r.Source = "grype:x@y" }},
		{"no artifact", func(r *graph.ScanRunRecord) { r.Artifact = "" }},
		{"unknown artifact", func(r *graph.ScanRunRecord) { r.Artifact = "sha256:nope" }},
		{"no collected", func(r *graph.ScanRunRecord) { r.Collected = time.Time{} }},
		{"not UTF-8", func(r *graph.ScanRunRecord) { r.Tool = "gr\xffpe" }},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			x := graph.ScanRunRecord{Format: "grype", Tool: "grype", Artifact: "sha256:a", Source: "grype:sha256:doc2", Collected: t0}
			c.edit(&x)
			if err := db.RecordScanRun(ctx, twin, x); !errors.Is(err, graph.ErrBadScanRun) {
				t.Fatalf("RecordScanRun(%+v) = %v, want ErrBadScanRun", x, err)
			}
		})
	}
	// Of another twin, the artifact is unknown.
	other := testenv.NewTwin(t, db)
	if err := db.RecordScanRun(ctx, other, r); !errors.Is(err, graph.ErrBadScanRun) {
		t.Errorf("recorded about another twin's artifact: %v", err)
	}
}

func TestEvidenceScanRuns(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := t.Context()
	twin := artifactsTwin(t, db, "sha256:a", "sha256:b")
	other := artifactsTwin(t, db, "sha256:a")
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	records := []struct {
		twin string
		r    graph.ScanRunRecord
	}{
		{twin, graph.ScanRunRecord{Format: "grype", Tool: "grype", Artifact: "sha256:a", Source: "grype:g1", Collected: at(1), KnowledgeAsOf: at(0)}},
		{twin, graph.ScanRunRecord{Format: "grype", Tool: "grype", Artifact: "sha256:a", Source: "grype:g2", Collected: at(2), KnowledgeAsOf: at(1)}},
		{twin, graph.ScanRunRecord{Format: "trivy", Tool: "Trivy", Artifact: "sha256:a", Source: "trivy:t1", Collected: at(1)}},
		{twin, graph.ScanRunRecord{Format: "sarif", Tool: "Semgrep OSS", Artifact: "sha256:a", Source: "sarif:s1", Collected: at(3)}},
		{twin, graph.ScanRunRecord{Format: "sarif", Tool: "CodeQL", Artifact: "sha256:a", Source: "sarif:s2", Collected: at(2)}},
		{twin, graph.ScanRunRecord{Format: "sarif", Tool: "CodeQL", Artifact: "sha256:a", Source: "sarif:s3", Collected: at(1)}},
		{twin, graph.ScanRunRecord{Format: "grype", Tool: "grype", Artifact: "sha256:b", Source: "grype:g3", Collected: at(1)}},
		// Two runs at once: the greater global id wins, as evidence compares them.
		{twin, graph.ScanRunRecord{Format: "spdx", Tool: "syft", Artifact: "sha256:b", Source: "spdx:p1", Collected: at(4)}},
		{twin, graph.ScanRunRecord{Format: "spdx", Tool: "syft", Artifact: "sha256:b", Source: "spdx:p2", Collected: at(4)}},
		// Newer, but of another twin.
		{other, graph.ScanRunRecord{Format: "grype", Tool: "grype", Artifact: "sha256:a", Source: "grype:g9", Collected: at(9)}},
	}
	for _, x := range records {
		if err := db.RecordScanRun(ctx, x.twin, x.r); err != nil {
			t.Fatal(err)
		}
	}
	run := func(tw string, i int) evidence.ScanRun {
		r := records[i].r
		return evidence.ScanRun{ID: graph.ID(graph.LabelScanRun, tw, graph.ScanRunKey(r.Source, r.Artifact)), Format: r.Format, Tool: r.Tool,
			Artifact: r.Artifact, Source: r.Source, Collected: r.Collected, KnowledgeAsOf: r.KnowledgeAsOf}
	}
	tie := run(twin, 7)
	if b := run(twin, 8); b.ID > tie.ID {
		tie = b
	}
	cases := []struct {
		name               string
		twin               string
		artifacts, formats []string
		want               []evidence.ScanRun
	}{
		{"newest grype", twin, []string{"sha256:a"}, []string{"grype"}, []evidence.ScanRun{run(twin, 1)}},
		{"formats filter", twin, []string{"sha256:a", "sha256:b"}, []string{"grype", "trivy"},
			[]evidence.ScanRun{run(twin, 1), run(twin, 2), run(twin, 6)}},
		{"newest per tool", twin, []string{"sha256:a"}, []string{"sarif"}, []evidence.ScanRun{run(twin, 4), run(twin, 3)}},
		{"format case", twin, []string{"sha256:a"}, []string{"TRIVY"}, []evidence.ScanRun{run(twin, 2)}},
		{"tie", twin, []string{"sha256:b"}, []string{"spdx", "cyclonedx"}, []evidence.ScanRun{tie}},
		{"no artifacts", twin, nil, []string{"grype"}, nil},
		{"no formats", twin, []string{"sha256:a"}, nil, nil},
		{"unknown artifact", twin, []string{"sha256:nope"}, []string{"grype"}, nil},
		{"other twin", other, []string{"sha256:a", "sha256:b"}, []string{"grype", "trivy", "sarif"}, []evidence.ScanRun{run(other, 9)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := db.EvidenceScanRuns(ctx, c.twin, c.artifacts, c.formats)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 && len(c.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}

	// End to end: scan_fresh over the recorded runs.
	for _, c := range []struct {
		spec   string
		now    time.Time
		reason string
	}{
		{`{"kind":"scan_fresh","subject":{"artifact":"sha256:a"},"window":"2h","scan":["grype"]}`, at(3), ""},
		{`{"kind":"scan_fresh","subject":{"artifact":"sha256:a"},"window":"2h","scan":["grype"]}`, at(5), "EVIDENCE_STALE"},
		{`{"kind":"scan_fresh","subject":{"artifact":"sha256:a"},"window":"2h","scan":["cyclonedx"]}`, at(3), "EVIDENCE_MISSING"},
		{`{"kind":"scan_fresh","subject":{"artifact":"sha256:a"},"window":"2h","scan":["sarif:semgrep"]}`, at(4), ""},
	} {
		s, err := evidence.ParseJSON([]byte(c.spec))
		if err != nil {
			t.Fatal(err)
		}
		r, err := evidence.Evaluate(ctx, recordsStore{db}, twin, s, c.now)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		reason := ""
		if r.Reason != 0 {
			reason = r.Reason.String()
		}
		if reason != c.reason {
			t.Errorf("%s at %s: %s (%s), want %q", c.spec, c.now, reason, r.Message, c.reason)
		}
	}
}
