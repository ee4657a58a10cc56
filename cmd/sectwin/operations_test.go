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

// TestOperationsEndToEnd is the operations twin's contract through a real serve with a
// playbook: an unseen connection from a DMZ host into the database zone, posted as telemetry,
// is a policy deviation and an anomaly; the playbook quarantines the host; the claim "the
// database is reachable only from the app zone" turns UNDERMINED; subscribers see each step.
func TestOperationsEndToEnd(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	p := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"), "--playbooks", "testdata/operations/playbooks.yaml")
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
  upsertZones(twin: $t, input: [{name: "dmz", trust: "LOW"}, {name: "app", trust: "MEDIUM"}, {name: "core", trust: "HIGH"}]) { nodesCreated }
  upsertHosts(twin: $t, input: [{name: "web-1", addresses: ["10.0.1.5"]}, {name: "app-1", addresses: ["10.0.3.4"]}, {name: "db-1", addresses: ["10.0.2.7"]}]) { nodesCreated }
  upsertServices(twin: $t, input: [{name: "db", criticality: CRITICAL}]) { nodesCreated }
  link(twin: $t, edges: [
    {type: IN_ZONE, from: {type: HOST, key: "web-1"}, to: {type: ZONE, key: "dmz"}},
    {type: IN_ZONE, from: {type: HOST, key: "app-1"}, to: {type: ZONE, key: "app"}},
    {type: IN_ZONE, from: {type: HOST, key: "db-1"}, to: {type: ZONE, key: "core"}},
    {type: DEPLOYED_ON, from: {type: SERVICE, key: "db"}, to: {type: HOST, key: "db-1"}},
    {type: REACHES, from: {type: ZONE, key: "app"}, to: {type: ZONE, key: "core"}, properties: {port: 5432, proto: "tcp"}}]) { edgesCreated } }`, vars)
	caseYAML, err := os.ReadFile("testdata/operations/db-isolation.gsn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gql(`mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "db", files: $f) { id } }`,
		map[string]any{"t": twin, "f": []map[string]any{{"name": "db-isolation.gsn.yaml", "content": string(caseYAML)}}})
	statusG1 := func() string {
		c := gql(`query($t: String!) { assuranceCase(twin: $t, id: "db") { elements { id status } } }`, vars)["assuranceCase"].(map[string]any)
		for _, e := range c["elements"].([]any) {
			if m := e.(map[string]any); m["id"] == "G1" {
				s, _ := m["status"].(string)
				return s
			}
		}
		return ""
	}
	if s := statusG1(); s != "SUPPORTED" {
		t.Fatalf("before: G1 %s", s)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	api := &apitest.API{URL: p.base}
	subscribe := func(q string) *apitest.Subscription {
		t.Helper()
		s, err := api.Subscribe(ctx, token, q, vars)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	anomalies := subscribe(`subscription($t: String!) { anomalyDetected(twin: $t) { type entity about explanation evidence } }`)
	states := subscribe(`subscription($t: String!) { entityStateChanged(twin: $t) { op source nodes { id } } }`)
	statuses := subscribe(`subscription($t: String!) { assuranceStatusChanged(twin: $t, case: "db") { element to reasons } }`)
	time.Sleep(time.Second) // the server registers the subscriptions

	// The app server talks to the database as designed; web-1 in the DMZ does too, unseen.
	now := time.Now().UTC()
	var batch bytes.Buffer
	for i, f := range []telemetry.Flow{
		{Src: "10.0.3.4", Dst: "10.0.2.7", Port: 5432, Proto: "tcp", Bytes: 4096},
		{Src: "10.0.1.5", Dst: "10.0.2.7", Port: 5432, Proto: "tcp", Bytes: 512},
	} {
		data, err := telemetry.Encode(telemetry.Event{ID: "f" + string(rune('1'+i)), Source: "zeek-core", Time: now, Twin: twin, Kind: telemetry.KindFlow, Flow: &f})
		if err != nil {
			t.Fatal(err)
		}
		batch.Write(data)
		batch.WriteByte('\n')
	}
	req, _ := http.NewRequest(http.MethodPost, p.base+"/telemetry?twin="+twin, &batch)
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

	// 1. The anomaly: a first connection the design does not allow, from web-1.
	r, err := anomalies.Next(ctx)
	if err != nil || r.Errors != nil || !strings.Contains(string(r.Data), `"type":"new_edge"`) ||
		!strings.Contains(string(r.Data), graph.ID(graph.LabelHost, twin, "web-1")) || !strings.Contains(string(r.Data), "zone dmz to zone core") {
		t.Fatalf("anomalyDetected: %s %v %v", r.Data, r.Errors, err)
	}
	// 2. The playbook quarantines web-1.
	web1 := graph.ID(graph.LabelHost, twin, "web-1")
	for {
		r, err := states.Next(ctx)
		if err != nil || r.Errors != nil {
			t.Fatalf("entityStateChanged: %v %v", err, r.Errors)
		}
		if strings.Contains(string(r.Data), `"op":"QUARANTINE"`) && strings.Contains(string(r.Data), web1) {
			break
		}
	}
	host := gql(`query($t: String!) { host(twin: $t, name: "web-1") { state { quarantined quarantineReason quarantinedBy } } }`, vars)
	if b, _ := json.Marshal(host); !strings.Contains(string(b), `"quarantined":true`) || !strings.Contains(string(b), "quarantine-dmz-to-core") {
		t.Errorf("web-1 after the playbook: %s", b)
	}
	// 3. The claim is undermined.
	for {
		r, err := statuses.Next(ctx)
		if err != nil || r.Errors != nil {
			t.Fatalf("assuranceStatusChanged: %v %v (G1 is %s)", err, r.Errors, statusG1())
		}
		if strings.Contains(string(r.Data), `"element":"G1"`) && strings.Contains(string(r.Data), `"to":"UNDERMINED"`) {
			break
		}
	}
	// The live state, read back: one designed and one deviating connection, the anomaly.
	got := gql(`query($t: String!) { deviations: connections(twin: $t, deviationsOnly: true) { src { name } dst { name } port }
  all: connections(twin: $t) { designed } anomalies(twin: $t) { type entity } }`, vars)
	if b, _ := json.Marshal(got); !strings.Contains(string(b), `"deviations":[{"dst":{"name":"db-1"},"port":5432,"src":{"name":"web-1"}}]`) ||
		len(got["all"].([]any)) != 2 || len(got["anomalies"].([]any)) != 1 {
		t.Errorf("live state: %s", b)
	}
}
