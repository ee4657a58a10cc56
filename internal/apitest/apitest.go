// Package apitest serves sectwin's real HTTP handler, over the real Neo4j and NATS, for tests
// and benchmarks that go through the GraphQL API as clients do.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/attackanalysis"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/internal/assuring"
	"github.com/sectwin/sectwin/internal/attacks"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/internal/opstwin"
	"github.com/sectwin/sectwin/internal/server"
	"github.com/sectwin/sectwin/resolvers"
)

// API is one running sectwin HTTP server.
type API struct {
	URL string
	DB  *graph.DB
	Bus *bus.Bus
	// Attacks is the server's attack-path analyzer (benchmarks project into it directly).
	Attacks *attackanalysis.Analyzer
	close   func()
	tokens  []string
}

// Options tune Start; zero values take serve's defaults.
type Options struct {
	Log                                 zerolog.Logger
	MaxDepth, MaxAliases, MaxComplexity int
	// Playbooks is a response playbook file to run, as serve's --playbooks.
	Playbooks string
}

// New starts a server on db and b. Close stops it and deletes the tokens it issued.
func New(db *graph.DB, b *bus.Bus, o Options) *API {
	if o.MaxDepth == 0 {
		o.MaxDepth = 12
	}
	if o.MaxAliases == 0 {
		o.MaxAliases = 30
	}
	if o.MaxComplexity == 0 {
		o.MaxComplexity = 200000
	}
	// Ingest jobs live in NATS; the API reads them (ingestJob, ingestJobs, ingestJobUpdated).
	jobStore, err := jobs.Open(context.Background(), b.JetStream())
	if err != nil {
		panic(fmt.Sprintf("apitest: open the ingest jobs bucket: %v", err))
	}
	// Attack-path analysis and reports run as in serve, until Close.
	actx, stopAttacks := context.WithCancel(context.Background())
	atk, err := attacks.Start(actx, config.Attack{MaxTwins: 16, DeliveryAttempts: 3, ScheduleReload: time.Minute}, b, db, o.Log)
	if err != nil {
		panic(fmt.Sprintf("apitest: start attack-path analysis: %v", err))
	}
	// Cases imported through this server are evaluated live, as in serve.
	live := assuring.New(b, db, o.Log)
	if err := assuring.Start(actx, live, b, o.Log, false); err != nil {
		panic(fmt.Sprintf("apitest: start assurance evaluation: %v", err))
	}
	// The operations twin's worker and endpoint, as in serve.
	ops, err := opstwin.New(b, db, config.Ops{Playbooks: o.Playbooks}, o.Log)
	if err != nil {
		panic(fmt.Sprintf("apitest: the operations twin: %v", err))
	}
	ops.UseAssurance(live)
	if err := ops.Start(actx); err != nil {
		panic(fmt.Sprintf("apitest: start the operations twin: %v", err))
	}
	closing := make(chan struct{})
	h := server.New(server.Options{
		Log:  o.Log,
		Auth: auth.NewAuthenticator(graph.Tokens{DB: db}, time.Minute),
		Resolver: &resolvers.Resolver{Version: "test", Neo4j: db, Migrations: &graph.Migrator{DB: db}, Graph: db,
			Changes: events.NATS{Bus: b, Log: o.Log}, Jobs: jobStore,
			Attacks: atk.Analyzer, ReportService: atk.Reports, ReportBus: atk.Events,
			Assurance: live, StatusBus: events.NATS{Bus: b, Log: o.Log}, AlertBus: ops.Events},
		Telemetry: ops.Hook,
		MaxDepth:  o.MaxDepth, MaxAliases: o.MaxAliases, MaxComplexity: o.MaxComplexity,
		Closing: closing,
	})
	srv := httptest.NewServer(h)
	a := &API{URL: srv.URL, DB: db, Bus: b, Attacks: atk.Analyzer}
	a.close = func() { close(closing); srv.Close(); stopAttacks() }
	return a
}

