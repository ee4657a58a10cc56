package opstwin

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/analytics/response"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/gsn"
	"github.com/sectwin/sectwin/internal/assuring"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// webCase argues that three DMZ hosts are sound; each claim is about one host and supported
// by a Cypher check that passes while the host is not quarantined.
const webCase = `module:
  name: web
  brief: The web tier is sound

G0:
  text: The web tier is sound
  supportedBy: [G1, G2, G3]
`

func webClaim(n string) string {
	return `
G` + n + `:
  text: web-` + n + ` is not compromised
  supportedBy: [Sn` + n + `]
  sectwinAbout: [Host/web-` + n + `]
Sn` + n + `:
  text: web-` + n + ` is not quarantined
  sectwinEvidence: {kind: cypher_check, window: 1h, cypher: {query: "MATCH (h:Host {twin: $twin, name: 'web-` + n + `'}) WHERE h.quarantined RETURN h"}}
`
}

const defeaterPlaybooks = `version: 1
playbooks:
  - name: doubt-with-evidence
    on: [anomaly]
    when: 'trigger.type == "new_edge"'
    rate: {max: 100, per: 1m}
    actions:
      - defeater: {entity: trigger.src, kind: rebutting, severity: medium, text: '"unseen connection from " + trigger.src + " to " + trigger.dst'}
  - name: doubt-untriaged
    on: [anomaly]
    when: 'trigger.type == "beacon"'
    actions:
      - defeater: {entity: trigger.src, kind: rebutting, severity: medium, evidence: none}
  - name: doubt-dry
    on: [anomaly]
    when: 'trigger.type == "scan"'
    dry_run: true
    actions:
      - defeater: {entity: trigger.src, kind: rebutting, severity: critical}
`

