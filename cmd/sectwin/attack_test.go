package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestAttackPathsEndToEnd is the attack-path scenario through the real interfaces: a manifest
// applied with the CLI, an SBOM of the web service posted to the ingest webhook, then GraphQL
// and the report command. The path internet → DMZ web service (Log4Shell) → application zone →
// customer database must come first, explained by its CVE and rules.
func TestAttackPathsEndToEnd(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.Twin(t, db)
	p := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"))
	p.waitStatus(t, "/readyz", 200)
	token := p.adminToken(t)

	manifest, err := os.ReadFile("testdata/attack/twin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "twin.yaml")
	if err := os.WriteFile(file, bytes.Replace(manifest, []byte("twin: TWIN"), []byte("twin: "+twin), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"apply", "--server", p.base, "--data-dir", p.dataDir, "-f", file}, &out, &errOut); err != nil {
		t.Fatalf("apply: %v\n%s", err, errOut.String())
	}
	sbom, err := os.ReadFile("testdata/attack/web-portal.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	webDigest := "sha256:5f1c0b7e3c0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b"
	if status, res := post(t, p.base, token, "twin="+twin+"&subject="+webDigest+"&wait=60s", sbom, nil); status != 200 {
		t.Fatalf("ingest: %d %v", status, res)
	}

	id := func(label, key string) string { return graph.ID(label, twin, key) }
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
	gqlErrCode := func(query string, vars map[string]any) string {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		_, resp := graphqlBody(t, p.base, token, body)
		var r struct {
			Errors []struct{ Extensions map[string]any }
		}
		_ = json.Unmarshal([]byte(resp), &r)
		if len(r.Errors) == 0 {
			t.Fatalf("%s: no error: %s", query, resp)
		}
		code, _ := r.Errors[0].Extensions["code"].(string)
		return code
	}
	vars := map[string]any{"t": twin}

	d := gql(`mutation($t: String!) { deriveAttackGraph(twin: $t) { steps created } }`, vars)["deriveAttackGraph"].(map[string]any)
	if d["steps"].(float64) < 10 || d["created"].(float64) != d["steps"].(float64) {
		t.Fatalf("derivation: %v", d)
	}
	again := gql(`mutation($t: String!) { deriveAttackGraph(twin: $t) { steps created updated deleted } }`, vars)["deriveAttackGraph"].(map[string]any)
	if again["created"].(float64) != 0 || again["updated"].(float64) != 0 || again["deleted"].(float64) != 0 {
		t.Fatalf("a second derivation rewrote steps: %v", again)
	}

	res := gql(`query($t: String!) { attackPaths(twin: $t, k: 5) { entryPoints targets compromiseEstimate
  paths { rank likelihood explanation entry { id } target { id } techniques
    hops { from { id } to { id } rule technique probability evidence { id } explanation } } } }`, vars)["attackPaths"].(map[string]any)
	paths := res["paths"].([]any)
	if len(paths) == 0 {
		t.Fatalf("no attack paths: %v", res)
	}
	first := paths[0].(map[string]any)
	var nodes, rules []string
	hops := first["hops"].([]any)
	for i, h := range hops {
		hop := h.(map[string]any)
		if i == 0 {
			nodes = append(nodes, hop["from"].(map[string]any)["id"].(string))
		}
		nodes = append(nodes, hop["to"].(map[string]any)["id"].(string))
		rules = append(rules, hop["rule"].(string))
	}
	want := []string{id("Zone", "internet"), id("Service", "web-portal"), id("Zone", "dmz"), id("Zone", "app"), id("Zone", "data"), id("DataStore", "customer-db")}
	if !slices.Equal(nodes, want) {
		t.Fatalf("first path %v, want %v\n%v", nodes, want, first)
	}
	h0 := hops[0].(map[string]any)
	ev := h0["evidence"].([]any)
	if h0["rule"] != "exposed-exploit" || h0["technique"] != "T1190" || len(ev) != 1 || ev[0].(map[string]any)["id"] != id("Vulnerability", "CVE-2021-44228") {
		t.Fatalf("first hop: %v", h0)
	}
	if expl := first["explanation"].(string); !strings.Contains(expl, "CVE-2021-44228") || !strings.Contains(expl, "exposed-exploit") {
		t.Fatalf("explanation does not name the CVE and the rule: %q", expl)
	}
	if !strings.Contains(h0["explanation"].(string), "CVE-2021-44228") || strings.Contains(h0["explanation"].(string), "CVE-2016-1000027") {
		t.Fatalf("hop explanation (the VEX not_affected spring CVE must not count): %q", h0["explanation"])
	}
	if l := first["likelihood"].(float64); l <= 0 || l > 1 {
		t.Fatalf("likelihood %v", l)
	}

	cp := gql(`query($t: String!) { chokePoints(twin: $t) { node { id } isDominator } minimumCut(twin: $t) { size possible nodes { id } }
  fixPlan(twin: $t) { summary removedPct actions { description rule from { id } to { id } } } }`, vars)
	chokes := cp["chokePoints"].([]any)
	if len(chokes) == 0 || chokes[0].(map[string]any)["isDominator"] != true {
		t.Fatalf("choke points: %v", chokes)
	}
	plan := cp["fixPlan"].(map[string]any)
	acts := plan["actions"].([]any)
	if len(acts) == 0 || !strings.Contains(acts[0].(map[string]any)["description"].(string), "CVE-2021-44228") {
		t.Fatalf("fix plan: %v", plan)
	}
	if mc := cp["minimumCut"].(map[string]any); mc["possible"] != true || mc["size"].(float64) != 1 {
		t.Fatalf("minimum cut: %v", mc)
	}

	br := gql(`query($t: String!, $n: ID!) { blastRadius(twin: $t, node: $n, minLikelihood: 0) { node { id } likelihood hops } }`,
		map[string]any{"t": twin, "n": id("Service", "web-portal")})["blastRadius"].([]any)
	reached := map[string]bool{}
	for _, r := range br {
		reached[r.(map[string]any)["node"].(map[string]any)["id"].(string)] = true
	}
	if !reached[id("Zone", "app")] || !reached[id("DataStore", "customer-db")] {
		t.Fatalf("blast radius of web-portal: %v", br)
	}

	// A simulation never writes: patching Log4Shell removes both of its exploit steps (from the
	// internet, and from the DMZ the web service sits in) and so every path, and the stored
	// attack graph is unchanged.
	before, _ := db.Stats(context.Background(), twin)
	sim := gql(`query($t: String!) { simulate(twin: $t, changes: [{patchVulnerability: "CVE-2021-44228"}]) {
  before { paths { key } } after { paths { key } } stepsRemoved likelihoodChangePct } }`, vars)["simulate"].(map[string]any)
	if len(sim["after"].(map[string]any)["paths"].([]any)) != 0 || sim["stepsRemoved"].(float64) != 2 || sim["likelihoodChangePct"].(float64) != -100 {
		t.Fatalf("simulation: %v", sim)
	}
	after, _ := db.Stats(context.Background(), twin)
	if before.TotalNodes() != after.TotalNodes() || before.TotalEdges() != after.TotalEdges() {
		t.Fatalf("the simulation wrote: %v → %v", before, after)
	}
	if again := gql(`query($t: String!) { attackPaths(twin: $t, k: 1) { paths { rank } } }`, vars)["attackPaths"].(map[string]any); len(again["paths"].([]any)) != 1 {
		t.Fatalf("paths after the simulation: %v", again)
	}

	// Bad input.
	for _, c := range []struct{ query, code string }{
		{`query($t: String!) { attackPaths(twin: $t, k: 0) { entryPoints } }`, "BAD_USER_INPUT"},
		{`query($t: String!) { attackPaths(twin: $t, from: {ids: ["Zone:` + twin + `:nowhere"]}) { entryPoints } }`, "BAD_USER_INPUT"},
		{`query($t: String!) { attackPaths(twin: $t, from: {ids: ["Zone:other-twin:internet"]}) { entryPoints } }`, "BAD_USER_INPUT"},
		{`query($t: String!) { shortestAttackPaths(twin: $t, from: "` + id("Zone", "internet") + `", to: "` + id("DataStore", "customer-db") + `", maxHops: 50) { likelihood } }`, "QUERY_TOO_COMPLEX"},
		{`query($t: String!) { simulate(twin: $t, changes: [{}]) { stepsAdded } }`, "BAD_USER_INPUT"},
		{`query($t: String!) { simulate(twin: $t, changes: [{patchVulnerability: "CVE-0000-0000"}]) { stepsAdded } }`, "BAD_USER_INPUT"},
		{`query { attackPaths(twin: "no-such-twin") { entryPoints } }`, "NOT_FOUND"},
	} {
		if got := gqlErrCode(c.query, vars); got != c.code {
			t.Errorf("%s: code %s, want %s", c.query, got, c.code)
		}
	}
	sp := gql(`query($t: String!, $a: ID!, $b: ID!) { shortestAttackPaths(twin: $t, from: $a, to: $b, k: 2, maxHops: 8) { nodes { id } rules } }`,
		map[string]any{"t": twin, "a": id("Zone", "internet"), "b": id("DataStore", "customer-db")})["shortestAttackPaths"].([]any)
	if len(sp) == 0 {
		t.Fatalf("no hop-count path")
	}

	// An analyst override is recorded and applied.
	o := gql(`mutation($t: String!, $a: ID!, $b: ID!) { overrideAttackProbability(twin: $t, from: $a, to: $b, rule: "datastore-network-access", probability: 0.5, reason: "default password found in the pentest") { version active } }`,
		map[string]any{"t": twin, "a": id("Zone", "data"), "b": id("DataStore", "customer-db")})["overrideAttackProbability"].(map[string]any)
	if o["version"].(float64) != 1 || o["active"] != true {
		t.Fatalf("override: %v", o)
	}
	last := gql(`query($t: String!) { attackPaths(twin: $t, k: 1) { paths { hops { rule probability overridden baseProbability } } } }`, vars)["attackPaths"].(map[string]any)
	lastHops := last["paths"].([]any)[0].(map[string]any)["hops"].([]any)
	lh := lastHops[len(lastHops)-1].(map[string]any)
	if lh["probability"] != 0.5 || lh["overridden"] != true || lh["baseProbability"] != 0.05 {
		t.Fatalf("overridden hop: %v", lh)
	}

	// The report command: Markdown, then HTML; each run is stored, and the second diffs
	// against the first.
	dir := t.TempDir()
	for i, f := range []string{"md", "html"} {
		outFile := filepath.Join(dir, "report."+f)
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), []string{"report", "attack-paths", "--twin", twin, "--format", f, "--out", outFile,
			"--server", p.base, "--data-dir", p.dataDir}, &stdout, &stderr); err != nil {
			t.Fatalf("report %s: %v\n%s", f, err, stderr.String())
		}
		data, _ := os.ReadFile(outFile)
		if !bytes.Contains(data, []byte("CVE-2021-44228")) || !bytes.Contains(data, []byte("customer-db")) {
			t.Fatalf("report %s lacks the path:\n%s", f, data)
		}
		if f == "html" && !bytes.Contains(data, []byte("<svg")) {
			t.Fatalf("the HTML report has no diagram")
		}
		if i == 1 && !strings.Contains(stderr.String(), " (0 new, 0 resolved)") {
			t.Fatalf("second run: %s", stderr.String())
		}
	}
	reps := gql(`query($t: String!) { reports(twin: $t) { id status paths newPaths } }`, vars)["reports"].([]any)
	if len(reps) != 2 || reps[1].(map[string]any)["newPaths"].(float64) == 0 || reps[0].(map[string]any)["newPaths"].(float64) != 0 {
		t.Fatalf("stored reports: %v", reps)
	}
}
