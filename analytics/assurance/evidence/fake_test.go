package evidence

import (
	"context"
	"slices"
	"strings"
	"time"
)

// fakeStore is an in-memory twin. Ids are "Label:key". It applies the filters the Store
// contract allows (Events' Contains, the Since bound, sources, scopes), so that tests catch an
// evaluation that asks for too little.
type fakeStore struct {
	subjects     map[SubjectRef]SubjectFacts
	scans        []ScanRun
	exposures    []Exposure // Artifacts lists every artifact containing the component
	findings     []Finding  // Sources lists every source
	events       []fakeEvent
	releases     []fakeRelease
	attestations []Attestation
	plan         CypherPlan
	rows         CypherRows
	cypherErr    error
	err          error // every method fails with it
	ran          int   // queries RunCypher ran
	eventQueries []EventQuery
}

type fakeEvent struct {
	about []SubjectRef // what the event describes, its zone included
	ev    Event
}

type fakeRelease struct {
	site, pipeline string
	at             time.Time
}

func gid(label, key string) string { return label + ":" + key }

func (f *fakeStore) Subject(_ context.Context, _ string, s SubjectRef) (SubjectFacts, error) {
	if f.err != nil {
		return SubjectFacts{}, f.err
	}
	return f.subjects[s], nil
}

func (f *fakeStore) ScanRuns(_ context.Context, _ string, artifacts, formats []string) ([]ScanRun, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []ScanRun
	for _, s := range f.scans {
		if slices.Contains(artifacts, s.Artifact) && slices.Contains(formats, s.Format) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeStore) Exposures(_ context.Context, _ string, scope ExposureScope) ([]Exposure, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []Exposure
	for _, x := range f.exposures {
		if scope.Component != "" {
			if x.Component == scope.Component {
				x.Artifacts = nil
				out = append(out, x)
			}
			continue
		}
		var in []string
		for _, a := range x.Artifacts {
			if slices.Contains(scope.Artifacts, a) {
				in = append(in, a)
			}
		}
		if len(in) > 0 {
			x.Artifacts = in
			out = append(out, x)
		}
	}
	return out, nil
}

func (f *fakeStore) Findings(_ context.Context, _ string, artifacts, sources []string) ([]Finding, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []Finding
	for _, x := range f.findings {
		var srcs []string
		for _, s := range x.Sources {
			if slices.Contains(sources, s) {
				srcs = append(srcs, s)
			}
		}
		if slices.Contains(artifacts, x.Artifact) && len(srcs) > 0 {
			x.Sources = srcs
			out = append(out, x)
		}
	}
	return out, nil
}

func (f *fakeStore) Events(_ context.Context, _ string, q EventQuery, fn func(Event) error) error {
	if f.err != nil {
		return f.err
	}
	f.eventQueries = append(f.eventQueries, q)
	for _, e := range f.events {
		if !e.ev.At.After(q.Since) {
			continue
		}
		if q.Subject.Label != LabelTwin && !slices.Contains(e.about, q.Subject) {
			continue
		}
		if len(q.Contains) > 0 && !slices.ContainsFunc(q.Contains, func(n string) bool { return strings.Contains(strings.ToLower(e.ev.Data), n) }) {
			continue
		}
		if err := fn(e.ev); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeStore) LatestRelease(_ context.Context, _ string, site, pipeline string) (time.Time, error) {
	if f.err != nil {
		return time.Time{}, f.err
	}
	var at time.Time
	for _, r := range f.releases {
		if r.site == site && (pipeline == "" || r.pipeline == pipeline) && r.at.After(at) {
			at = r.at
		}
	}
	return at, nil
}

func (f *fakeStore) Attestations(_ context.Context, _ string, q AttestationQuery) ([]Attestation, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []Attestation
	for _, a := range f.attestations {
		if q.ID != "" && a.ID == q.ID || q.ID == "" && a.Topic == q.Topic {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeStore) ExplainCypher(_ context.Context, _ string, _ CypherQuery) (CypherPlan, error) {
	if f.err != nil {
		return CypherPlan{}, f.err
	}
	if f.cypherErr != nil {
		return CypherPlan{}, f.cypherErr
	}
	return f.plan, nil
}

func (f *fakeStore) RunCypher(_ context.Context, _ string, q CypherQuery, accept func(CypherPlan) error) (CypherRows, error) {
	if f.err != nil {
		return CypherRows{}, f.err
	}
	if f.cypherErr != nil {
		return CypherRows{}, f.cypherErr
	}
	if err := accept(f.plan); err != nil {
		return CypherRows{}, err
	}
	f.ran++
	rows := f.rows
	if rows.Rows > q.MaxRows {
		rows.Rows, rows.Truncated = q.MaxRows, true
	}
	return rows, nil
}