// TestDefeaterAction runs the defeater action through the response engine against the real
// Neo4j and NATS: the defeater lands in the case, challenging the claim about the host the
// trigger names; backed by the anomaly as evidence it is sustained and the claim turns
// UNDERMINED (untriaged and of medium severity, without evidence, only UNKNOWN); a repeated
// action finds its defeater and leaves the case as it is; a dry run edits nothing; an entity
// without claims, or unknown, fails at once; and when the anomaly is gone the evidence refutes
// the defeater and the claim holds again. Every outcome is audited.
func TestDefeaterAction(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	b := testenv.NATS(t)
	log := testenv.Logger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	hosts := graph.Batch{}
	for i, n := range []string{"web-1", "web-2", "web-3", "db-1"} {
		hosts.Nodes = append(hosts.Nodes, graph.NodeRow{Label: graph.LabelHost, Key: n, Props: map[string]any{"addresses": []any{"10.0.1." + string(rune('1'+i))}}})
	}
	if _, err := db.Write(ctx, twin, hosts, graph.WriteOptions{Source: "test"}); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"web.gsn.yaml": []byte(webCase + webClaim("1") + webClaim("2") + webClaim("3"))}
	set, err := gsn.ParseSet(files)
	if err != nil {
		t.Fatal(err)
	}
	c, err := assurancecase.FromGSN(twin, "web", "web", set, files, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveAssuranceCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	live := assuring.New(b, db, log)
	if _, err := live.Load(ctx, twin, "web"); err != nil {
		t.Fatal(err)
	}
	// The anomaly the first trigger is about, as the detectors record it.
	if _, err := db.RecordAnomalies(ctx, twin, []graph.AnomalyRow{{Key: "anomaly-" + twin, Type: "new_edge", Entity: "web-1", Score: 1,
		Explanation: "first connection web-1 → db-1", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}

	pbs, err := response.Parse("playbooks.yaml", []byte(defeaterPlaybooks), nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := events.NATS{Bus: b, Log: log}
	cases := &caseEditor{db: db, ev: ev, log: log, live: live}
	eng, err := response.New(pbs, executor{db: db, bus: b, ev: ev, poster: &response.WebhookPoster{}, cases: cases}, auditor{db: db, log: log},
		response.Options{Backoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Shutdown(context.Background()) })

	status := func(el string) graph.CaseStatus {
		t.Helper()
		st, err := db.CaseStatuses(ctx, twin, "web")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Element == el {
				return s
			}
		}
		return graph.CaseStatus{}
	}
	defeaters := func() map[string]graph.CaseElement {
		t.Helper()
		c, err := db.AssuranceCaseByID(ctx, twin, "web")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]graph.CaseElement{}
		for _, e := range c.Elements {
			if e.Type == assurancecase.TypeDefeater {
				out[e.ID] = e
			}
		}
		return out
	}
	version := func() int {
		t.Helper()
		v, err := db.AssuranceCaseVersion(ctx, twin, "web")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// audited waits for the action's last outcome.
	audited := func(playbook, triggerID string) graph.ResponseRecord {
		t.Helper()
		for {
			recs, err := db.ResponseActions(ctx, twin, playbook, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.TriggerID == triggerID && slices.Contains([]string{"done", "failed", "dry_run", "rate_limited", "dropped"}, r.Outcome) {
					return r
				}
			}
			select {
			case <-ctx.Done():
				t.Fatalf("no final audit record of %s for %s: %+v", playbook, triggerID, recs)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	for _, s := range []string{"G0", "G1", "G2", "G3"} {
		if st := status(s); st.Status != "SUPPORTED" {
			t.Fatalf("before: %s %+v", s, st)
		}
	}

	tests := []struct {
		name     string
		playbook string
		trigger  response.Trigger
		outcome  string
		errHas   string
		// then, the case: the number of defeaters, whether the version moved, claim statuses
		defeaters int
		edits     bool
		statuses  map[string]string
		reasonHas map[string]string
	}{
		{"anomaly about a host address, backed by the anomaly", "doubt-with-evidence",
			response.Trigger{ID: "anomaly-" + twin, Type: "new_edge", Src: "10.0.1.1", Dst: "db-1", Entity: "web-1"},
			"done", "", 1, true, map[string]string{"G1": "UNDERMINED", "G0": "UNDERMINED", "G2": "SUPPORTED"}, map[string]string{"G1": "DEFEATED"}},
		{"the same playbook about the same host again: the same defeater", "doubt-with-evidence",
			response.Trigger{ID: "anomaly-2-" + twin, Type: "new_edge", Src: "web-1", Dst: "db-1"},
			"done", "", 1, false, map[string]string{"G1": "UNDERMINED"}, nil},
		{"without evidence, untriaged and of medium severity", "doubt-untriaged",
			response.Trigger{ID: "beacon-" + twin, Type: "beacon", Src: "web-2"},
			"done", "", 2, true, map[string]string{"G2": "UNKNOWN", "G3": "SUPPORTED"}, map[string]string{"G2": "DEFEATER_OPEN"}},
		{"dry run: audited, nothing edited", "doubt-dry",
			response.Trigger{ID: "scan-" + twin, Type: "scan", Src: "web-3"},
			"dry_run", "", 2, false, map[string]string{"G3": "SUPPORTED"}, nil},
		{"a host no claim is about", "doubt-with-evidence",
			response.Trigger{ID: "anomaly-db-" + twin, Type: "new_edge", Src: "db-1", Dst: "web-1"},
			"failed", "no claim of the twin's assurance cases is about it", 2, false, nil, nil},
		{"an entity the twin does not have", "doubt-with-evidence",
			response.Trigger{ID: "anomaly-x-" + twin, Type: "new_edge", Src: "198.51.100.7", Dst: "web-1"},
			"failed", "no host or service by that name or address", 2, false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := version()
			tt.trigger.Kind, tt.trigger.Twin = response.KindAnomaly, twin
			eng.Run(ctx, tt.trigger)
			r := audited(tt.playbook, tt.trigger.ID)
			if r.Outcome != tt.outcome || !strings.Contains(r.Error, tt.errHas) || r.Action != string(response.ActionDefeater) {
				t.Fatalf("audit %+v, want %s %q", r, tt.outcome, tt.errHas)
			}
			if tt.outcome == "failed" && r.Attempts != 1 {
				t.Errorf("a permanent failure was tried %d times", r.Attempts)
			}
			var args map[string]string
			if err := json.Unmarshal([]byte(r.Args), &args); err != nil || args["kind"] != "rebutting" || args["id"] == "" {
				t.Errorf("audited args %s: %v", r.Args, err)
			}
			if got := len(defeaters()); got != tt.defeaters {
				t.Errorf("%d defeaters, want %d", got, tt.defeaters)
			}
			if moved := version() != before; moved != tt.edits {
				t.Errorf("case version %d → %d, want an edit: %v", before, version(), tt.edits)
			}
			for el, want := range tt.statuses {
				if st := status(el); st.Status != want || !strings.Contains(st.Reasons, tt.reasonHas[el]) {
					t.Errorf("%s: %s %s, want %s %s", el, st.Status, st.Reasons, want, tt.reasonHas[el])
				}
			}
		})
	}

	// The defeater as stored: a rebutting CounterGoal on G1 with its provenance and its evidence.
	d1 := defeaters()[DefeaterElementID(idOfDefeater(t, db, ctx, twin, "anomaly-"+twin), "web", "G1")]
	if len(d1.Challenges) != 1 || d1.Challenges[0] != "G1" || d1.Defeater == nil || d1.Defeater.Kind != "rebutting" ||
		d1.Defeater.State != "OPEN" || !strings.Contains(d1.Evidence, "anomaly-"+twin) || !strings.Contains(d1.Layers, "doubt-with-evidence") ||
		d1.Text != "unseen connection from 10.0.1.1 to db-1" {
		t.Errorf("the defeater: %+v %+v", d1, d1.Defeater)
	}

	// The anomaly is dismissed (deleted): the evidence passes and refutes the defeater.
	if err := db.AutoCommit(ctx, "MATCH (a:Anomaly {twin: $twin, key: $key}) DETACH DELETE a", map[string]any{"twin": twin, "key": "anomaly-" + twin}); err != nil {
		t.Fatal(err)
	}
	live.Apply(ctx, events.Change{Twin: twin, Op: events.OpDelete, Source: "test", At: time.Now(), NodesDeleted: 1,
		Nodes: []graph.NodeRef{{Label: graph.LabelAnomaly, Key: "anomaly-" + twin}}})
	if st := status("G1"); st.Status != "SUPPORTED" {
		t.Errorf("G1 once the anomaly is gone: %+v", st)
	}
}

// idOfDefeater reads the defeater id the engine computed for a trigger from its audit record.
func idOfDefeater(t *testing.T, db *graph.DB, ctx context.Context, twin, trigger string) string {
	t.Helper()
	recs, err := db.ResponseActions(ctx, twin, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.TriggerID == trigger {
			var args map[string]string
			_ = json.Unmarshal([]byte(r.Args), &args)
			return args["id"]
		}
	}
	t.Fatalf("no audit record for %s", trigger)
	return ""
}
