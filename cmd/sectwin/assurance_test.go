package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestAssuranceEndToEnd is the contract, through a real serve, its ingest webhook and
// GraphQL: a claim about the traffic-signal service is SUPPORTED; a Grype scan bringing a
// critical CVE on one of its components undermines it (with reason, culprit and a pushed
// change); an OpenVEX not_affected supports it again; and when the scan evidence expires it
// turns UNKNOWN with EVIDENCE_STALE.
func TestAssuranceEndToEnd(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	p := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"))
	p.waitStatus(t, "/readyz", 200)
	token := p.adminToken(t)
	const digest = "sha256:7a3c5e1f0b9d8c7a6b5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a"
	const window = 30 * time.Second

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
	ingest := func(file string) {
		t.Helper()
		data, err := os.ReadFile("testdata/assurance/" + file)
		if err != nil {
			t.Fatal(err)
		}
		if status, out := post(t, p.base, token, "twin="+twin+"&subject="+digest+"&wait=60s", data, nil); status != 200 {
			t.Fatalf("ingest %s: %d %v", file, status, out)
		}
	}
	vars := map[string]any{"t": twin}
	gql(`mutation($t: String!) {
  upsertServices(twin: $t, input: [{name: "traffic-signal", criticality: CRITICAL}]) { nodesCreated }
  upsertArtifacts(twin: $t, input: [{digest: "`+digest+`", name: "traffic-signal", type: "IMAGE"}]) { nodesCreated }
  link(twin: $t, edges: [{type: RUNS, from: {type: SERVICE, key: "traffic-signal"}, to: {type: ARTIFACT, key: "`+digest+`"}}]) { edgesCreated } }`, vars)
	ingest("traffic-signal.cdx.json")

	caseYAML, err := os.ReadFile("testdata/assurance/traffic-signal.gsn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := []map[string]any{{"name": "traffic-signal.gsn.yaml", "content": strings.ReplaceAll(string(caseYAML), "WINDOW", window.String())}}
	status := func() map[string]map[string]any {
		t.Helper()
		c := gql(`query($t: String!) { assuranceCase(twin: $t, id: "ts") { elements { id status reasons } } }`, vars)["assuranceCase"].(map[string]any)
		out := map[string]map[string]any{}
		for _, e := range c["elements"].([]any) {
			m := e.(map[string]any)
			out[m["id"].(string)] = m
		}
		return out
	}
	gql(`mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "ts", files: $f) { id } }`,
		map[string]any{"t": twin, "f": files})
	if s := status(); s["G1"]["status"] != "SUPPORTED" || s["Sn1"]["status"] != "SUPPORTED" {
		t.Fatalf("after import: %v", s)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sub, err := (&apitest.API{URL: p.base}).Subscribe(ctx, token,
		`subscription($t: String!) { assuranceStatusChanged(twin: $t, case: "ts") { element kind from to reasons cause at } }`, vars)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	time.Sleep(time.Second) // the server registers the subscription
	// await reads pushed changes until the element reaches want, and returns that change.
	await := func(element, want string) map[string]any {
		t.Helper()
		var seen []string
		for {
			r, err := sub.Next(ctx)
			if err != nil || r.Errors != nil {
				// Stored but not announced, or not evaluated at all?
				hist := gql(`query($t: String!) { assuranceCase(twin: $t, id: "ts") { elements { id history { from to at cause } } } }`, vars)
				t.Fatalf("waiting for %s %s (seen %v): %v %v; stored now: %v; history: %v", element, want, seen, err, r.Errors, status()[element], hist)
			}
			var ev struct {
				AssuranceStatusChanged map[string]any
			}
			if err := r.Decode(&ev); err != nil {
				t.Fatal(err)
			}
			c := ev.AssuranceStatusChanged
			seen = append(seen, c["element"].(string)+"→"+c["to"].(string))
			if c["element"] == element && c["to"] == want {
				return c
			}
		}
	}

	// A Grype scan finds a critical CVE in minimist: the claim and its ancestors are undermined.
	ingest("traffic-signal.grype.json")
	scanned := time.Now()
	ch := await("G1", "UNDERMINED")
	cve := graph.ID(graph.LabelVulnerability, twin, "CVE-2026-31337")
	if ch["from"] != "SUPPORTED" || !strings.Contains(ch["reasons"].(string), "EVIDENCE_FAIL") || !strings.Contains(ch["reasons"].(string), cve) {
		t.Errorf("G1 undermined without its reason and culprit: %v", ch)
	}
	if !strings.Contains(ch["cause"].(string), "grype:") || !strings.Contains(ch["cause"].(string), "Sn1") {
		t.Errorf("the cause names neither the scan nor the evidence: %s", ch["cause"])
	}
	if s := status(); s["S1"]["status"] != "UNDERMINED" || s["G2"]["status"] != "UNDERMINED" || s["G3"]["status"] != "SUPPORTED" {
		t.Errorf("after the scan: %v", s)
	}
	hist := gql(`query($t: String!) { assuranceCase(twin: $t, id: "ts") { elements { id history { from to cause } } } }`, vars)
	found := false
	for _, e := range hist["assuranceCase"].(map[string]any)["elements"].([]any) {
		m := e.(map[string]any)
		if m["id"] == "G1" {
			for _, h := range m["history"].([]any) {
				found = found || h.(map[string]any)["to"] == "UNDERMINED"
			}
		}
	}
	if !found {
		t.Errorf("G1's history lacks the change: %v", hist)
	}
	impact := gql(`query($t: String!, $of: ID!) { assuranceImpact(twin: $t, of: $of) { case elements { id } } }`, map[string]any{"t": twin, "of": cve})
	if b, _ := json.Marshal(impact); !strings.Contains(string(b), `"id":"G1"`) || !strings.Contains(string(b), `"id":"Sn1"`) || strings.Contains(string(b), `"id":"Sn2"`) {
		t.Errorf("impact of %s: %s", cve, b)
	}
	prio := gql(`query($t: String!) { service(twin: $t, name: "traffic-signal") { monitoringPriority { score level weakestStatus } } }`, vars)
	if b, _ := json.Marshal(prio); !strings.Contains(string(b), `"score":16`) || !strings.Contains(string(b), `"level":"CRITICAL"`) {
		t.Errorf("monitoring priority of an undermined critical service: %s", b)
	}

	// The security team rules the CVE out with OpenVEX: supported again.
	ingest("traffic-signal.openvex.json")
	await("G1", "SUPPORTED")

	// Nobody scans again: when the scan evidence expires, the claim is UNKNOWN, stale.
	ch = await("G1", "UNKNOWN")
	if !strings.Contains(ch["reasons"].(string), "EVIDENCE_STALE") {
		t.Errorf("expired evidence: %v", ch)
	}
	if at, _ := time.Parse(time.RFC3339Nano, ch["at"].(string)); at.Before(scanned.Add(window - 2*time.Second)) {
		t.Errorf("went stale at %v, before the window from the scan at %v ended", at, scanned)
	}
	oscal := gql(`query($t: String!) { assuranceCase(twin: $t, id: "ts") { export(format: OSCAL) } }`, vars)["assuranceCase"].(map[string]any)["export"].(string)
	if !strings.Contains(oscal, `"assessment-results"`) || !strings.Contains(oscal, "G1") {
		t.Errorf("OSCAL export: %.400s", oscal)
	}
}
