package graph_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

// attestationTwin makes a twin with the service payment-api running the artifact sha256:a.
func attestationTwin(t *testing.T, db *graph.DB) string {
	t.Helper()
	twin := testenv.NewTwin(t, db)
	if err := db.AutoCommit(t.Context(), `CREATE (s:Service {twin: $twin, name: 'payment-api'})
CREATE (a:Artifact {twin: $twin, digest: 'sha256:a', name: 'pay', firstSeen: datetime()})
CREATE (:Vulnerability {twin: $twin, vulnerabilityId: 'CVE-1'})
CREATE (s)-[:RUNS]->(a)`, map[string]any{"twin": twin}); err != nil {
		t.Fatal(err)
	}
	return twin
}

func TestSaveAttestationRefuses(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := t.Context()
	twin := attestationTwin(t, db)
	other := attestationTwin(t, db)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	valid := evidence.Attestation{ID: "pentest-1", Subject: graph.ID(graph.LabelService, twin, "payment-api"), Topic: "pentest",
		By: "alice", Statement: "no findings", At: t0, Expires: t0.Add(90 * 24 * time.Hour)}
	cases := []struct {
		name    string
		edit    func(*evidence.Attestation)
		invalid bool // refused by Validate too
	}{
		{"no expiry", func(a *evidence.Attestation) { a.Expires = time.Time{} }, true},
		{"expiry before at", func(a *evidence.Attestation) { a.Expires = t0.Add(-time.Hour) }, true},
		{"no id", func(a *evidence.Attestation) { a.ID = "" }, true},
		{"no at", func(a *evidence.Attestation) { a.At = time.Time{} }, true},
		{"unknown verdict", func(a *evidence.Attestation) { a.Verdict = "MAYBE" }, true},
		{"malformed subject", func(a *evidence.Attestation) { a.Subject = "not-an-id" }, false},
		{"unknown subject", func(a *evidence.Attestation) { a.Subject = graph.ID(graph.LabelService, twin, "nope") }, false},
		{"subject of another twin", func(a *evidence.Attestation) { a.Subject = graph.ID(graph.LabelService, other, "payment-api") }, false},
		{"subject no spec can be about", func(a *evidence.Attestation) { a.Subject = graph.ID(graph.LabelVulnerability, twin, "CVE-1") }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := valid
			c.edit(&a)
			_, err := db.SaveAttestation(ctx, twin, a)
			if !errors.Is(err, graph.ErrBadAttestation) || c.invalid != errors.Is(err, evidence.ErrInvalid) {
				t.Fatalf("SaveAttestation(%+v) = %v; want ErrBadAttestation (and ErrInvalid: %t)", a, err, c.invalid)
			}
		})
	}
	got, err := db.EvidenceAttestations(ctx, twin, evidence.AttestationQuery{ID: "pentest-1"})
	if err != nil || len(got) != 0 {
		t.Fatalf("after refusals: %+v, %v", got, err)
	}
}

