package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/internal/testenv"
)

// buildSectwin builds the binary for tests that run it as a user would.
func buildSectwin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sectwin")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// edgeInput is telemetry full of personal data: emails, IPv4 and IPv6 addresses, MAC
// addresses, number plates, GPS points and phone numbers, plus one malformed line.
const edgeInput = `{"ts":"2026-11-23T10:07:13Z","event":"login","src_ip":"203.0.113.77","user":"alice@example.org","email":"alice@example.org","device_mac":"00:1A:2B:3C:4D:5E","plate":"AB-123-CD","location":[10.75231,59.91387],"note":"contact bob@example.com please","phone":"+47 912 34 567"}
{"ts":"2026-11-23T10:21:59Z","event":"login","src_ip":"2001:db8:85a3::8a2e:370:7334","user":"alice@example.org","device_mac":"00:1A:2B:3C:4D:5F","plate":"XY-987-ZT","location":[10.70001,59.90001],"gps":"59.91387,10.75231"}
not json at all
{"ts":"2026-11-23T10:22:00Z","event":"logout","user":"carol@example.net","src_ip":"198.51.100.23","owner":{"name":"Carol Example","mac":"AA:BB:CC:DD:EE:FF"}}
`

// rawValues must never leave the collector.
var rawValues = []string{"alice@example.org", "bob@example.com", "carol@example.net", "203.0.113.77", "8a2e:370:7334",
	"198.51.100.23", "00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5F", "AA:BB:CC:DD:EE:FF", "AB-123-CD", "XY-987-ZT", "10.75231",
	"59.91387", "10.70001", "+47 912 34 567", "Carol Example"}

