package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/internal/testenv"
)

// TestEdgeTelemetryToLiveState runs the edge collector binary with a telemetry output against
// a real sectwin serve: Suricata EVE with client addresses in it is minimised and pseudonymised
// at the edge, sent as telemetry, and the twin's live state shows it through GraphQL: the
// connections from one pseudonymised client summed into one, to the database host the twin
// knows by its (kept) address, and the alerts about a pseudonymised target deduplicated into one.
// No raw client address reaches the twin.
func TestEdgeTelemetryToLiveState(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.Twin(t, db)
	bin := buildSectwin(t)
	dataDir := t.TempDir()
	natsPort := freePort(t)
	p := startServe(t, dataDir, os.Getenv("NEO4J_URI"), "--nats-port", fmt.Sprint(natsPort))
	p.waitStatus(t, "/readyz", 200)
	token := p.adminToken(t)
	gql := func(query string) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"t": twin}})
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
	gql(`mutation($t: String!) { createTwin(input: {name: $t}) { name } }`)
	gql(`mutation($t: String!) {
  upsertZones(twin: $t, input: [{name: "core", trust: "HIGH"}]) { nodesCreated }
  upsertHosts(twin: $t, input: [{name: "db-1", addresses: ["10.0.2.7"]}]) { nodesCreated }
  link(twin: $t, edges: [{type: IN_ZONE, from: {type: HOST, key: "db-1"}, to: {type: ZONE, key: "core"}}]) { edgesCreated } }`)

	dir := t.TempDir()
	cfg := fmt.Sprintf(`version: 1
site: depot-7
twin: %s
dead_letter: %s
ledger: %s
inputs:
  - {name: eve, type: stdin, decoder: suricata, pipeline: ids}
outputs:
  - {name: ops, type: telemetry, url: "nats://127.0.0.1:%d", token_ref: "file:%s"}
pipelines:
  ids:
    privacy_unit: src_ip
    allow_fields: [timestamp, event_type, src_ip, dest_ip, dest_port, proto, alert.signature_id, alert.severity, alert.target.ip, flow.*]
    generalize:
      timestamp: {bucket: 15m}
    pseudonymize: {fields: [src_ip, alert.target.ip], key_ref: env:EDGE_TEST_KEY, key_id: k1}
    release_events: true
    aggregate:
      window: 1h
      group_by: [event_type]
      partitions: {event_type: [alert, flow]}
      metrics: [{name: events, algo: DP-Count, epsilon: 1.0}]
      budget: {epsilon: 1.0, guarantee: unit}
`, twin, filepath.Join(dir, "dead.jsonl"), filepath.Join(dir, "ledger.jsonl"), natsPort, filepath.Join(dataDir, "nats", "token"))
	path := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Every event falls in one hour, as the assertions assume: live state keys connections and
	// alerts by hour, and the edge aggregates by the hour. Minutes just past an hour would
	// split them (a CI run at 09:01 did), so those take the previous hour.
	hour := time.Now().UTC().Truncate(time.Hour)
	if time.Since(hour) < 10*time.Minute {
		hour = hour.Add(-time.Hour)
	}
	ts := func(ago time.Duration) string {
		return hour.Add(6*time.Minute - ago).Format("2006-01-02T15:04:05.000000+0000")
	}
	alert := `{"timestamp":"%s","event_type":"alert","src_ip":"10.0.2.7","src_port":5432,"dest_ip":"%s","dest_port":51544,"proto":"TCP",` +
		`"alert":{"signature_id":2010937,"signature":"ET POLICY Suspicious inbound to PostgreSQL port","severity":1,"source":{"ip":"10.0.2.7"},"target":{"ip":"%s"}},"http":{"hostname":"shop.example.net"}}` + "\n"
	flow := `{"timestamp":"%s","event_type":"flow","src_ip":"%s","src_port":%d,"dest_ip":"10.0.2.7","dest_port":5432,"proto":"TCP",` +
		`"flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":%d,"bytes_toclient":100,"start":"%s"}}` + "\n"
	var in strings.Builder
	fmt.Fprintf(&in, flow, ts(5*time.Minute), "198.51.100.23", 40001, 400, ts(5*time.Minute))
	fmt.Fprintf(&in, flow, ts(4*time.Minute), "198.51.100.23", 40002, 600, ts(4*time.Minute))
	fmt.Fprintf(&in, flow, ts(3*time.Minute), "203.0.113.77", 40003, 50, ts(3*time.Minute))
	fmt.Fprintf(&in, alert, ts(2*time.Minute), "198.51.100.23", "198.51.100.23")
	fmt.Fprintf(&in, alert, ts(time.Minute), "198.51.100.23", "198.51.100.23")
	env := []string{"EDGE_TEST_KEY=edge-telemetry-key-0123456789abcdef"}
	_, errOut, err := runEdgeBinary(t, bin, in.String(), env, "edge", "--config", path, "--log-format", "json")
	if err != nil || !strings.Contains(errOut, `"released":5`) || !strings.Contains(errOut, `"aggregates":2`) || !strings.Contains(errOut, `"send_failures":0`) {
		t.Fatalf("sectwin edge: %v\n%s", err, errOut)
	}

	pseudonym := regexp.MustCompile(`^k1:[A-Za-z0-9_-]{22}$`)
	type end struct{ Label, Name string }
	type conn struct {
		Src, Dst end
		Port     int
		Proto    string
		Count    int
		Bytes    float64
		Designed bool
	}
	type alertRow struct {
		Source, Rule, Severity, Entity string
		Count                          int
	}
	var conns []conn
	var alerts []alertRow
	var raw []byte
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got := gql(`query($t: String!) {
  connections(twin: $t) { src { label name } dst { label name } port proto count bytes designed }
  alerts(twin: $t) { source rule severity entity count } }`)
		raw, _ = json.Marshal(got)
		var v struct {
			Connections []conn
			Alerts      []alertRow
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		conns, alerts = v.Connections, v.Alerts
		if len(conns) == 2 && len(alerts) == 1 && alerts[0].Count == 2 && conns[0].Count+conns[1].Count == 3 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, v := range []string{"198.51.100.23", "203.0.113.77", "shop.example.net", "40001"} {
		if strings.Contains(string(raw), v) {
			t.Errorf("raw value %s reached the twin: %s", v, raw)
		}
	}
	if len(conns) != 2 || len(alerts) != 1 {
		t.Fatalf("live state: %s\nwant two connections (one per pseudonymised client) and one alert", raw)
	}
	byCount := map[int]conn{}
	for _, c := range conns {
		byCount[c.Count] = c
		if c.Src.Label != "ObservedEndpoint" || !pseudonym.MatchString(c.Src.Name) || c.Dst != (end{"Host", "db-1"}) ||
			c.Port != 5432 || c.Proto != "tcp" || c.Designed {
			t.Errorf("connection %+v: want a pseudonymised client to the host db-1 on 5432, not designed", c)
		}
	}
	// The client's two flows carry one pseudonym, so live state sums them: 2 connections,
	// (400+100)+(600+100) bytes; the other client is another pseudonym.
	if c, ok := byCount[2]; !ok || c.Bytes != 1200 || byCount[1].Bytes != 150 || byCount[1].Src.Name == c.Src.Name {
		t.Errorf("connections %s", raw)
	}
	a := alerts[0]
	if a.Source != "suricata" || a.Rule != "2010937" || a.Severity != "HIGH" || !pseudonym.MatchString(a.Entity) || a.Entity != byCount[2].Src.Name {
		t.Errorf("alert %+v: want suricata rule 2010937 HIGH about the first client's pseudonym %s", a, byCount[2].Src.Name)
	}
}