// Start is New for one test, closed when it ends.
func Start(tb testing.TB, db *graph.DB, b *bus.Bus, o Options) *API {
	tb.Helper()
	a := New(db, b, o)
	tb.Cleanup(a.Close)
	return a
}

// Close stops the server and deletes its tokens.
func (a *API) Close() {
	a.close()
	for _, id := range a.tokens {
		_ = a.DB.AutoCommit(context.Background(), "MATCH (t:ApiToken {id: $id}) DELETE t", map[string]any{"id": id})
	}
}

// Token issues a token with these scopes for these twins ("*" for all).
func (a *API) Token(scopes []auth.Scope, twins ...string) (string, error) {
	secret, rec, err := auth.Issue(context.Background(), graph.Tokens{DB: a.DB}, auth.IssueRequest{Name: "apitest", Scopes: scopes, Twins: twins}, time.Now())
	if err != nil {
		return "", err
	}
	a.tokens = append(a.tokens, rec.ID)
	return secret, nil
}

// MustToken is Token failing the test on error.
func (a *API) MustToken(tb testing.TB, scopes []auth.Scope, twins ...string) string {
	tb.Helper()
	s, err := a.Token(scopes, twins...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Response is a GraphQL response.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	Status int             `json:"-"`
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the first error's extensions.code, or "".
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Decode unmarshals data into v.
func (r Response) Decode(v any) error { return json.Unmarshal(r.Data, v) }

// Query posts a GraphQL operation.
func (a *API) Query(ctx context.Context, token, query string, vars map[string]any) (Response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	var out Response
	if err := json.Unmarshal(raw, &out); err != nil {
		return Response{}, fmt.Errorf("status %d, undecodable body %q: %w", resp.StatusCode, raw, err)
	}
	out.Status = resp.StatusCode
	return out, nil
}

// Do is Query failing the test on transport errors.
func (a *API) Do(tb testing.TB, token, query string, vars map[string]any) Response {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := a.Query(ctx, token, query, vars)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// MustData is Do failing the test on GraphQL errors, decoding data into v.
func (a *API) MustData(tb testing.TB, token, query string, vars map[string]any, v any) {
	tb.Helper()
	r := a.Do(tb, token, query, vars)
	if len(r.Errors) > 0 {
		tb.Fatalf("query failed: %+v\n%s", r.Errors, query)
	}
	if v != nil {
		if err := r.Decode(v); err != nil {
			tb.Fatal(err)
		}
	}
}

// Subscription is a graphql-transport-ws subscription.
type Subscription struct {
	conn *websocket.Conn
}

// Subscribe opens a websocket, authenticates in connection_init and starts one subscription.
func (a *API) Subscribe(ctx context.Context, token, query string, vars map[string]any) (*Subscription, error) {
	u := "ws" + strings.TrimPrefix(a.URL, "http") + "/graphql"
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	if err := wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}}); err != nil {
		return nil, err
	}
	var ack map[string]any
	if err := wsjson.Read(ctx, c, &ack); err != nil || ack["type"] != "connection_ack" {
		c.CloseNow()
		return nil, fmt.Errorf("connection_init not acknowledged: %v %v", ack, err)
	}
	if err := wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}}); err != nil {
		return nil, err
	}
	return &Subscription{conn: c}, nil
}

// Next returns the next payload, skipping pings; a GraphQL error arrives as Response.Errors.
func (s *Subscription) Next(ctx context.Context) (Response, error) {
	for {
		var m struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := wsjson.Read(ctx, s.conn, &m); err != nil {
			return Response{}, err
		}
		switch m.Type {
		case "next":
			var r Response
			err := json.Unmarshal(m.Payload, &r)
			return r, err
		case "error":
			var errs []Error
			_ = json.Unmarshal(m.Payload, &errs)
			return Response{Errors: errs}, nil
		case "complete":
			return Response{}, io.EOF
		}
	}
}

// Close ends the subscription.
func (s *Subscription) Close() { s.conn.Close(websocket.StatusNormalClosure, "") }
