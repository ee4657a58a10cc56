package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/server"
	"github.com/sectwin/sectwin/internal/testenv"
	"github.com/sectwin/sectwin/resolvers"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type fixture struct {
	srv     *httptest.Server
	admin   string
	reader  string
	ingest  string
	metrics string
}

// newServer serves the real handler over real Neo4j and NATS.
func newServer(t *testing.T, db *graph.DB, checks ...server.Check) *fixture {
	t.Helper()
	return newServerWith(t, db, nil, checks...)
}

// newServerWith is newServer with the options changed by tune first.
func newServerWith(t *testing.T, db *graph.DB, tune func(*server.Options), checks ...server.Check) *fixture {
	t.Helper()
	b := testenv.NATS(t)
	store := graph.Tokens{DB: db}
	mk := func(scopes ...auth.Scope) string {
		secret, rec, err := auth.Issue(context.Background(), store, auth.IssueRequest{Name: "test", Scopes: scopes, Twins: []string{"traffic"}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		testenv.CleanupToken(t, db, rec.ID)
		return secret
	}
	if checks == nil {
		checks = []server.Check{{Name: "neo4j", Fn: db.Ping}, {Name: "nats", Fn: b.Check}}
	}
	closing := make(chan struct{})
	o := server.Options{
		Log:           testenv.Logger(t),
		Auth:          auth.NewAuthenticator(store, time.Minute),
		Resolver:      &resolvers.Resolver{Version: "test", Neo4j: db, Migrations: &graph.Migrator{DB: db}},
		Checks:        checks,
		GraphiQL:      true,
		MaxDepth:      12,
		MaxAliases:    30,
		MaxComplexity: 200,
		Closing:       closing,
	}
	if tune != nil {
		tune(&o)
	}
	h := server.New(o)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { close(closing); srv.Close() })
	return &fixture{srv: srv, admin: mk(auth.ScopeAdmin), reader: mk(auth.ScopeRead), ingest: mk(auth.ScopeIngest), metrics: mk(auth.ScopeMetrics)}
}

func (f *fixture) do(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func decode(t *testing.T, body string) gqlResponse {
	t.Helper()
	var r gqlResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("not a GraphQL response: %v: %s", err, body)
	}
	return r
}

func TestHTTPSurface(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	f := newServer(t, db)
	typename := `{"query":"{ __typename }"}`
	badToken, _, _ := auth.NewSecret()

	tests := []struct {
		name, method, path, token, body string
		wantCode                        int
		wantBody                        string
	}{
		{"healthz open", "GET", "/healthz", "", "", 200, `"ok"`},
		{"readyz open", "GET", "/readyz", "", "", 200, `"neo4j":{"status":"ok"`},
		{"graphiql open", "GET", "/", "", "", 200, "graphiql"},
		{"graphql without token", "POST", "/graphql", "", typename, 401, `"code":"UNAUTHENTICATED"`},
		{"graphql with unknown token", "POST", "/graphql", badToken, typename, 401, `"invalid bearer token"`},
		{"graphql with garbage token", "POST", "/graphql", "x", typename, 401, `"UNAUTHENTICATED"`},
		{"graphql POST", "POST", "/graphql", "ADMIN", typename, 200, `{"data":{"__typename":"Query"}}`},
		{"graphql GET", "GET", "/graphql?query=" + url.QueryEscape("{ viewer { scopes } }"), "READER", "", 200, `"scopes":["read"]`},
		{"graphql GET without token", "GET", "/graphql?query=%7B__typename%7D", "", "", 401, "UNAUTHENTICATED"},
		{"metrics without token", "GET", "/metrics", "", "", 401, "UNAUTHENTICATED"},
		{"metrics without scope", "GET", "/metrics", "READER", "", 403, `"FORBIDDEN"`},
		{"metrics with scope", "GET", "/metrics", "METRICS", "", 200, `sectwin_http_requests_total{code="401",method="POST",route="/graphql"}`},
		{"malformed JSON", "POST", "/graphql", "ADMIN", `{"query":`, 400, `"errors"`},
		{"unknown route", "GET", "/nope", "", "", 404, `"NOT_FOUND"`},
	}
	for _, tt := range tests { // sequential: the metrics case counts the earlier 401s
		tok := map[string]string{"ADMIN": f.admin, "READER": f.reader, "METRICS": f.metrics}[tt.token]
		if tok == "" {
			tok = tt.token
		}
		code, body := f.do(t, tt.method, tt.path, tok, tt.body)
		if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
			t.Errorf("%s: %s %s = %d %.300s; want %d containing %s", tt.name, tt.method, tt.path, code, body, tt.wantCode, tt.wantBody)
		}
	}
}

