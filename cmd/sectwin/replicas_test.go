package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/internal/testenv"
)

// externalNATS runs a NATS server with JetStream on a random port, as a deployment's shared
// NATS would be, until the test ends.
func externalNATS(t *testing.T, token string) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		Authorization: token, NoSigs: true, ServerName: "replicas-test"})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv
}

// subscribersOf counts the subscriptions to exactly this subject (wildcards not counted).
func subscribersOf(t *testing.T, srv *server.Server, subject string) int {
	t.Helper()
	sz, err := srv.Subsz(&server.SubszOptions{Subscriptions: true, Test: subject, Limit: 1024})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range sz.Subs {
		if s.Subject == subject {
			n++
		}
	}
	return n
}

// TestTwoReplicasDeliverEveryEventOnce runs two sectwin serve replicas on one external NATS and
// one Neo4j, each with GraphQL websocket subscribers to alertRaised, anomalyDetected,
// entityStateChanged and assuranceStatusChanged. Telemetry published once (an alert, and a
// connection from a DMZ host into the core zone that the design does not allow) reaches the
// subscribers of both replicas, each event exactly once, whichever replica's worker applied it.
// Both replicas evaluate the assurance case (imported through one of them) that the connection
// undermines: the status change is stored, recorded and announced once, not once per replica,
// and the playbook it triggers (the same on both) runs once.
func TestTwoReplicasDeliverEveryEventOnce(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	const natsToken = "replicas-test-nats-token"
	srv := externalNATS(t, natsToken)
	playbooks := filepath.Join(t.TempDir(), "playbooks.yaml")
	if err := os.WriteFile(playbooks, []byte(`version: 1
playbooks:
  - name: tell-undermined
    on: [status_change]
    when: 'trigger.status == "UNDERMINED" && trigger.entity == "G1"'
    actions:
      - publish: {subject: '"sectwin.response." + trigger.twin + ".undermined"'}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	natsArgs := []string{"--nats-url", srv.ClientURL(), "--nats-token", natsToken, "--playbooks", playbooks}
	a := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"), natsArgs...)
	a.waitStatus(t, "/readyz", 200)
	b := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"), natsArgs...)
	b.waitStatus(t, "/readyz", 200)
	tokenA, tokenB := a.adminToken(t), b.adminToken(t)

	vars := map[string]any{"t": twin}
	body, _ := json.Marshal(map[string]any{"query": `mutation($t: String!) {
  upsertZones(twin: $t, input: [{name: "dmz", trust: "LOW"}, {name: "core", trust: "HIGH"}]) { nodesCreated }
  upsertHosts(twin: $t, input: [{name: "web-1", addresses: ["10.0.1.5"]}, {name: "db-1", addresses: ["10.0.2.7"]}]) { nodesCreated }
  link(twin: $t, edges: [
    {type: IN_ZONE, from: {type: HOST, key: "web-1"}, to: {type: ZONE, key: "dmz"}},
    {type: IN_ZONE, from: {type: HOST, key: "db-1"}, to: {type: ZONE, key: "core"}}]) { edgesCreated } }`, "variables": vars})
	if code, resp := graphqlBody(t, a.base, tokenA, body); code != 200 || strings.Contains(resp, `"errors"`) {
		t.Fatalf("set up the twin: %d %s", code, resp)
	}
	const caseYAML = `G1:
  text: the database is reached only as designed
  supportedBy: [Sn1]
Sn1:
  text: no connection from web-1 to db-1
  sectwinEvidence: {kind: cypher_check, window: 1h, cypher: {query: "MATCH (:Host {twin: $twin, name: 'web-1'})-[c:CONNECTS_TO]->(:Host {twin: $twin, name: 'db-1'}) RETURN c"}}
`
	body, _ = json.Marshal(map[string]any{"query": `mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "db", files: $f) { id } }`,
		"variables": map[string]any{"t": twin, "f": []map[string]any{{"name": "db.gsn.yaml", "content": caseYAML}}}})
	if code, resp := graphqlBody(t, a.base, tokenA, body); code != 200 || strings.Contains(resp, `"errors"`) {
		t.Fatalf("import the case: %d %s", code, resp)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	queries := map[string]string{
		"alertRaised":            `subscription($t: String!) { alertRaised(twin: $t) { key source rule severity entity } }`,
		"anomalyDetected":        `subscription($t: String!) { anomalyDetected(twin: $t) { key type entity } }`,
		"entityStateChanged":     `subscription($t: String!) { entityStateChanged(twin: $t) { op source at nodesCreated nodesUpdated nodes { id } } }`,
		"assuranceStatusChanged": `subscription($t: String!) { assuranceStatusChanged(twin: $t, case: "db") { element from to } }`,
	}
	type stream struct{ replica, field string }
	var mu sync.Mutex
	got := map[stream][]string{}
	var wg sync.WaitGroup
	for _, r := range []struct {
		name, base, token string
	}{{"a", a.base, tokenA}, {"b", b.base, tokenB}} {
		api := &apitest.API{URL: r.base}
		for field, q := range queries {
			s, err := api.Subscribe(ctx, r.token, q, vars)
			if err != nil {
				t.Fatalf("replica %s: subscribe to %s: %v", r.name, field, err)
			}
			t.Cleanup(s.Close)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					resp, err := s.Next(ctx)
					if err != nil {
						return
					}
					mu.Lock()
					if resp.Errors != nil {
						got[stream{r.name, field}] = append(got[stream{r.name, field}], fmt.Sprintf("error: %v", resp.Errors))
					} else {
						got[stream{r.name, field}] = append(got[stream{r.name, field}], string(resp.Data))
					}
					mu.Unlock()
				}
			}()
		}
	}
	// Both replicas hold their subscriptions on NATS before anything is published.
	for _, subject := range []string{events.AlertSubject(twin), events.AnomalySubject(twin), events.Subject(twin), events.AssuranceSubject(twin)} {
		deadline := time.Now().Add(20 * time.Second)
		for subscribersOf(t, srv, subject) < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d subscribers, want one per replica", subject, subscribersOf(t, srv, subject))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// Publish once, straight to NATS, as a sensor would.
	nc, err := nats.Connect(srv.ClientURL(), nats.Token(natsToken))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var notices atomic.Int32
	notice, err := nc.Subscribe("sectwin.response."+twin+".undermined", func(*nats.Msg) { notices.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer notice.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	count := func(s stream) int {
		mu.Lock()
		defer mu.Unlock()
		return len(got[s])
	}
	// Both events are published at once: whichever replica's live-state worker holds the
	// consumer applies them (one at a time: a window applied past a later one's cursor would be
	// skipped), and both replicas deliver what it announces.
	now := time.Now().UTC()
	steps := []struct {
		ev    telemetry.Event
		field string // the subscription that shows it
	}{
		{telemetry.Event{ID: "alert-1", Source: "urn:sectwin:sensor:ids-1", Time: now, Twin: twin, Kind: telemetry.KindAlert,
			Alert: &telemetry.Alert{Source: "suricata", Rule: "2010937", Severity: "HIGH", Entity: "db-1"}}, "alertRaised"},
		{telemetry.Event{ID: "flow-1", Source: "urn:sectwin:sensor:ids-1", Time: now, Twin: twin, Kind: telemetry.KindFlow,
			Flow: &telemetry.Flow{Src: "10.0.1.5", Dst: "10.0.2.7", Port: 5432, Proto: "tcp", Bytes: 512}}, "anomalyDetected"},
	}
	waitFor := append(slices.Clone(steps), steps[1])
	waitFor[2].field = "assuranceStatusChanged"
	for _, step := range steps {
		data, err := telemetry.Encode(step.ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, telemetry.Subject(twin, step.ev.Kind), data, jetstream.WithMsgID(step.ev.Source+"/"+step.ev.ID)); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range waitFor {
		deadline := time.Now().Add(30 * time.Second)
		for (count(stream{"a", step.field}) == 0 || count(stream{"b", step.field}) == 0) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if count(stream{"a", step.field}) == 0 && count(stream{"b", step.field}) == 0 {
			// Tell an event never applied from one applied but not delivered.
			q, _ := json.Marshal(map[string]any{"query": `query($t: String!) { alerts(twin: $t) { rule } anomalies(twin: $t) { type } }`, "variables": vars})
			_, state := graphqlBody(t, a.base, tokenA, q)
			t.Fatalf("%s: no replica delivered the %s event; the twin's live state: %s", step.field, step.ev.Kind, state)
		}
	}
	// Give a duplicate, or a late event on one replica only, time to arrive.
	time.Sleep(3 * time.Second)
	if n := notices.Load(); n != 1 {
		t.Errorf("the status-change playbook published %d notices, want 1 (it runs on one replica)", n)
	}
	cancel() // ends the readers
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, r := range []string{"a", "b"} {
		if alerts := got[stream{r, "alertRaised"}]; len(alerts) != 1 || !strings.Contains(alerts[0], `"rule":"2010937"`) || !strings.Contains(alerts[0], `"entity":"db-1"`) {
			t.Errorf("replica %s: alertRaised delivered %d events, want the alert once: %v", r, len(alerts), alerts)
		}
		if anomalies := got[stream{r, "anomalyDetected"}]; len(anomalies) != 1 || !strings.Contains(anomalies[0], `"type":"new_edge"`) {
			t.Errorf("replica %s: anomalyDetected delivered %d events, want the new edge once: %v", r, len(anomalies), anomalies)
		}
		changes := got[stream{r, "entityStateChanged"}]
		if all := strings.Join(changes, "\n"); !strings.Contains(all, `"source":"telemetry"`) || !strings.Contains(all, `"source":"anomaly"`) ||
			len(changes) != len(slices.Compact(slices.Sorted(slices.Values(changes)))) {
			t.Errorf("replica %s: entityStateChanged delivered %v; want the telemetry windows and the anomaly, each change once", r, changes)
		}
		for _, c := range changes {
			if strings.HasPrefix(c, "error") {
				t.Errorf("replica %s: %s", r, c)
			}
		}
		var undermined []string
		for _, c := range got[stream{r, "assuranceStatusChanged"}] {
			if strings.Contains(c, `"element":"G1"`) {
				undermined = append(undermined, c)
			}
		}
		if len(undermined) != 1 || !strings.Contains(undermined[0], `"from":"SUPPORTED","to":"UNDERMINED"`) {
			t.Errorf("replica %s: assuranceStatusChanged delivered %v for G1; want SUPPORTED → UNDERMINED once", r, undermined)
		}
	}
	q, _ := json.Marshal(map[string]any{"query": `query($t: String!) { assuranceCase(twin: $t, id: "db") { elements { id status history { from to } } } }`, "variables": vars})
	if _, hist := graphqlBody(t, b.base, tokenB, q); strings.Count(hist, `"to":"UNDERMINED"`) != 2 || !strings.Contains(hist, `"status":"UNDERMINED"`) {
		// G1 and Sn1 turned UNDERMINED once each.
		t.Errorf("the case's history, through replica b: %s; want G1 and Sn1 UNDERMINED once each", hist)
	}
	for _, field := range []string{"alertRaised", "anomalyDetected", "entityStateChanged", "assuranceStatusChanged"} {
		if ga, gb := got[stream{"a", field}], got[stream{"b", field}]; !slices.Equal(slices.Sorted(slices.Values(ga)), slices.Sorted(slices.Values(gb))) {
			t.Errorf("%s: the replicas delivered different events:\n a: %v\n b: %v", field, ga, gb)
		}
	}
}

// TestTriageReachesTheOtherReplica: a defeater triaged through one replica counts on the other,
// whose next evaluation of the case (any twin change) would otherwise store the claim as the
// untriaged defeater leaves it, and undo the triage's effect.
func TestTriageReachesTheOtherReplica(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	const natsToken = "triage-test-nats-token"
	srv := externalNATS(t, natsToken)
	natsArgs := []string{"--nats-url", srv.ClientURL(), "--nats-token", natsToken}
	a := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"), natsArgs...)
	a.waitStatus(t, "/readyz", 200)
	b := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"), natsArgs...)
	b.waitStatus(t, "/readyz", 200)
	tokenA, tokenB := a.adminToken(t), b.adminToken(t)
	gql := func(p *serveProc, token, query string, vars map[string]any) string {
		t.Helper()
		return mustGraphQL(t, p.base, token, query, vars)
	}
	vars := map[string]any{"t": twin}
	gql(a, tokenA, `mutation($t: String!) { upsertHosts(twin: $t, input: [{name: "web-1"}]) { nodesCreated } }`, vars)
	const caseYAML = `G1:
  text: web-1 is sound
  supportedBy: [Sn1]
Sn1:
  text: web-1 is in the twin
  sectwinEvidence: {kind: cypher_check, window: 1h, cypher: {query: "MATCH (h:Host {twin: $twin, name: 'web-1'}) RETURN h", expect: some}}
CG1:
  text: web-1 may be compromised
  challenges: G1
  sectwinDefeater: {kind: rebutting, severity: critical}
`
	gql(a, tokenA, `mutation($t: String!, $f: [CaseFileInput!]!) { importAssuranceCase(twin: $t, id: "web", files: $f) { id } }`,
		map[string]any{"t": twin, "f": []map[string]any{{"name": "web.gsn.yaml", "content": caseYAML}}})
	g1 := func() string {
		t.Helper()
		resp := gql(b, tokenB, `query($t: String!) { assuranceCase(twin: $t, id: "web") { elements { id status } } }`, vars)
		var out struct {
			Data struct {
				AssuranceCase struct{ Elements []struct{ ID, Status string } }
			}
		}
		if err := json.Unmarshal([]byte(resp), &out); err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Data.AssuranceCase.Elements {
			if e.ID == "G1" {
				return e.Status
			}
		}
		return ""
	}
	waitG1 := func(want, when string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for g1() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: G1 is %s, want %s", when, g1(), want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitG1("UNDERMINED", "the open critical defeater")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	statuses, err := (&apitest.API{URL: a.base}).Subscribe(ctx, tokenA,
		`subscription($t: String!) { assuranceStatusChanged(twin: $t, case: "web") { element from to reasons } }`, vars)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(statuses.Close)
	time.Sleep(2 * time.Second) // replica b has loaded the case, untriaged; the subscription is registered
	gql(a, tokenA, `mutation($t: String!) { triageDefeater(twin: $t, case: "web", defeater: "CG1", input: {state: "REFUTED", note: "false positive"}) { id } }`, vars)
	waitG1("SUPPORTED", "refuted through replica a")
	// web-1 goes and comes back, through replica b: each replica evaluates Sn1 failing, then
	// passing again, and stores G1 as its evaluator has it: a replica without the triage would
	// store G1 UNDERMINED (by the open defeater) after the other stored it SUPPORTED.
	gql(b, tokenB, `mutation($t: String!) { deleteNodes(twin: $t, nodes: [{type: HOST, key: "web-1"}]) { nodesDeleted } }`, vars)
	waitG1("UNDERMINED", "web-1 deleted")
	gql(b, tokenB, `mutation($t: String!) { upsertHosts(twin: $t, input: [{name: "web-1"}]) { nodesCreated } }`, vars)
	waitG1("SUPPORTED", "web-1 back")
	time.Sleep(3 * time.Second) // both replicas have evaluated both writes
	if s := g1(); s != "SUPPORTED" {
		t.Errorf("after both replicas evaluated the writes: G1 %s, want SUPPORTED (one replica lost the triage)", s)
	}
	// What either replica announced: never the refuted defeater's doubt. (Which replica
	// stores last is a race, so the stored status alone could hide a replica without the
	// triage; its announcements do not.)
	for {
		next, stop := context.WithTimeout(ctx, time.Second)
		r, err := statuses.Next(next)
		stop()
		if err != nil {
			break // none for a second: all are read
		}
		if strings.Contains(string(r.Data), `"element":"G1"`) && strings.Contains(string(r.Data), "DEFEATER") {
			t.Errorf("after the triage, G1 was announced as the open defeater leaves it: %s", r.Data)
		}
	}
}

// TestScheduledReportRunsOnceAcrossReplicas: two replicas load the same report schedule; both
// schedulers fire for each run, and one report per run is made.
func TestScheduledReportRunsOnceAcrossReplicas(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.NewTwin(t, db)
	const natsToken = "reports-test-nats-token"
	srv := externalNATS(t, natsToken)
	args := []string{"--nats-url", srv.ClientURL(), "--nats-token", natsToken, "--report-schedule-reload", "500ms"}
	a := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"), args...)
	a.waitStatus(t, "/readyz", 200)
	b := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"), args...)
	b.waitStatus(t, "/readyz", 200)
	tokenA := a.adminToken(t)
	gql := func(query string) string {
		t.Helper()
		return mustGraphQL(t, a.base, tokenA, query, map[string]any{"t": twin})
	}
	gql(`mutation($t: String!) { upsertZones(twin: $t, input: [{name: "internet", trust: "UNTRUSTED", internet: true}]) { nodesCreated } }`)
	const every = 2 * time.Second
	began := time.Now()
	gql(`mutation($t: String!) { setReportSchedule(twin: $t, input: {name: "fast", cron: "@every 2s", formats: [JSON]}) { name } }`)
	time.Sleep(4 * every) // both replicas have loaded the schedule (every 500 ms) and fired a few times
	gql(`mutation($t: String!) { deleteReportSchedule(twin: $t, name: "fast") }`)
	// Runs due while the schedule existed, at most (the replicas may drop it up to 500 ms late).
	due := int((time.Since(began)+500*time.Millisecond)/every) + 1
	time.Sleep(every) // runs under way end
	var out struct {
		Data struct {
			Reports []struct {
				Schedule    string
				GeneratedAt time.Time
			}
		}
	}
	if err := json.Unmarshal([]byte(gql(`query($t: String!) { reports(twin: $t, first: 100) { schedule generatedAt } }`)), &out); err != nil {
		t.Fatal(err)
	}
	// A report is counted, not matched to its run by time: a run made late on a loaded
	// machine falls in the next run's slot.
	var reports []time.Time
	for _, r := range out.Data.Reports {
		if r.Schedule == twin+"/fast" {
			reports = append(reports, r.GeneratedAt)
		}
	}
	if len(reports) < 2 || len(reports) > due {
		t.Errorf("%d reports of a 2 s schedule, for at most %d runs (one report per run; each replica making its own gives twice as many): %v",
			len(reports), due, reports)
	}
}
