package graph

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
)

// Scan runs: the record that a scanner's report or an SBOM about an artifact was taken in,
// which evidence specs (scan_fresh, no_open_vulns, sarif_clean) need and the model's nodes do
// not say. A ScanRun is not a kind of the twin model (Labels, Stats, the GraphQL types know
// nothing of it): it is a node
//
//	(:ScanRun {twin, key, format, tool, artifact, source, collected, knowledgeAsOf})-[:SCANNED]->(:Artifact)
//
// keyed by ScanRunKey(source, artifact), so that processing the same document about the same
// artifact again finds the same node. Its global id is ID(LabelScanRun, twin, key), which
// ParseID, knowing only the model's labels, does not reverse. A scan run outlives its
// artifact (deleting the artifact removes only SCANNED): reads go by the artifact property.

// LabelScanRun labels scan runs.
const LabelScanRun = evidence.LabelScanRun

// ErrBadScanRun marks a scan run the twin cannot record as it is.
var ErrBadScanRun = errors.New("bad scan run")

// maxScanRunText bounds each text property of a scan run, in bytes.
const maxScanRunText = 1024

// ScanRunRecord is one scan run to record.
type ScanRunRecord struct {
	Format   string // ingest format: trivy, grype, sarif, cyclonedx, spdx (stored lower-case)
	Tool     string // the tool that produced the document, as the document names it; may be empty
	Artifact string // key (digest) of the Artifact scanned, which must be in the twin
	// Source is the provenance source of what the ingest wrote ("grype:sha256:<hex of the
	// document>"); it may not contain '@', which separates it from the artifact in the key.
	Source string
	// Collected is when the document was taken in; KnowledgeAsOf how current the tool's
	// advisory data was (zero: not known).
	Collected, KnowledgeAsOf time.Time
}

// ScanRunKey is the key of the scan run of a document (its provenance source) about an
// artifact: "<source>@<artifact>".
func ScanRunKey(source, artifact string) string { return source + "@" + artifact }

func (r ScanRunRecord) validate() error {
	var bad []string
	for _, f := range []struct{ name, v string }{{"format", r.Format}, {"source", r.Source}, {"artifact", r.Artifact}, {"tool", r.Tool}} {
		switch {
		case f.v == "" && f.name != "tool":
			bad = append(bad, f.name+" is empty")
		case len(f.v) > maxScanRunText:
			bad = append(bad, fmt.Sprintf("%s is longer than %d bytes", f.name, maxScanRunText))
		case !utf8.ValidString(f.v):
			bad = append(bad, f.name+" is not UTF-8")
		}
	}
	if strings.Contains(r.Source, "@") {
		bad = append(bad, "source contains '@'")
	}
	if r.Collected.IsZero() {
		bad = append(bad, "collected is zero")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrBadScanRun, strings.Join(bad, "; "))
	}
	return nil
}

