package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestDefeaterPlaybookEndToEnd drives the defeater action through a real serve: an unseen
// connection from a DMZ host is an anomaly; the playbook adds a defeater, backed by that
// anomaly, to the claim about the host; the claim turns UNDERMINED (DEFEATED) through live
// evaluation, as GraphQL's assurance fields show; the audit trail lists the action with its
// trigger. A second unseen connection from the same host fires the playbook again and finds its
// defeater in place: the case is not edited twice.
func TestDefeaterPlaybookEndToEnd(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	p := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"), "--playbooks", "testdata/defeater/playbooks.yaml")
	p.waitStatus(t, "/readyz", 200)
	token := p.adminToken(t)
	gql := func(query string, vars map[string]any) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		code, resp := graphqlBody(t, p.base, token, body)
		var r struct {
			Data   map[string]any
			Errors []map[string]any
		}
		if err := json.Unmarshal([]byte(resp), &r); err != nil || code != 200 || len(r.Errors) > 0 {
			t.Fatalf("%s\n→ %d %s", query, code, resp)
		}
		return r.Data
	}
	vars := map[string]any{"t": twin}
	gql(`mutation($t: String!) {
  upsertZones(twin: $t, input: [{name: "dmz", trust: "LOW"}, {name: "core", trust: "HIGH"}]) { nodesCreated }
  upsertHosts(twin: $t, input: [{name: "web-1", addresses: ["10.0.1.5"]}, {name: "db-1", addresses: ["10.0.2.7"]}]) { nodesCreated }
  link(twin: $t, edges: [
    {type: IN_ZONE, from: {type: HOST, key: "web-1"}, to: {type: ZONE, key: "dmz"}},
    {type: IN_ZONE, from: {type: HOST, key: "db-1"}, to: {type: ZONE, key: "core"}}]) { edgesCreated } }`, vars)
	caseYAML, err := os.ReadFile("testdata/defeater/web.gsn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gql(`mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "web", files: $f) { id } }`,
		map[string]any{"t": twin, "f": []map[string]any{{"name": "web.gsn.yaml", "content": string(caseYAML)}}})
	type element struct {
		ID, Type, Text, Status, Reasons string
		Challenges                      []string
		Defeater                        *struct{ Kind, State, Severity string }
		Evidence                        string
	}
	readCase := func() (int, map[string]element) {
		t.Helper()
		c := gql(`query($t: String!) { assuranceCase(twin: $t, id: "web") { version
  elements { id type text status reasons challenges evidence defeater { kind state severity } } } }`, vars)["assuranceCase"]
		b, _ := json.Marshal(c)
		var out struct {
			Version  int
			Elements []element
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		els := map[string]element{}
		for _, e := range out.Elements {
			els[e.ID] = e
		}
		return out.Version, els
	}
	if _, els := readCase(); els["G1"].Status != "SUPPORTED" {
		t.Fatalf("before: G1 %+v", els["G1"])
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	api := &apitest.API{URL: p.base}
	statuses, err := api.Subscribe(ctx, token, `subscription($t: String!) { assuranceStatusChanged(twin: $t, case: "web") { element to reasons } }`, vars)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(statuses.Close)
	anomalies, err := api.Subscribe(ctx, token, `subscription($t: String!) { anomalyDetected(twin: $t) { type entity } }`, vars)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(anomalies.Close)
	time.Sleep(time.Second) // the server registers the subscriptions

	postFlow := func(id string, port int) {
		t.Helper()
		data, err := telemetry.Encode(telemetry.Event{ID: id, Source: "zeek-dmz", Time: time.Now().UTC(), Twin: twin, Kind: telemetry.KindFlow,
			Flow: &telemetry.Flow{Src: "10.0.1.5", Dst: "10.0.2.7", Port: port, Proto: "tcp", Bytes: 512}})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, p.base+"/telemetry?twin="+twin, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("post telemetry: %d %s", resp.StatusCode, raw)
		}
	}

	// 1. An unseen connection from web-1 in the DMZ to the database: an anomaly about web-1.
	postFlow("f1", 5432)
	r, err := anomalies.Next(ctx)
	if err != nil || r.Errors != nil || !strings.Contains(string(r.Data), `"type":"new_edge"`) {
		t.Fatalf("anomalyDetected: %s %v %v", r.Data, r.Errors, err)
	}
	// 2. The playbook doubts the claim about web-1, and live evaluation undermines it.
	for {
		r, err := statuses.Next(ctx)
		if err != nil || r.Errors != nil {
			_, els := readCase()
			t.Fatalf("assuranceStatusChanged: %v %v (G1 is %+v)", err, r.Errors, els["G1"])
		}
		if strings.Contains(string(r.Data), `"element":"G1"`) && strings.Contains(string(r.Data), `"to":"UNDERMINED"`) {
			break
		}
	}
	version, els := readCase()
	if g1 := els["G1"]; g1.Status != "UNDERMINED" || !strings.Contains(g1.Reasons, "DEFEATED") {
		t.Errorf("G1 after the playbook: %+v", g1)
	}
	var d element
	for _, e := range els {
		if e.Type == "Defeater" {
			if d.ID != "" {
				t.Errorf("two defeaters: %s and %s", d.ID, e.ID)
			}
			d = e
		}
	}
	if d.ID == "" || len(d.Challenges) != 1 || d.Challenges[0] != "G1" || d.Defeater == nil || d.Defeater.Kind != "rebutting" ||
		d.Defeater.Severity != "medium" || d.Text != "unseen connection from web-1 to db-1" || !strings.Contains(d.Evidence, "Anomaly") {
		t.Errorf("the defeater: %+v", d)
	}

	// 3. The audit trail: the defeater action, done, with its trigger (the anomaly).
	actions := func(n int) []graph.ResponseRecord {
		t.Helper()
		for {
			recs, err := db.ResponseActions(ctx, twin, "doubt-dmz-host", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) >= n && recs[n-1].Outcome != "queued" && recs[n-1].Outcome != "retrying" {
				return recs
			}
			select {
			case <-ctx.Done():
				t.Fatalf("action %d not finished: %+v", n, recs)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	recs := actions(1)
	if len(recs) != 1 || recs[0].Action != "defeater" || recs[0].Outcome != "done" || recs[0].TriggerKind != "anomaly" ||
		!strings.Contains(recs[0].TriggerSummary, "web-1") || !strings.Contains(d.Evidence, recs[0].TriggerID) {
		t.Errorf("audit: %+v", recs)
	}

	// 4. Another unseen connection from web-1: the playbook fires again, finds its defeater.
	postFlow("f2", 22)
	if r, err := anomalies.Next(ctx); err != nil || r.Errors != nil {
		t.Fatalf("second anomaly: %v %v", err, r.Errors)
	}
	if recs := actions(2); len(recs) != 2 || recs[1].Outcome != "done" || recs[1].ActionID == recs[0].ActionID {
		t.Errorf("second action: %+v", recs)
	}
	if v, els := readCase(); v != version || els["G1"].Status != "UNDERMINED" {
		t.Errorf("after the second trigger: version %d (was %d), G1 %+v", v, version, els["G1"])
	}
}
