package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestReplayCLI: telemetry a serve applied to one twin, replayed with 'sectwin replay' from the
// server's NATS into another twin of the same design, gives the same connections and alerts;
// the command refuses what it cannot do, saying what to do instead.
func TestReplayCLI(t *testing.T) {
	db := testenv.Migrated(t)
	uri := os.Getenv("NEO4J_URI")
	const natsToken = "replay-test-nats-token"
	srv := externalNATS(t, natsToken)
	natsArgs := []string{"--nats-url", srv.ClientURL(), "--nats-token", natsToken}
	s := startServe(t, t.TempDir(), uri, natsArgs...)
	s.waitStatus(t, "/readyz", 200)
	token := s.adminToken(t)
	src, dst := testenv.NewTwin(t, db), testenv.NewTwin(t, db)
	for _, twin := range []string{src, dst} {
		body, _ := json.Marshal(map[string]any{"query": `mutation($t: String!) {
  upsertZones(twin: $t, input: [{name: "dmz", trust: "LOW"}, {name: "core", trust: "HIGH"}]) { nodesCreated }
  upsertHosts(twin: $t, input: [{name: "web-1", addresses: ["10.0.1.5"]}, {name: "db-1", addresses: ["10.0.2.7"]}]) { nodesCreated }
  link(twin: $t, edges: [
    {type: IN_ZONE, from: {type: HOST, key: "web-1"}, to: {type: ZONE, key: "dmz"}},
    {type: IN_ZONE, from: {type: HOST, key: "db-1"}, to: {type: ZONE, key: "core"}}]) { edgesCreated } }`, "variables": map[string]any{"t": twin}})
		if code, resp := graphqlBody(t, s.base, token, body); code != 200 || strings.Contains(resp, `"errors"`) {
			t.Fatalf("set up %s: %d %s", twin, code, resp)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := bus.Open(ctx, bus.Config{URL: srv.ClientURL(), Token: natsToken, Name: "replay-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	at := time.Now().UTC().Add(-time.Minute)
	for i := range 40 {
		e := telemetry.Event{ID: fmt.Sprint(i), Source: "urn:test:replay-cli", Time: at.Add(time.Duration(i) * time.Second), Twin: src, Kind: telemetry.KindFlow,
			Flow: &telemetry.Flow{Src: "10.0.1.5", Dst: []string{"10.0.2.7", "198.51.100.4"}[i%2], Port: 5432, Proto: "tcp", Bytes: 100}}
		if i%10 == 9 {
			e.Kind, e.Flow, e.Alert = telemetry.KindAlert, nil, &telemetry.Alert{Source: "falco", Rule: "shell", Severity: "HIGH", Entity: "db-1"}
		}
		data, err := telemetry.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(ctx, telemetry.Subject(src, e.Kind), data, e.Source+"/"+e.ID); err != nil {
			t.Fatal(err)
		}
	}
	state := func(twin string) ([]graph.ObservedConnection, []graph.AlertNode) {
		t.Helper()
		conns, err := db.Connections(ctx, twin, time.Time{}, false, 100)
		if err != nil {
			t.Fatal(err)
		}
		alerts, err := db.Alerts(ctx, twin, time.Time{}, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		for i := range alerts {
			alerts[i].Twin = ""
		}
		return conns, alerts
	}
	var conns []graph.ObservedConnection
	var alerts []graph.AlertNode
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		conns, alerts = state(src)
		var n int64
		for _, c := range conns {
			n += c.Count
		}
		if n == 36 && len(alerts) == 1 && alerts[0].Count == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not apply the telemetry: %+v %+v", conns, alerts)
		}
	}
	replay := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append(append([]string{"replay", "--neo4j-uri", uri}, natsArgs...), args...), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	out, progress, err := replay("--twin", src, "--into", dst)
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, progress)
	}
	if !strings.Contains(out, "replayed 40 events of "+src+" into "+dst) || !strings.Contains(progress, "40 of 40 events (100%)") {
		t.Errorf("replay output %q, progress %q", out, progress)
	}
	gotConns, gotAlerts := state(dst)
	if !reflect.DeepEqual(gotConns, conns) || !reflect.DeepEqual(gotAlerts, alerts) {
		t.Errorf("replayed state differs:\n%+v %+v\nwant\n%+v %+v", gotConns, gotAlerts, conns, alerts)
	}

	// What it refuses.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--twin", src}, 2, "--twin and --into are required"},
		{[]string{"--twin", src, "--into", src}, 2, "another twin"},
		{[]string{"--twin", src, "--into", dst, "--since", "yesterday"}, 2, "neither a duration"},
		{[]string{"--twin", src, "--into", "no-such-twin-" + dst}, 1, "does not exist: create it"},
		{[]string{"--twin", src, "--into", dst}, 1, "already has live state; add --reset"},
	} {
		_, _, err := replay(tc.args...)
		if err == nil || exitCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("replay %v: %v (exit %d), want exit %d and %q", tc.args, err, exitCode(err), tc.code, tc.want)
		}
	}
	// The refusals changed nothing stored.
	if gotConns, gotAlerts := state(dst); !reflect.DeepEqual(gotConns, conns) || !reflect.DeepEqual(gotAlerts, alerts) {
		t.Errorf("state after refused replays differs:\n%+v %+v", gotConns, gotAlerts)
	}
	// --reset replays again from nothing: the same state.
	if _, progress, err := replay("--twin", src, "--into", dst, "--reset"); err != nil || !strings.Contains(progress, "deleted") {
		t.Fatalf("replay --reset: %v\n%s", err, progress)
	}
	if gotConns, gotAlerts := state(dst); !reflect.DeepEqual(gotConns, conns) || !reflect.DeepEqual(gotAlerts, alerts) {
		t.Errorf("state after --reset differs:\n%+v %+v", gotConns, gotAlerts)
	}
}