func TestGraphQLQueriesAndErrors(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	f := newServer(t, db)

	// serverInfo reads Neo4j itself.
	_, body := f.do(t, "POST", "/graphql", f.reader, `{"query":"{ serverInfo { version neo4jVersion neo4jEdition schemaVersion } }"}`)
	r := decode(t, body)
	info, _ := r.Data["serverInfo"].(map[string]any)
	if len(r.Errors) > 0 || info == nil || !strings.HasPrefix(info["neo4jVersion"].(string), "5.26") || info["neo4jEdition"] != "community" {
		t.Fatalf("serverInfo: %s", body)
	}

	tests := []struct {
		name, token, query, wantCode string
	}{
		{"missing scope", f.ingest, `{"query":"{ serverInfo { version } }"}`, "FORBIDDEN"},
		{"unknown field", f.reader, `{"query":"{ nope }"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"syntax error", f.reader, `{"query":"{ viewer { "}`, "GRAPHQL_PARSE_FAILED"},
		{"complexity limit", f.reader, `{"query":"{ ` + strings.Repeat("viewer { name } ", 120) + `}"}`, "QUERY_TOO_COMPLEX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := f.do(t, "POST", "/graphql", tt.token, tt.query)
			r := decode(t, body)
			if len(r.Errors) == 0 {
				t.Fatalf("no error: %s", body)
			}
			if got := r.Errors[0].Extensions["code"]; got != tt.wantCode {
				t.Fatalf("extensions.code = %v, want %s: %s", got, tt.wantCode, body)
			}
		})
	}
}

// TestGraphQLQueryLimits sends queries over and within each limit through the whole stack. The
// schema is shallow (serverInfo { migrations { version } } is its deepest), so the depth limit is 2.
func TestGraphQLQueryLimits(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	f := newServerWith(t, db, func(o *server.Options) { o.MaxDepth, o.MaxAliases, o.MaxComplexity = 2, 3, 50 })
	introspection, err := json.Marshal(map[string]string{"query": graphiQLIntrospection})
	must(t, err)

	tests := []struct {
		name, body         string
		limit, actual      float64 // 0: the query succeeds
		wantMsg, wantField string
	}{
		{name: "depth at the limit", body: `{"query":"{ serverInfo { version } }"}`, wantField: "serverInfo"},
		{name: "depth over the limit", body: `{"query":"{ serverInfo { migrations { version } } }"}`, limit: 2, actual: 3,
			wantMsg: "query depth 3 exceeds the limit of 2; ask for fewer nested levels"},
		{name: "depth over the limit through a fragment", limit: 2, actual: 3,
			body: `{"query":"{ serverInfo { ...M } } fragment M on ServerInfo { migrations { name } }"}`},
		{name: "aliases at the limit", body: `{"query":"{ a: viewer { n: name s: scopes } }"}`, wantField: "a"},
		{name: "aliases over the limit", body: `{"query":"{ a: viewer { n: name s: scopes } b: viewer { name } }"}`, limit: 3, actual: 4,
			wantMsg: "query has 4 aliased fields, which exceeds the limit of 3"},
		{name: "complexity over the limit", body: `{"query":"{ ` + strings.Repeat("viewer { name } ", 30) + `}"}`, limit: 50, actual: 60,
			wantMsg: "query complexity 60 exceeds the limit of 50"},
		{name: "GraphiQL introspection is within every limit", body: string(introspection), wantField: "__schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.do(t, "POST", "/graphql", f.reader, tt.body)
			r := decode(t, body)
			if tt.actual == 0 {
				if code != 200 || len(r.Errors) > 0 || r.Data[tt.wantField] == nil {
					t.Fatalf("got %d %.300s, want data.%s and no errors", code, body, tt.wantField)
				}
				return
			}
			if len(r.Errors) != 1 || r.Data != nil {
				t.Fatalf("got %d %s, want one error and no data", code, body)
			}
			e := r.Errors[0]
			if e.Extensions["code"] != "QUERY_TOO_COMPLEX" || e.Extensions["limit"] != tt.limit || e.Extensions["actual"] != tt.actual {
				t.Fatalf("extensions %v, want code QUERY_TOO_COMPLEX, limit %v, actual %v", e.Extensions, tt.limit, tt.actual)
			}
			if !strings.Contains(e.Message, tt.wantMsg) {
				t.Fatalf("message %q, want it to contain %q", e.Message, tt.wantMsg)
			}
		})
	}
}

// wsMsg is a graphql-transport-ws protocol message.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialWS(t *testing.T, f *fixture, header http.Header) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(f.srv.URL, "http", "ws", 1)+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   header,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestSubscriptionOverWebsocket(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	f := newServer(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	tests := []struct {
		name    string
		header  http.Header
		payload string
	}{
		{"token in connection_init", nil, `{"Authorization":"Bearer ` + f.reader + `"}`},
		{"token in header", http.Header{"Authorization": {"Bearer " + f.reader}}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialWS(t, f, tt.header)
			must(t, wsjson.Write(ctx, c, wsMsg{Type: "connection_init", Payload: json.RawMessage(tt.payload)}))
			var ack wsMsg
			must(t, wsjson.Read(ctx, c, &ack))
			if ack.Type != "connection_ack" {
				t.Fatalf("got %+v, want connection_ack", ack)
			}
			must(t, wsjson.Write(ctx, c, wsMsg{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { heartbeat(intervalMs: 100) { seq at } }"}`)}))
			for want := 1; want <= 3; want++ {
				var m wsMsg
				must(t, wsjson.Read(ctx, c, &m))
				if m.Type != "next" || !strings.Contains(string(m.Payload), `"seq":`+string(rune('0'+want))) {
					t.Fatalf("message %d = %s %s", want, m.Type, m.Payload)
				}
			}
			must(t, wsjson.Write(ctx, c, wsMsg{ID: "1", Type: "complete"}))
		})
	}

	t.Run("bad argument is a GraphQL error", func(t *testing.T) {
		c := dialWS(t, f, nil)
		must(t, wsjson.Write(ctx, c, wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer ` + f.reader + `"}`)}))
		var ack wsMsg
		must(t, wsjson.Read(ctx, c, &ack))
		must(t, wsjson.Write(ctx, c, wsMsg{ID: "2", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { heartbeat(intervalMs: 5) { seq } }"}`)}))
		var m wsMsg
		must(t, wsjson.Read(ctx, c, &m))
		if !strings.Contains(string(m.Payload), "BAD_USER_INPUT") {
			t.Fatalf("got %s %s, want a BAD_USER_INPUT error", m.Type, m.Payload)
		}
	})

	t.Run("no token closes the socket", func(t *testing.T) {
		c := dialWS(t, f, nil)
		must(t, wsjson.Write(ctx, c, wsMsg{Type: "connection_init", Payload: json.RawMessage(`{}`)}))
		var m wsMsg
		err := wsjson.Read(ctx, c, &m)
		for err == nil { // a connection_error message may come before the close
			err = wsjson.Read(ctx, c, &m)
		}
		if got := websocket.CloseStatus(err); got != 4401 {
			t.Fatalf("close status %d (%v), want 4401", got, err)
		}
	})
}

func TestReadyzNamesFailingDependency(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	down, err := graph.Open(graph.Config{URI: "bolt://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close(context.Background())
	f := newServer(t, db,
		server.Check{Name: "neo4j", Fn: down.Ping},
		server.Check{Name: "nats", Fn: func(context.Context) error { return nil }},
		server.Check{Name: "slow", Fn: func(ctx context.Context) error { <-ctx.Done(); return errors.New("timed out") }},
	)
	start := time.Now()
	code, body := f.do(t, "GET", "/readyz", "", "")
	if code != 503 {
		t.Fatalf("readyz = %d %s, want 503", code, body)
	}
	var r struct {
		Status string                    `json:"status"`
		Checks map[string]map[string]any `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "unavailable" || r.Checks["neo4j"]["status"] != "fail" || r.Checks["nats"]["status"] != "ok" || r.Checks["slow"]["status"] != "fail" {
		t.Fatalf("readyz body %s", body)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("readyz took %v; checks must be bounded", took)
	}
	// Health stays up while a dependency is down.
	if code, _ := f.do(t, "GET", "/healthz", "", ""); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
