package graph_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestAssuranceCaseStorage(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	ctx := t.Context()
	if err := db.AutoCommit(ctx, `CREATE (:Service {twin: $twin, name: 'traffic-signal'})`, map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := graph.AssuranceCase{Twin: twin, ID: "signals", Name: "Traffic signals", SourceFormat: "gsn2x", SourceHash: "h1",
		Source: `{"main.gsn.yaml":"G1: ..."}`, ImportedAt: at, ImportedBy: "tester",
		Elements: []graph.CaseElement{
			{ID: "G1", Type: "Goal", Module: "main", Text: "No known exploitable vulnerabilities", Mode: "ALL",
				SupportedBy: []string{"S1"}, InContextOf: []string{"C1"}, About: []graph.NodeRef{{Label: graph.LabelService, Key: "traffic-signal"}}},
			{ID: "S1", Type: "Strategy", Module: "main", Text: "Argue over scans", SupportedBy: []string{"Sn2", "Sn1"}},
			{ID: "Sn1", Type: "Solution", Module: "main", Text: "Grype scan", Evidence: `{"kind":"no_open_vulns","severity":"HIGH"}`},
			{ID: "Sn2", Type: "Solution", Module: "main", Text: "Trivy scan", Evidence: `{"kind":"scan_fresh","tool":"trivy","window":"168h"}`},
			{ID: "C1", Type: "Context", Module: "main", Text: "Production deployment"},
			{ID: "D1", Type: "Defeater", Module: "main", Text: "CVE-2026-0001", Challenges: []string{"G1"},
				Defeater: &graph.CaseDefeater{Kind: "rebutting", State: "OPEN", Severity: "CRITICAL", KEV: true, Probability: 0.9}},
		}}
	v, err := db.SaveAssuranceCase(ctx, c)
	if err != nil || v != 1 {
		t.Fatalf("save: %d %v", v, err)
	}
	got, err := db.AssuranceCaseByID(ctx, twin, "signals")
	if err != nil {
		t.Fatal(err)
	}
	want := c
	want.Version = 1
	want.Elements = []graph.CaseElement{c.Elements[4], c.Elements[5], c.Elements[0], c.Elements[1], c.Elements[2], c.Elements[3]} // by id
	if !got.ImportedAt.Equal(at) {
		t.Errorf("importedAt %v", got.ImportedAt)
	}
	got.ImportedAt = want.ImportedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back:\n got %+v\nwant %+v", got, want)
	}

	// A bad version is refused whole: the stored case is untouched.
	bad := c
	bad.Elements = append([]graph.CaseElement(nil), c.Elements...)
	bad.Elements[1].SupportedBy = []string{"Sn9"}
	if _, err := db.SaveAssuranceCase(ctx, bad); !errors.Is(err, graph.ErrBadCase) {
		t.Errorf("a dangling link: %v", err)
	}
	bad.Elements[1].SupportedBy = []string{"Sn1"}
	bad.Elements[0].About = []graph.NodeRef{{Label: graph.LabelService, Key: "no-such-service"}}
	if _, err := db.SaveAssuranceCase(ctx, bad); !errors.Is(err, graph.ErrBadCase) {
		t.Errorf("an ABOUT target the twin lacks: %v", err)
	}
	if again, _ := db.AssuranceCaseByID(ctx, twin, "signals"); again.Version != 1 || len(again.Elements) != 6 || len(again.Elements[2].About) != 1 {
		t.Errorf("a refused import changed the case: %+v", again)
	}

	// Statuses and their history are written together: a status that differs from the stored
	// one is recorded with its cause, and what was stored is returned.
	st := []graph.CaseStatus{{Element: "G1", Status: "UNDERMINED", Reasons: `[{"code":"DEFEATED"}]`, Confidence: 0.1, At: at},
		{Element: "Nope", Status: "SUPPORTED", At: at}}
	causes := map[string]string{"G1": `{"inputs":["D1"]}`}
	before, err := db.SaveCaseStatuses(ctx, twin, "signals", st, causes)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := before["G1"]; !ok || b.Status != "" || len(before) != 1 {
		t.Errorf("before the first save: %+v (want G1 without a status, and no element Nope)", before)
	}
	statuses, err := db.CaseStatuses(ctx, twin, "signals")
	if err != nil || len(statuses) != 1 || statuses[0].Status != "UNDERMINED" || !statuses[0].At.Equal(at) {
		t.Errorf("statuses %+v %v", statuses, err)
	}
	// The same status again (another replica's evaluation): stored, not recorded twice.
	st[0].Confidence, st[0].At = 0.2, at.Add(time.Minute)
	before, err = db.SaveCaseStatuses(ctx, twin, "signals", st[:1], causes)
	if err != nil || before["G1"].Status != "UNDERMINED" || before["G1"].Confidence != 0.1 || !before["G1"].At.Equal(at) {
		t.Errorf("before the second save: %+v %v", before, err)
	}
	hist, err := db.StatusHistory(ctx, twin, "signals", "G1", 10)
	if err != nil || len(hist) != 1 || hist[0].From != "" || hist[0].To != "UNDERMINED" || hist[0].Cause != `{"inputs":["D1"]}` {
		t.Errorf("history %+v %v", hist, err)
	}

	// A new version drops what it no longer has and keeps the statuses of what stays.
	next := c
	next.Elements = []graph.CaseElement{c.Elements[0], c.Elements[1], c.Elements[2], c.Elements[4]}
	next.Elements[1].SupportedBy = []string{"Sn1"}
	if v, err := db.SaveAssuranceCase(ctx, next); err != nil || v != 2 {
		t.Fatalf("second version: %d %v", v, err)
	}
	got, _ = db.AssuranceCaseByID(ctx, twin, "signals")
	if len(got.Elements) != 4 || got.Elements[2].SupportedBy[0] != "Sn1" || len(got.Elements[2].SupportedBy) != 1 {
		t.Errorf("second version read back: %+v", got.Elements)
	}
	if statuses, _ := db.CaseStatuses(ctx, twin, "signals"); len(statuses) != 1 {
		t.Errorf("the kept element lost its status: %+v", statuses)
	}
	if list, err := db.AssuranceCases(ctx, twin); err != nil || len(list) != 1 || list[0].Version != 2 {
		t.Errorf("list %+v %v", list, err)
	}
	if found, err := db.DeleteAssuranceCase(ctx, twin, "signals"); !found || err != nil {
		t.Errorf("delete: %v %v", found, err)
	}
	if _, err := db.AssuranceCaseByID(ctx, twin, "signals"); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if hist, _ := db.StatusHistory(ctx, twin, "signals", "G1", 10); len(hist) != 0 {
		t.Errorf("history outlived its case: %+v", hist)
	}
}
