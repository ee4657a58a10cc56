package graph

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// Attack-path report runs (Report nodes) and their schedules (ReportSchedule nodes). The report
// content is stored as the JSON analytics/report renders, so the next run can diff against it.

// ReportRun is one stored report run.
type ReportRun struct {
	ID, Twin, Schedule string
	GeneratedAt        time.Time
	Duration           time.Duration
	ExposurePct        float64
	Severity           string
	Paths              int
	NewPaths           int
	ResolvedPaths      int
	ChangedPaths       int
	Status             string // DONE, DELIVERED or DELIVERY_FAILED
	Content            string // the report as JSON
	Deliveries         string // the delivery outcomes as JSON
}

// SaveReport stores a run; saving the same id again overwrites it.
func (db *DB) SaveReport(ctx context.Context, r ReportRun) error {
	const cypher = `MERGE (n:Report {id: $id})
SET n.twin = $twin, n.schedule = $schedule, n.generatedAt = $generatedAt, n.durationMs = $durationMs,
    n.exposurePct = $exposurePct, n.severity = $severity, n.paths = $paths, n.newPaths = $newPaths,
    n.resolvedPaths = $resolvedPaths, n.changedPaths = $changedPaths, n.status = $status,
    n.content = $content, n.deliveries = $deliveries`
	_, err := db.writeCollect(ctx, cypher, map[string]any{"id": r.ID, "twin": r.Twin, "schedule": r.Schedule,
		"generatedAt": r.GeneratedAt, "durationMs": r.Duration.Milliseconds(), "exposurePct": r.ExposurePct,
		"severity": r.Severity, "paths": r.Paths, "newPaths": r.NewPaths, "resolvedPaths": r.ResolvedPaths,
		"changedPaths": r.ChangedPaths, "status": r.Status, "content": r.Content, "deliveries": r.Deliveries})
	if err != nil {
		return fmt.Errorf("save report %s: %w", r.ID, err)
	}
	return nil
}

// SetReportDeliveries records the delivery outcomes of a run.
func (db *DB) SetReportDeliveries(ctx context.Context, id, status, deliveries string) error {
	_, err := db.writeCollect(ctx, `MATCH (n:Report {id: $id}) SET n.status = $status, n.deliveries = $deliveries`,
		map[string]any{"id": id, "status": status, "deliveries": deliveries})
	if err != nil {
		return fmt.Errorf("record deliveries of report %s: %w", id, err)
	}
	return nil
}

const reportFields = `n.id, n.twin, n.schedule, n.generatedAt, n.durationMs, n.exposurePct, n.severity, n.paths,
  n.newPaths, n.resolvedPaths, n.changedPaths, n.status, n.deliveries`

// Reports lists a twin's runs, newest first, without their content.
func (db *DB) Reports(ctx context.Context, twin string, limit int) ([]ReportRun, error) {
	recs, err := db.collect(ctx, `MATCH (n:Report {twin: $twin}) RETURN `+reportFields+`, null
ORDER BY n.generatedAt DESC, n.id LIMIT $limit`, map[string]any{"twin": twin, "limit": limit})
	if err != nil {
		return nil, fmt.Errorf("reports of twin %s: %w", twin, err)
	}
	out := make([]ReportRun, len(recs))
	for i, rec := range recs {
		out[i] = decodeReport(rec)
	}
	return out, nil
}

// Report returns one run with its content.
func (db *DB) Report(ctx context.Context, id string) (ReportRun, bool, error) {
	recs, err := db.collect(ctx, `MATCH (n:Report {id: $id}) RETURN `+reportFields+`, n.content`, map[string]any{"id": id})
	if err != nil || len(recs) == 0 {
		if err != nil {
			err = fmt.Errorf("report %s: %w", id, err)
		}
		return ReportRun{}, false, err
	}
	return decodeReport(recs[0]), true, nil
}

// LatestReport returns the newest run of a twin's schedule, with its content.
func (db *DB) LatestReport(ctx context.Context, twin, schedule string) (ReportRun, bool, error) {
	recs, err := db.collect(ctx, `MATCH (n:Report {twin: $twin, schedule: $schedule}) RETURN `+reportFields+`, n.content
ORDER BY n.generatedAt DESC LIMIT 1`, map[string]any{"twin": twin, "schedule": schedule})
	if err != nil || len(recs) == 0 {
		if err != nil {
			err = fmt.Errorf("latest report of twin %s: %w", twin, err)
		}
		return ReportRun{}, false, err
	}
	return decodeReport(recs[0]), true, nil
}

func decodeReport(rec *neo4j.Record) ReportRun {
	v := rec.Values
	r := ReportRun{ID: asString(v[0]), Twin: asString(v[1]), Schedule: asString(v[2]), Severity: asString(v[6]),
		Status: asString(v[11]), Deliveries: asString(v[12]), Content: asString(v[13])}
	r.GeneratedAt, _ = v[3].(time.Time)
	if ms, ok := v[4].(int64); ok {
		r.Duration = time.Duration(ms) * time.Millisecond
	}
	if p := asFloat(v[5]); p != nil {
		r.ExposurePct = *p
	}
	for i, dst := range []*int{&r.Paths, &r.NewPaths, &r.ResolvedPaths, &r.ChangedPaths} {
		if n, ok := v[7+i].(int64); ok {
			*dst = int(n)
		}
	}
	return r
}