// RecordScanRun records that r.Source's document about the artifact r.Artifact was taken in
// (MERGE on the twin and ScanRunKey, so recording it again keeps one node). Processing the same
// document again moves collected forward to the later time, never back: the twin took the
// document in again then (a retried or re-posted job; a scanner run again on an unchanged
// artifact may well write the same bytes, which the twin cannot tell from a re-post), while
// knowledgeAsOf, which the document itself says, still tells how old its advisory data is. Format, tool and knowledgeAsOf take
// the values of the latest recording. An invalid record, or an artifact the twin does not have,
// gives an error wrapping ErrBadScanRun.
func (db *DB) RecordScanRun(ctx context.Context, twin string, r ScanRunRecord) error {
	r.Format = strings.ToLower(strings.TrimSpace(r.Format))
	if err := r.validate(); err != nil {
		return err
	}
	var knowledge any
	if !r.KnowledgeAsOf.IsZero() {
		knowledge = r.KnowledgeAsOf.UTC()
	}
	params := map[string]any{"twin": twin, "key": ScanRunKey(r.Source, r.Artifact), "format": r.Format, "tool": r.Tool,
		"artifact": r.Artifact, "source": r.Source, "collected": r.Collected.UTC(), "knowledge": knowledge}
	_, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		rec, err := single(ctx, tx, `OPTIONAL MATCH (a:Artifact {twin: $twin, digest: $artifact}) RETURN a IS NOT NULL`, params)
		if err != nil {
			return nil, err
		}
		if rec.Values[0] != true {
			return nil, fmt.Errorf("%w: twin %s has no artifact %s", ErrBadScanRun, twin, r.Artifact)
		}
		return nil, run(ctx, tx, `MATCH (a:Artifact {twin: $twin, digest: $artifact})
MERGE (s:ScanRun {twin: $twin, key: $key})
ON CREATE SET s.collected = $collected
ON MATCH SET s.collected = CASE WHEN s.collected IS NULL OR $collected > s.collected THEN $collected ELSE s.collected END
SET s.format = $format, s.tool = $tool, s.artifact = $artifact, s.source = $source, s.knowledgeAsOf = $knowledge
MERGE (s)-[:SCANNED]->(a)`, params)
	})
	if err != nil {
		return fmt.Errorf("record scan run %s of %s in twin %s: %w", r.Source, r.Artifact, twin, err)
	}
	return nil
}

// EvidenceScanRuns returns, for each of these artifacts (by digest), the newest scan run of
// each format and tool among formats (evidence.Store's ScanRuns), ordered by artifact, format
// and tool. Formats are ingest format names, matched case-insensitively. Newest is by
// collected, then, as evidence compares runs, by global id.
func (db *DB) EvidenceScanRuns(ctx context.Context, twin string, artifacts, formats []string) ([]evidence.ScanRun, error) {
	if len(artifacts) == 0 || len(formats) == 0 {
		return nil, nil
	}
	lower := make([]string, 0, len(formats))
	for _, f := range formats {
		lower = append(lower, strings.ToLower(strings.TrimSpace(f)))
	}
	recs, err := db.collect(ctx, `MATCH (s:ScanRun {twin: $twin}) WHERE s.artifact IN $artifacts AND s.format IN $formats
WITH s.artifact AS artifact, s.format AS format, coalesce(s.tool, '') AS tool, max(s.collected) AS newest
MATCH (s:ScanRun {twin: $twin, artifact: artifact, format: format})
WHERE coalesce(s.tool, '') = tool AND s.collected = newest
RETURN s.key, s.format, coalesce(s.tool, ''), s.artifact, coalesce(s.source, ''), s.collected, s.knowledgeAsOf`,
		map[string]any{"twin": twin, "artifacts": artifacts, "formats": lower})
	if err != nil {
		return nil, fmt.Errorf("evidence scan runs: %w", err)
	}
	type group struct{ artifact, format, tool string }
	newest := map[group]evidence.ScanRun{}
	for _, r := range recs {
		v := r.Values
		key, _ := v[0].(string)
		s := evidence.ScanRun{ID: ID(LabelScanRun, twin, key)}
		s.Format, _ = v[1].(string)
		s.Tool, _ = v[2].(string)
		s.Artifact, _ = v[3].(string)
		s.Source, _ = v[4].(string)
		if t, ok := v[5].(time.Time); ok {
			s.Collected = t.UTC()
		}
		if t, ok := v[6].(time.Time); ok {
			s.KnowledgeAsOf = t.UTC()
		}
		g := group{s.Artifact, s.Format, s.Tool}
		if b, ok := newest[g]; !ok || s.ID > b.ID {
			newest[g] = s
		}
	}
	out := make([]evidence.ScanRun, 0, len(newest))
	for _, s := range newest {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b evidence.ScanRun) int {
		return cmp.Or(strings.Compare(a.Artifact, b.Artifact), strings.Compare(a.Format, b.Format), strings.Compare(a.Tool, b.Tool))
	})
	return out, nil
}
