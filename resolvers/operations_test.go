package resolvers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
)

// postTelemetry posts a batch of events (JSON lines) to POST /telemetry.
func postTelemetry(t *testing.T, api *apitest.API, token, twin string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/telemetry?twin="+twin, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func eventLines(t *testing.T, twin string, evs ...telemetry.Event) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, ev := range evs {
		ev.Twin = twin
		data, err := telemetry.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// TestOperationsTwinFromTelemetry posts telemetry through the real endpoint and reads the live
// state through GraphQL: observed connections compared with the design, alerts, and the
// alertRaised subscription.
func TestOperationsTwinFromTelemetry(t *testing.T) {
	w := newWorld(t)
	api := w.api
	ingestTok := api.MustToken(t, []auth.Scope{auth.ScopeIngest}, w.twin)
	now := time.Now().UTC().Truncate(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := api.Subscribe(ctx, w.rw, `subscription($t: String!) { alertRaised(twin: $t) { rule severity entity about count } }`, map[string]any{"t": w.twin})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	time.Sleep(500 * time.Millisecond)

	flow := func(id, src, dst string, port int) telemetry.Event {
		return telemetry.Event{ID: id, Source: "sensor-1", Time: now, Kind: telemetry.KindFlow,
			Flow: &telemetry.Flow{Src: src, Dst: dst, Port: port, Proto: "tcp", Bytes: 1200}}
	}
	batch := eventLines(t, w.twin,
		flow("f1", "web-1", "db-1", 22),          // ssh from the DMZ into core: not designed
		flow("f2", "198.51.100.7", "web-1", 443), // the internet to the exposed portal
		telemetry.Event{ID: "a1", Source: "sensor-1", Time: now, Kind: telemetry.KindAlert,
			Alert: &telemetry.Alert{Source: "suricata", Rule: "ET SCAN ssh", Severity: "HIGH", Entity: "db-1"}},
	)
	bad := []byte(`{"specversion":"1.0","id":"x","source":"s","type":"io.sectwin.telemetry.flow","data":{"src":"a"}}` + "\n")
	code, out := postTelemetry(t, api, ingestTok, w.twin, append(batch, bad...))
	if code != http.StatusAccepted || out["accepted"] != float64(3) || len(out["rejected"].([]any)) != 1 {
		t.Fatalf("post: %d %v", code, out)
	}
	// Refusals: no token, a token without the ingest scope, another twin, nothing good.
	if code, _ := postTelemetry(t, api, "", w.twin, batch); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code, _ := postTelemetry(t, api, w.rw, w.twin, batch); code != http.StatusForbidden {
		t.Errorf("read-write token without ingest: %d", code)
	}
	if code, _ := postTelemetry(t, api, ingestTok, "other-twin", batch); code != http.StatusForbidden {
		t.Errorf("another twin: %d", code)
	}
	if code, _ := postTelemetry(t, api, ingestTok, w.twin, bad); code != http.StatusBadRequest {
		t.Errorf("only bad events: %d", code)
	}

	r, err := sub.Next(ctx)
	if err != nil || r.Errors != nil || !strings.Contains(string(r.Data), `"rule":"ET SCAN ssh"`) ||
		!strings.Contains(string(r.Data), graph.ID(graph.LabelHost, w.twin, "db-1")) {
		t.Fatalf("alertRaised: %s %v %v", r.Data, r.Errors, err)
	}
	var got struct {
		Connections []struct {
			Src, Dst struct{ Label, Name string }
			Port     int
			Designed bool
			Count    int
		}
		Deviations []struct{ Port int }
		Alerts     []struct {
			Rule  string
			Count int
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		api.MustData(t, w.rw, `query($t: String!) { connections(twin: $t) { src { label name } dst { label name } port designed count }
  deviations: connections(twin: $t, deviationsOnly: true) { port } alerts(twin: $t) { rule count } }`, map[string]any{"t": w.twin}, &got)
		if len(got.Connections) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got.Connections) != 2 || len(got.Deviations) != 1 || got.Deviations[0].Port != 22 || len(got.Alerts) != 1 {
		t.Fatalf("live state: %+v", got)
	}
	for _, c := range got.Connections {
		if c.Port == 443 && (!c.Designed || c.Src.Label != "ObservedEndpoint" || c.Dst.Name != "web-1") {
			t.Errorf("internet to portal: %+v", c)
		}
	}
	// The same batch again is deduplicated: the counts do not move.
	if code, _ := postTelemetry(t, api, ingestTok, w.twin, batch); code != http.StatusAccepted {
		t.Fatalf("re-post: %d", code)
	}
	time.Sleep(time.Second)
	var again struct {
		Connections []struct{ Count int }
	}
	api.MustData(t, w.rw, `query($t: String!) { connections(twin: $t) { count } }`, map[string]any{"t": w.twin}, &again)
	for _, c := range again.Connections {
		if c.Count != 1 {
			t.Errorf("a re-posted batch was counted again: %+v", again)
		}
	}
}

// TestForecastOfAlerts fits three days of hourly alerts about a service's host with a daily
// pattern and forecasts the next hours.
func TestForecastOfAlerts(t *testing.T) {
	w := newWorld(t)
	db := w.api.DB
	now := time.Now().UTC().Truncate(time.Hour)
	pattern := func(h time.Time) int64 { return 2 + int64(8*math.Abs(math.Sin(float64(h.Hour())*math.Pi/24))) }
	for i := 71; i >= 0; i-- {
		h := now.Add(-time.Duration(i) * time.Hour)
		b := graph.OpsBatch{Stream: "TEST", Through: uint64(72 - i), Alerts: []graph.AlertRow{{Key: fmt.Sprintf("k%d", i), Source: "suricata",
			Rule: "r", Severity: "LOW", Entity: "web-1", Count: pattern(h), First: h, Last: h}}}
		if _, err := db.ApplyOps(t.Context(), w.twin, b); err != nil {
			t.Fatal(err)
		}
	}
	var out struct {
		Forecast struct {
			History, Season int
			Sigma           float64
			Points          []struct {
				At                 time.Time
				Mean, Lower, Upper float64
			}
		}
	}
	w.api.MustData(t, w.rw, `query($t: String!) { forecast(twin: $t, service: "portal", series: ALERTS, days: 3, horizon: 6) {
  history season sigma points { at mean lower upper } } }`, map[string]any{"t": w.twin}, &out)
	f := out.Forecast
	if f.History != 72 || f.Season != 24 || len(f.Points) != 6 {
		t.Fatalf("forecast %+v", f)
	}
	for _, p := range f.Points {
		want := float64(pattern(p.At))
		if p.Lower > p.Mean || p.Mean > p.Upper || p.Lower < 0 || math.Abs(p.Mean-want) > 2.5 {
			t.Errorf("at %v: %.2f [%.2f, %.2f], the pattern says %v", p.At, p.Mean, p.Lower, p.Upper, want)
		}
	}
	// No connection observed: the flow forecast is flat at zero.
	var flows struct {
		Forecast struct {
			Points []struct{ Mean, Upper float64 }
		}
	}
	w.api.MustData(t, w.rw, `query($t: String!) { forecast(twin: $t, service: "portal", series: FLOWS, days: 2, horizon: 2) { points { mean upper } } }`,
		map[string]any{"t": w.twin}, &flows)
	if len(flows.Forecast.Points) != 2 || flows.Forecast.Points[0].Mean != 0 {
		t.Errorf("flows forecast %+v", flows)
	}
	for name, q := range map[string]struct{ query, code string }{
		"one day":        {`query($t: String!) { forecast(twin: $t, service: "portal", days: 1) { season } }`, "BAD_USER_INPUT"},
		"a long horizon": {`query($t: String!) { forecast(twin: $t, service: "portal", horizon: 1000) { season } }`, "BAD_USER_INPUT"},
		"a bad level":    {`query($t: String!) { forecast(twin: $t, service: "portal", level: 1.5) { season } }`, "BAD_USER_INPUT"},
		"no service":     {`query($t: String!) { forecast(twin: $t, service: "ghost") { season } }`, "NOT_FOUND"},
	} {
		if r := w.api.Do(t, w.rw, q.query, map[string]any{"t": w.twin}); r.Code() != q.code {
			t.Errorf("%s: %+v", name, r.Errors)
		}
	}
}