// ReportSchedule is a schedule stored in the graph. Targets is JSON (analytics/report's
// targets); webhook secrets are never stored, only the name of the setting that holds them.
type ReportSchedule struct {
	Twin, Name, Cron string
	Formats          []string
	Targets          string
	K                int
	MinLikelihood    float64
	UpdatedAt        time.Time
}

// reportClaimsKept is how long the claims of past scheduled runs are kept.
const reportClaimsKept = 7 * 24 * time.Hour

// ClaimReportRun claims the run of a twin's schedule due at due for the caller, and reports
// whether it got it: of several servers (replicas) whose schedulers fire for the same run, one
// runs it. The claim is a ReportClaim node with a unique key, so that concurrent claims cannot
// both create it; a server's claims older than a week are pruned as it claims.
func (db *DB) ClaimReportRun(ctx context.Context, twin, schedule string, due time.Time) (bool, error) {
	due = due.UTC()
	sum := sha256.Sum256([]byte(twin + "\x00" + schedule + "\x00" + due.Format(time.RFC3339Nano)))
	var token [16]byte
	if _, err := rand.Read(token[:]); err != nil {
		return false, err
	}
	recs, err := db.writeCollect(ctx, `MERGE (c:ReportClaim {key: $key})
  ON CREATE SET c.twin = $twin, c.schedule = $schedule, c.due = $due, c.token = $token
WITH c.token = $token AS mine
CALL (mine) {
  WITH mine WHERE mine
  MATCH (old:ReportClaim {twin: $twin, schedule: $schedule}) WHERE old.due < $cutoff
  DELETE old
}
RETURN mine`, map[string]any{"key": hex.EncodeToString(sum[:]), "twin": twin, "schedule": schedule, "due": due,
		"token": hex.EncodeToString(token[:]), "cutoff": due.Add(-reportClaimsKept)})
	if err != nil {
		return false, fmt.Errorf("claim the run of report schedule %s of %s due at %s: %w", schedule, twin, due.Format(time.RFC3339), err)
	}
	return len(recs) == 1 && recs[0].Values[0] == true, nil
}

// SetReportSchedule creates or replaces a schedule.
func (db *DB) SetReportSchedule(ctx context.Context, s ReportSchedule) error {
	const cypher = `MERGE (n:ReportSchedule {twin: $twin, name: $name})
SET n.cron = $cron, n.formats = $formats, n.targets = $targets, n.k = $k, n.minLikelihood = $minLikelihood, n.updatedAt = $at`
	_, err := db.writeCollect(ctx, cypher, map[string]any{"twin": s.Twin, "name": s.Name, "cron": s.Cron,
		"formats": orEmpty(s.Formats), "targets": s.Targets, "k": s.K, "minLikelihood": s.MinLikelihood, "at": s.UpdatedAt})
	if err != nil {
		return fmt.Errorf("save report schedule %s: %w", s.Name, err)
	}
	return nil
}

// DeleteReportSchedule deletes a schedule; false when there was none.
func (db *DB) DeleteReportSchedule(ctx context.Context, twin, name string) (bool, error) {
	recs, err := db.writeCollect(ctx, `MATCH (n:ReportSchedule {twin: $twin, name: $name}) DETACH DELETE n RETURN count(*)`,
		map[string]any{"twin": twin, "name": name})
	if err != nil {
		return false, fmt.Errorf("delete report schedule %s: %w", name, err)
	}
	return len(recs) > 0 && recs[0].Values[0].(int64) > 0, nil
}

// ReportSchedules lists the schedules of a twin, or of every twin when twin is empty.
func (db *DB) ReportSchedules(ctx context.Context, twin string) ([]ReportSchedule, error) {
	recs, err := db.collect(ctx, `MATCH (n:ReportSchedule) WHERE $twin = '' OR n.twin = $twin
RETURN n.twin, n.name, n.cron, n.formats, n.targets, n.k, n.minLikelihood, n.updatedAt ORDER BY n.twin, n.name`,
		map[string]any{"twin": twin})
	if err != nil {
		return nil, fmt.Errorf("report schedules: %w", err)
	}
	out := make([]ReportSchedule, len(recs))
	for i, rec := range recs {
		v := rec.Values
		s := ReportSchedule{Twin: asString(v[0]), Name: asString(v[1]), Cron: asString(v[2]), Formats: stringList(v[3]), Targets: asString(v[4])}
		if n, ok := v[5].(int64); ok {
			s.K = int(n)
		}
		if p := asFloat(v[6]); p != nil {
			s.MinLikelihood = *p
		}
		s.UpdatedAt, _ = v[7].(time.Time)
		out[i] = s
	}
	return out, nil
}