func TestAttestationRoundTrip(t *testing.T) {
	db := testenv.Migrated(t)
	ctx := t.Context()
	twin := attestationTwin(t, db)
	other := attestationTwin(t, db)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	svc := graph.ID(graph.LabelService, twin, "payment-api")
	art := graph.ID(graph.LabelArtifact, twin, "sha256:a")
	paris := time.FixedZone("CET", 3600)
	attest := func(id, subject, topic string, at time.Time, v evidence.Verdict) evidence.Attestation {
		return evidence.Attestation{ID: id, Subject: subject, SubjectDigest: "sha256:a", Topic: topic, By: "alice",
			Statement: "reviewed " + id, Verdict: v, At: at, Expires: at.Add(30 * 24 * time.Hour)}
	}
	saved := map[string]evidence.Attestation{}
	for _, a := range []evidence.Attestation{
		attest("a1", svc, "pentest", t0.Add(time.Hour).In(paris), evidence.Pass),
		attest("a2", art, "pentest", t0.Add(2*time.Hour), ""),
		attest("a3", svc, "pentest", t0.Add(2*time.Hour), evidence.Fail),
		attest("b1", graph.ID(graph.LabelTwin, twin, twin), "threat-model", t0, evidence.Degraded),
	} {
		s, err := db.SaveAttestation(ctx, twin, a)
		if err != nil {
			t.Fatalf("save %s: %v", a.ID, err)
		}
		want := a
		want.GlobalID, want.At, want.Expires = graph.ID(graph.LabelAttestation, twin, a.ID), a.At.UTC(), a.Expires.UTC()
		if !reflect.DeepEqual(s, want) {
			t.Fatalf("saved %+v, want %+v", s, want)
		}
		saved[a.ID] = s
	}
	// Another twin's attestation of the same topic is invisible.
	if _, err := db.SaveAttestation(ctx, other, attest("o1", graph.ID(graph.LabelService, other, "payment-api"), "pentest", t0.Add(5*time.Hour), "")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		q    evidence.AttestationQuery
		want []string
	}{
		{"by id", evidence.AttestationQuery{ID: "a1"}, []string{"a1"}},
		{"by id, topic ignored", evidence.AttestationQuery{ID: "b1", Topic: "pentest"}, []string{"b1"}},
		{"unknown id", evidence.AttestationQuery{ID: "zz"}, nil},
		{"other twin's id", evidence.AttestationQuery{ID: "o1"}, nil},
		{"topic, newest first, ties by id", evidence.AttestationQuery{Topic: "pentest"}, []string{"a3", "a2", "a1"}},
		{"other topic", evidence.AttestationQuery{Topic: "threat-model"}, []string{"b1"}},
		{"empty", evidence.AttestationQuery{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := db.EvidenceAttestations(ctx, twin, c.q)
			if err != nil {
				t.Fatal(err)
			}
			var want []evidence.Attestation
			for _, id := range c.want {
				want = append(want, saved[id])
			}
			if len(got) != 0 || len(want) != 0 {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
			}
		})
	}
	attests := func(id string) []string {
		t.Helper()
		out, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
			res, err := tx.Run(ctx, `MATCH (:Attestation {twin: $twin, id: $id})-[:ATTESTS]->(n) RETURN labels(n)[0]`, map[string]any{"twin": twin, "id": id})
			if err != nil {
				return nil, err
			}
			var labels []string
			for res.Next(ctx) {
				labels = append(labels, res.Record().Values[0].(string))
			}
			return labels, res.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.([]string)
	}
	if got := attests("a1"); !reflect.DeepEqual(got, []string{"Service"}) {
		t.Errorf("a1 ATTESTS %v", got)
	}
	if got := attests("b1"); !reflect.DeepEqual(got, []string{"Twin"}) {
		t.Errorf("b1 ATTESTS %v", got)
	}

	// Saved again under the same id, an attestation is replaced whole, its subject too.
	again := attest("a1", art, "review", t0.Add(3*time.Hour), evidence.Fail)
	again.SubjectDigest, again.By = "", ""
	s, err := db.SaveAttestation(ctx, twin, again)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.EvidenceAttestations(ctx, twin, evidence.AttestationQuery{ID: "a1"}); err != nil || !reflect.DeepEqual(got, []evidence.Attestation{s}) {
		t.Errorf("replaced: %+v, %v; want %+v", got, err, s)
	}
	if got := attests("a1"); !reflect.DeepEqual(got, []string{"Artifact"}) {
		t.Errorf("replaced a1 ATTESTS %v", got)
	}
	if got, _ := db.EvidenceAttestations(ctx, twin, evidence.AttestationQuery{Topic: "pentest"}); len(got) != 2 {
		t.Errorf("pentest after a1 moved to review: %+v", got)
	}

	// End to end: the attestation kind reads them.
	for _, c := range []struct {
		spec    string
		now     time.Time
		verdict evidence.Verdict
		reason  string
	}{
		{`{"kind":"attestation","subject":{"service":"payment-api"},"window":"60d","attestation":{"topic":"pentest"}}`, t0.Add(4 * time.Hour), evidence.Fail, "EVIDENCE_FAIL"},
		{`{"kind":"attestation","subject":{"twin":true},"window":"60d","attestation":{"id":"b1"}}`, t0.Add(40 * 24 * time.Hour), "", "EVIDENCE_STALE"},
	} {
		spec, err := evidence.ParseJSON([]byte(c.spec))
		if err != nil {
			t.Fatal(err)
		}
		r, err := evidence.Evaluate(ctx, recordsStore{db}, twin, spec, c.now)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if r.Verdict != c.verdict || r.Reason.String() != c.reason {
			t.Errorf("%s: %s %s (%s), want %s %s", c.spec, r.Verdict, r.Reason, r.Message, c.verdict, c.reason)
		}
	}

	// Deleting.
	for _, c := range []struct {
		id   string
		want bool
	}{{"a2", true}, {"a2", false}, {"o1", false}} {
		if got, err := db.DeleteAttestation(ctx, twin, c.id); err != nil || got != c.want {
			t.Errorf("DeleteAttestation(%s) = %t, %v; want %t", c.id, got, err, c.want)
		}
	}
	if got, _ := db.EvidenceAttestations(ctx, other, evidence.AttestationQuery{ID: "o1"}); len(got) != 1 {
		t.Errorf("another twin's attestation was deleted: %+v", got)
	}
}