func writeEdgeConfig(t *testing.T, dir, rotation, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`version: 1
site: depot-7
twin: city-traffic
dead_letter: %s
inputs:
  - {name: stdin, type: stdin, decoder: json, pipeline: people}
outputs:
  - {name: out, type: stdout}
pipelines:
  people:
    allow_fields: [ts, event, src_ip, user, device_mac, plate, location, note]
    blocked_values: ['[\w.+-]+@[\w.-]+\.\w+']
    generalize:
      src_ip: {ipv4_prefix: 24, ipv6_prefix: 48}
      ts: {bucket: 15m}
      location: {geohash: 5}
    pseudonymize: {fields: [user, device_mac, plate], key_ref: env:EDGE_TEST_KEY, key_id: k1, rotation: %s}
%s`, filepath.Join(dir, "dead.jsonl"), rotation, extra)
	path := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runEdgeBinary(t *testing.T, bin string, stdin string, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), env...)
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// TestEdgeStdinToStdout is the contract's first case, through the binary: JSON lines with
// personal data in on stdin, minimised records out on stdout.
func TestEdgeStdinToStdout(t *testing.T) {
	bin := buildSectwin(t)
	dir := t.TempDir()
	cfg := writeEdgeConfig(t, dir, "none", "")
	env := []string{"EDGE_TEST_KEY=an-edge-site-secret-key-0123456789"}
	out, errOut, err := runEdgeBinary(t, bin, edgeInput, env, "edge", "--config", cfg, "--log-format", "json")
	if err != nil {
		t.Fatalf("sectwin edge: %v\n%s", err, errOut)
	}
	for _, raw := range rawValues {
		if strings.Contains(out, raw) {
			t.Errorf("raw value %q left the collector:\n%s", raw, out)
		}
	}
	if strings.Contains(errOut, "an-edge-site-secret-key") {
		t.Error("the pseudonymisation key reached the logs")
	}
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records out, want 3 (the malformed line is dead-lettered):\n%s", len(recs), out)
	}
	want := []struct{ ip, ts, loc string }{
		{"203.0.113.0/24", "2026-11-23T10:00:00Z", "u4xsu"},
		{"2001:db8:85a3::/48", "2026-11-23T10:15:00Z", "u4xsg"},
		{"198.51.100.0/24", "2026-11-23T10:15:00Z", ""},
	}
	pseudonym := regexp.MustCompile(`^k1:[A-Za-z0-9_-]{22}$`)
	for i, r := range recs {
		if r["src_ip"] != want[i].ip || r["ts"] != want[i].ts {
			t.Errorf("record %d: src_ip %v ts %v, want %s %s", i, r["src_ip"], r["ts"], want[i].ip, want[i].ts)
		}
		if want[i].loc != "" && r["location"] != want[i].loc {
			t.Errorf("record %d: location %v, want geohash %s", i, r["location"], want[i].loc)
		}
		for _, f := range []string{"email", "phone", "gps", "owner.name", "owner.mac"} {
			if _, ok := r[f]; ok {
				t.Errorf("record %d: field %s is not allowlisted but came out", i, f)
			}
		}
		if u, _ := r["user"].(string); !pseudonym.MatchString(u) {
			t.Errorf("record %d: user %q is not a pseudonym", i, u)
		}
	}
	if recs[0]["user"] != recs[1]["user"] || recs[0]["user"] == recs[2]["user"] || recs[0]["device_mac"] == recs[1]["device_mac"] {
		t.Errorf("pseudonyms must be stable per value and differ between values: %v %v %v", recs[0]["user"], recs[1]["user"], recs[2]["user"])
	}
	if recs[0]["note"] != "contact **** please" {
		t.Errorf("an email inside an allowed field must be masked: %v", recs[0]["note"])
	}
	// The same input again gives the same pseudonyms (same key, no rotation); a daily epoch
	// changes them, and names its epoch.
	again, _, err := runEdgeBinary(t, bin, edgeInput, env, "edge", "--config", cfg)
	if err != nil || again != out {
		t.Errorf("a second run differs: %v\n%s", err, again)
	}
	daily := writeEdgeConfig(t, t.TempDir(), "daily", "")
	rotated, _, err := runEdgeBinary(t, bin, edgeInput, env, "edge", "--config", daily)
	if err != nil {
		t.Fatal(err)
	}
	epoch := "k1" + time.Now().UTC().Format("20060102") + ":"
	if strings.Contains(rotated, recs[0]["user"].(string)) || !strings.Contains(rotated, `"user":"`+epoch) {
		t.Errorf("a daily epoch must change pseudonyms and name the epoch %s:\n%s", epoch, rotated)
	}
	dead, err := os.ReadFile(filepath.Join(dir, "dead.jsonl"))
	if err != nil || !strings.Contains(string(dead), `"line":3`) || strings.Contains(string(dead), "not json") {
		t.Errorf("dead letters (reason and line, no raw bytes by default): %s %v", dead, err)
	}
	if !strings.Contains(errOut, `"malformed":1`) || !strings.Contains(errOut, `"released":3`) {
		t.Errorf("the collector's counters: %s", errOut)
	}
}

func TestEdgeRefusesBadConfigs(t *testing.T) {
	bin := buildSectwin(t)
	tests := []struct {
		name, config string
		env          []string
		want         []string
	}{
		{"unknown field and wrong type", "version: 1\nsite: s\ntwin: t\ndead_letter: d\nbogus: 1\ninputs: 3\n", nil,
			[]string{"edge.yaml:5:", "bogus", "edge.yaml:6:"}},
		{"two documents", "version: 1\n---\nversion: 1\n", nil, []string{"edge.yaml:3:", "a second YAML document"}},
		{"missing key file names the file", `version: 1
site: s
twin: t
dead_letter: DEAD
inputs: [{name: in, type: stdin, decoder: json, pipeline: p}]
outputs: [{name: out, type: stdout}]
pipelines:
  p:
    allow_fields: [a]
    pseudonymize: {fields: [a], key_ref: "file:/nonexistent/edge.key", key_id: k1}
`, nil, []string{"/nonexistent/edge.key"}},
		{"values", `version: 2
site: Bad Site
twin: t
dead_letter: DEAD
inputs: [{name: in, type: carrier-pigeon, decoder: xml, pipeline: nope}]
outputs: [{name: out, type: stdout}]
pipelines:
  p:
    allow_fields: [a]
    generalize: {a: {ipv4_prefix: 40}}
    aggregate: {window: 15m, metrics: [{name: n, algo: DP-Magic, epsilon: -1}], budget: {epsilon: 1, guarantee: forever}}
`, nil, []string{"edge.yaml:1: version", "edge.yaml:2: site", "inputs[0].type", "inputs[0].decoder", "inputs[0].pipeline",
			"ipv4_prefix", "metrics[0]", "budget", "ledger", "privacy_unit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "edge.yaml")
			if err := os.WriteFile(path, []byte(strings.ReplaceAll(tt.config, "DEAD", filepath.Join(dir, "dead"))), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, sub := range [][]string{{"edge", "check", "--config", path}, {"edge", "--config", path}} {
				_, errOut, err := runEdgeBinary(t, bin, "", tt.env, sub...)
				if err == nil {
					t.Fatalf("%v accepted a bad config", sub)
				}
				for _, w := range tt.want {
					if !strings.Contains(errOut, w) {
						t.Errorf("%v: the errors do not mention %q:\n%s", sub, w, errOut)
					}
				}
			}
		})
	}
}

// TestEdgeToTwin runs the collector against a real sectwin serve: minimised events and DP
// aggregates go over the server's NATS into the twin's operations side, with their privacy
// manifest, and the budget ledger verifies afterwards.
func TestEdgeToTwin(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.Twin(t, db)
	bin := buildSectwin(t)
	dataDir := t.TempDir()
	natsPort := freePort(t)
	p := startServe(t, dataDir, os.Getenv("NEO4J_URI"), "--nats-port", fmt.Sprint(natsPort))
	p.waitStatus(t, "/readyz", 200)
	token := p.adminToken(t)
	if code, body := graphql(t, p.base, token, `mutation { createTwin(input: {name: "`+twin+`"}) { name } }`); code != 200 || strings.Contains(body, "errors") {
		t.Fatalf("createTwin: %d %s", code, body)
	}
	if code, body := graphql(t, p.base, token, `mutation { upsertZones(twin: "`+twin+`", input: [{name: "depot-7", trust: "LOW"}]) { nodesCreated } }`); code != 200 || strings.Contains(body, "errors") {
		t.Fatalf("upsertZones: %d %s", code, body)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`version: 1
site: depot-7
twin: %s
dead_letter: %s
ledger: %s
inputs:
  - {name: flows, type: stdin, decoder: json, pipeline: flows}
outputs:
  - {name: twin, type: nats, url: "nats://127.0.0.1:%d", token_ref: "file:%s"}
pipelines:
  flows:
    privacy_unit: src_ip
    allow_fields: [src_ip, dst_port, bytes, event]
    pseudonymize: {fields: [src_ip], key_ref: env:EDGE_TEST_KEY, key_id: k1}
    link: {label: Zone, key: depot-7}
    release_events: true
    aggregate:
      window: 1h
      group_by: [dst_port]
      partitions: {dst_port: ["22", "443"]}
      metrics:
        - {name: flows, algo: DP-Count, epsilon: 1.0}
        - {name: bytes, algo: DP-Sum, field: bytes, epsilon: 1.0, bounds: [0, 10000]}
      budget: {epsilon: 2.0, guarantee: unit}
`, twin, filepath.Join(dir, "dead.jsonl"), filepath.Join(dir, "ledger.jsonl"), natsPort, filepath.Join(dataDir, "nats", "token"))
	path := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for i := range 40 {
		fmt.Fprintf(&in, `{"src_ip":"10.0.%d.%d","dst_port":%d,"bytes":%d,"event":"flow"}`+"\n", i%3, i, []int{22, 443}[i%2], 100*i)
	}
	env := []string{"EDGE_TEST_KEY=edge-to-twin-key-0123456789abcdef"}
	if _, errOut, err := runEdgeBinary(t, bin, in.String(), env, "edge", "--config", path, "--log-format", "json"); err != nil {
		t.Fatalf("sectwin edge: %v\n%s", err, errOut)
	}
	// A second run finds the budget spent (unit-level ε 2 = two metrics of ε 1): it releases
	// events but refuses the aggregates.
	_, errOut, err := runEdgeBinary(t, bin, in.String(), env, "edge", "--config", path, "--log-format", "json")
	if err != nil || !strings.Contains(errOut, "budget_exhausted") || !strings.Contains(errOut, `"refused_budget_exhausted":2`) {
		t.Errorf("second run: %v\n%s", err, errOut)
	}
	for _, args := range [][]string{{"--ledger", filepath.Join(dir, "ledger.jsonl")}, {"--config", path}} {
		budgetOut, errOut, err := runEdgeBinary(t, bin, "", nil, append([]string{"edge", "budget"}, args...)...)
		if err != nil || !strings.Contains(budgetOut, "chain verified") || !regexp.MustCompile(`flows\s+src_ip\s+unit\s+2\s+2\s+0`).MatchString(budgetOut) {
			t.Errorf("edge budget %v: %v\n%s%s", args, err, budgetOut, errOut)
		}
	}

	type stored struct{ events, aggregates, linked int64 }
	var got stored
	var manifest string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		v, err := db.ReadTx(t.Context(), func(tx neo4j.ManagedTransaction) (any, error) {
			res, err := tx.Run(t.Context(), `OPTIONAL MATCH (e:EdgeEvent {twin: $twin}) WITH count(e) AS events
OPTIONAL MATCH (a:EdgeAggregate {twin: $twin}) WITH events, count(a) AS aggs, collect(a)[0] AS one
OPTIONAL MATCH (n {twin: $twin})-[d:DESCRIBES]->(:Zone {twin: $twin, name: 'depot-7'})
RETURN events, aggs, count(d), [one.mechanism, one.epsilon, one.guarantee, one.keyId, one.site, toString(one.ledgerEntry IS NOT NULL)]`,
				map[string]any{"twin": twin})
			if err != nil {
				return nil, err
			}
			rec, err := res.Single(t.Context())
			if err != nil {
				return nil, err
			}
			manifest = fmt.Sprint(rec.Values[3])
			return stored{rec.Values[0].(int64), rec.Values[1].(int64), rec.Values[2].(int64)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got = v.(stored)
		if got == (stored{80, 4, 84}) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got != (stored{80, 4, 84}) {
		t.Errorf("stored %+v, want 80 events (two runs), 4 aggregates (2 metrics × 2 ports, first run only), all linked to the zone", got)
	}
	if !strings.Contains(manifest, "dlap-cks20") || !strings.Contains(manifest, " 1 unit k1 depot-7 true") {
		t.Errorf("the stored aggregate's manifest: %s", manifest)
	}
}

// TestEdgeSecureAggregation runs three collectors of one cohort and their regional aggregator
// as separate processes over a sectwin server's NATS: the aggregator releases the cohort's
// per-port counts (ε 20 per collector, so the noise is zero with overwhelming probability) and
// never a collector's own.
func TestEdgeSecureAggregation(t *testing.T) {
	testenv.Migrated(t) // the server needs Neo4j
	bin := buildSectwin(t)
	dataDir := t.TempDir()
	natsPort := freePort(t)
	p := startServe(t, dataDir, os.Getenv("NEO4J_URI"), "--nats-port", fmt.Sprint(natsPort))
	p.waitStatus(t, "/readyz", 200)
	tokenFile := filepath.Join(dataDir, "nats", "token")
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	aggregate := `
      window: 1h
      group_by: [dst_port]
      partitions: {dst_port: ["22", "443"]}
      metrics:
        - {name: sources, algo: DP-Count, epsilon: 20}
      budget: {epsilon: 20, guarantee: event}
      secure_aggregation: {cohort: district-7, member: %d, members: [1, 2, 3], threshold: 2, output: region, timeout: 60s}`
	dir := t.TempDir()
	aggCfg := filepath.Join(dir, "aggregate.yaml")
	err := os.WriteFile(aggCfg, []byte(fmt.Sprintf(`version: 1
site: district-7-aggregator
twin: city-traffic
ledger: %s
phase_timeout: 20s
nats: {name: rounds, type: nats, url: "%s", token_ref: "file:%s"}
outputs: [{name: out, type: stdout}]
pipelines:
  flows:
    aggregate:`+aggregate+"\n", filepath.Join(dir, "regional-ledger.jsonl"), natsURL, tokenFile, 1)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	agg := exec.Command(bin, "edge", "aggregate", "--config", aggCfg, "--log-format", "json")
	aggOut, err := agg.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	aggErr := newLockedBuffer()
	agg.Stderr = aggErr
	if err := agg.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = agg.Process.Kill(); _ = agg.Wait() }()
	// Collectors speak only once the aggregator listens: core NATS keeps nothing for later.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(aggErr.String(), "serving rounds"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the aggregator did not start serving:\n%s", aggErr.String())
		}
	}

	// Collector k sees 2k sources on port 22 and k on port 443.
	type run struct {
		out, errOut string
		err         error
	}
	done := make(chan run, 3)
	for k := 1; k <= 3; k++ {
		cdir := t.TempDir()
		cfg := filepath.Join(cdir, "edge.yaml")
		err := os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
site: depot-%d
twin: city-traffic
dead_letter: %s
ledger: %s
inputs: [{name: flows, type: stdin, decoder: json, pipeline: flows}]
outputs: [{name: region, type: nats, url: "%s", token_ref: "file:%s"}]
pipelines:
  flows:
    privacy_unit: src_ip
    allow_fields: [src_ip, dst_port]
    aggregate:`+aggregate+"\n", k, filepath.Join(cdir, "dead"), filepath.Join(cdir, "ledger.jsonl"), natsURL, tokenFile, k)), 0o600)
		if err != nil {
			t.Fatal(err)
		}
		var in strings.Builder
		for i := range 3 * k {
			port := 22
			if i >= 2*k {
				port = 443
			}
			fmt.Fprintf(&in, `{"src_ip":"10.%d.0.%d","dst_port":%d}`+"\n", k, i, port)
		}
		go func() {
			out, errOut, err := runEdgeBinary(t, bin, in.String(), nil, "edge", "--config", cfg, "--log-format", "json")
			done <- run{out, errOut, err}
		}()
	}
	for range 3 {
		r := <-done
		if r.err != nil || strings.Contains(r.errOut, "not in the cohort's sum") {
			t.Errorf("collector: %v\n%s", r.err, r.errOut)
		}
	}
	lines := make(chan string, 4)
	go func() {
		buf := make([]byte, 1<<16)
		var acc strings.Builder
		for {
			n, err := aggOut.Read(buf)
			acc.Write(buf[:n])
			for {
				s := acc.String()
				i := strings.IndexByte(s, '\n')
				if i < 0 {
					break
				}
				lines <- s[:i]
				acc.Reset()
				acc.WriteString(s[i+1:])
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	got := map[string]float64{}
	timeout := time.After(60 * time.Second)
	for len(got) < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("aggregator ended: %s", aggErr.String())
			}
			var doc struct {
				Partition  map[string]string
				Value      float64
				Collectors int
			}
			if err := json.Unmarshal([]byte(l), &doc); err != nil {
				t.Fatalf("aggregator output %q: %v", l, err)
			}
			if doc.Collectors != 3 {
				t.Errorf("release over %d collectors, want 3: %s", doc.Collectors, l)
			}
			got[doc.Partition["dst_port"]] = doc.Value
		case <-timeout:
			t.Fatalf("no release from the aggregator; its log:\n%s", aggErr.String())
		}
	}
	if got["22"] != 2+4+6 || got["443"] != 1+2+3 {
		t.Errorf("released %v, want the cohort's sums 22: 12, 443: 6", got)
	}
}
