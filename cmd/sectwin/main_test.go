package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/sectwin/sectwin/bench/sbomgen"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/webhook"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/config"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serveProc is `sectwin serve` running in-process on free ports.
type serveProc struct {
	base    string
	dataDir string
	cancel  context.CancelFunc
	done    chan error
	log     *lockedBuffer
}

// lockedBuffer is a goroutine-safe log sink.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newLockedBuffer() *lockedBuffer { return &lockedBuffer{} }

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startServe(t *testing.T, dataDir, neo4jURI string, extra ...string) *serveProc {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := append([]string{"serve", "--dev", "--log-format", "json", "--addr", addr, "--data-dir", dataDir,
		"--nats-port", fmt.Sprint(freePort(t)), "--neo4j-uri", neo4jURI, "--shutdown-timeout", "20s"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	p := &serveProc{base: "http://" + addr, dataDir: dataDir, cancel: cancel, done: make(chan error, 1), log: newLockedBuffer()}
	go func() { p.done <- run(ctx, args, io.Discard, p.log) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			p.logProblems(t)
		}
	})
	return p
}

// logProblems logs the server's warnings and errors (the last 40), to explain a failed test.
func (p *serveProc) logProblems(t *testing.T) {
	t.Helper()
	var lines []string
	for l := range strings.Lines(p.log.String()) {
		if strings.Contains(l, `"level":"warn"`) || strings.Contains(l, `"level":"error"`) {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	t.Logf("serve %s logged %d warnings and errors (the last 40 follow)\n%s", p.base, len(lines), strings.Join(lines, "\n"))
}

// stop cancels the server like SIGTERM does and waits for a clean exit.
func (p *serveProc) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err // later calls see the same result
		return err
	case <-time.After(25 * time.Second):
		t.Fatalf("serve did not stop within 25s; log:\n%s", p.log.String())
		return nil
	}
}

func (p *serveProc) waitStatus(t *testing.T, path string, want int) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.base + path)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
			if resp.StatusCode == want {
				return string(b)
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("serve exited: %v\nlog:\n%s", err, p.log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s never answered %d; last %s\nlog:\n%s", path, want, last, p.log.String())
	return ""
}

func (p *serveProc) adminToken(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func graphql(t *testing.T, base, token, query string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	return graphqlBody(t, base, token, body)
}

// graphqlBody posts a GraphQL request body.
// mustGraphQL posts a query to a server and returns its response, failing the test on an HTTP
// error or a GraphQL error.
func mustGraphQL(t *testing.T, base, token, query string, vars map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	code, resp := graphqlBody(t, base, token, body)
	if code != 200 || strings.Contains(resp, `"errors"`) {
		t.Fatalf("%s\n→ %d %s", query, code, resp)
	}
	return resp
}

func graphqlBody(t *testing.T, base, token string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// deleteTokenFile removes the token in file from Neo4j when the test ends.
func deleteTokenFile(t *testing.T, path string) {
	t.Cleanup(func() {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		db := testenv.Neo4j(t)
		_ = db.AutoCommit(context.Background(), "MATCH (t:ApiToken {hash: $h}) DELETE t", map[string]any{"h": auth.HashSecret(strings.TrimSpace(string(b)))})
	})
}

func TestServeEndToEnd(t *testing.T) {
	testenv.Neo4j(t) // skip or fail with instructions when there is no Neo4j
	uri := os.Getenv("NEO4J_URI")
	dataDir := t.TempDir()
	deleteTokenFile(t, filepath.Join(dataDir, "admin.token"))

	p := startServe(t, dataDir, uri)
	ready := p.waitStatus(t, "/readyz", 200)
	for _, check := range []string{"neo4j", "nats", "migrations"} {
		if !strings.Contains(ready, `"`+check+`":{"status":"ok"`) {
			t.Fatalf("readyz lacks %s ok: %s", check, ready)
		}
	}
	st, err := os.Stat(filepath.Join(dataDir, "admin.token"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin token file: %v %v", st, err)
	}
	token := p.adminToken(t)
	if code, body := graphql(t, p.base, token, "{ __typename }"); code != 200 || !strings.Contains(body, `"Query"`) {
		t.Fatalf("with token: %d %s", code, body)
	}
	if code, body := graphql(t, p.base, "", "{ __typename }"); code != 401 || !strings.Contains(body, `"UNAUTHENTICATED"`) {
		t.Fatalf("without token: %d %s", code, body)
	}
	if strings.Contains(p.log.String(), token) {
		t.Fatal("the admin token appears in the log")
	}

	// An open subscription must not hold up shutdown: the socket is closed and serve returns.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(p.base, "http", "ws", 1)+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}}); err != nil {
		t.Fatal(err)
	}
	if err := wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]string{"query": "subscription { heartbeat(intervalMs: 100) { seq } }"}}); err != nil {
		t.Fatal(err)
	}
	var msg map[string]any
	for msg["type"] != "next" {
		if err := wsjson.Read(ctx, c, &msg); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := p.stop(t); err != nil {
		t.Fatalf("serve returned %v on shutdown", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("shutdown took %v with an open subscription", took)
	}
	for err == nil {
		err = wsjson.Read(ctx, c, &msg)
	}
	if !strings.Contains(p.log.String(), `"stopped"`) {
		t.Fatalf("no clean stop in log:\n%s", p.log.String())
	}

	// A second start on the same data dir: the same token still works, and NATS data persists.
	p2 := startServe(t, dataDir, uri)
	p2.waitStatus(t, "/readyz", 200)
	if p2.adminToken(t) != token {
		t.Fatal("second start replaced a working admin token")
	}
	if code, body := graphql(t, p2.base, token, "{ viewer { scopes } }"); code != 200 || !strings.Contains(body, "admin") {
		t.Fatalf("after restart: %d %s", code, body)
	}
}

func TestServeWithNeo4jDown(t *testing.T) {
	t.Parallel()
	p := startServe(t, t.TempDir(), "bolt://127.0.0.1:1")
	body := p.waitStatus(t, "/readyz", 503)
	if !strings.Contains(body, `"neo4j":{"status":"fail"`) || !strings.Contains(body, `"nats":{"status":"ok"`) {
		t.Fatalf("readyz with Neo4j down: %s", body)
	}
	p.waitStatus(t, "/healthz", 200)
	// Requests needing the token store answer 503, not 500, and the server keeps running.
	tok, _, _ := auth.NewSecret()
	if code, body := graphql(t, p.base, tok, "{ __typename }"); code != 503 || !strings.Contains(body, "UNAVAILABLE") {
		t.Fatalf("graphql with Neo4j down: %d %s", code, body)
	}
	time.Sleep(1500 * time.Millisecond) // let the start-up retry at least once
	if !regexp.MustCompile(`neo4j not answering yet.*retry_in|retry_in.*neo4j not answering yet`).MatchString(p.log.String()) {
		t.Fatalf("no retry with backoff logged:\n%s", p.log.String())
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

func TestServeStartupErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyNATS, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busyNATS.Close()

	tests := []struct {
		name     string
		args     []string
		wantErr  string
		wantCode int
	}{
		{"http port in use", []string{"serve", "--addr", busy.Addr().String(), "--data-dir", t.TempDir()}, "SECTWIN_ADDR", 1},
		{"nats port in use", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--nats-port", fmt.Sprint(busyNATS.Addr().(*net.TCPAddr).Port)}, "SECTWIN_NATS_PORT", 1},
		{"malformed duration", []string{"serve", "--shutdown-timeout", "soon"}, "shutdown-timeout", 2},
		{"malformed neo4j uri", []string{"migrate", "--neo4j-uri", "localhost:7687"}, "SECTWIN_NEO4J_URI", 2},
		{"unknown command", []string{"frobnicate"}, "unknown command", 2},
		{"unknown flag", []string{"serve", "--frob"}, "frob", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := run(ctx, tt.args, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("exit code %d, want %d", got, tt.wantCode)
			}
		})
	}
}

func TestMigrateCLI(t *testing.T) {
	testenv.Neo4j(t)
	uri := os.Getenv("NEO4J_URI")
	ctx := context.Background()
	var out1, out2, status bytes.Buffer
	if err := run(ctx, []string{"migrate", "--neo4j-uri", uri}, &out1, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"migrate", "--neo4j-uri", uri}, &out2, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out2.String(), "0 applied now") {
		t.Fatalf("second migrate changed something: %s", out2.String())
	}
	if err := run(ctx, []string{"migrate", "--status", "--neo4j-uri", uri}, &status, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`0001_api_tokens\.cypher +applied`).MatchString(status.String()) {
		t.Fatalf("status: %s", status.String())
	}
}

func TestTokenCLI(t *testing.T) {
	testenv.Neo4j(t)
	uri := os.Getenv("NEO4J_URI")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"token", "create", "--scope", "read,ingest", "--twin", "traffic", "--name", "ci-test", "--ttl", "1h", "--neo4j-uri", uri}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(out.String())
	if !auth.WellFormed(secret) {
		t.Fatalf("stdout should be exactly the token, got %q", out.String())
	}
	if strings.Contains(errOut.String(), secret) {
		t.Fatal("token printed twice")
	}
	id := regexp.MustCompile(`tok_[0-9a-f]{16}`).FindString(errOut.String())
	if id == "" {
		t.Fatalf("no token id in %q", errOut.String())
	}
	testenv.CleanupToken(t, testenv.Neo4j(t), id)

	var list bytes.Buffer
	if err := run(ctx, []string{"token", "list", "--neo4j-uri", uri}, &list, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(id + `\s+ci-test\s+read,ingest\s+traffic\s+\S+\s+live until`).MatchString(list.String()) {
		t.Fatalf("list:\n%s", list.String())
	}
	if strings.Contains(list.String(), secret) || strings.Contains(list.String(), auth.HashSecret(secret)) {
		t.Fatal("list shows the secret or its hash")
	}
	var rev bytes.Buffer
	if err := run(ctx, []string{"token", "revoke", "--neo4j-uri", uri, id}, &rev, io.Discard); err != nil {
		t.Fatal(err)
	}
	db := testenv.Neo4j(t)
	_, err := auth.NewAuthenticator(graph.Tokens{DB: db}, 0).Authenticate(ctx, secret)
	if !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("after revoke: %v", err)
	}

	// Bad input is refused before any database work: the Neo4j URI here points nowhere.
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"token", "create", "--scope", "root", "--twin", "x"}, "unknown scope"},
		{[]string{"token", "create", "--scope", "read", "--twin", "Bad Twin"}, "invalid twin"},
		{[]string{"token", "create", "--scope", "read"}, "at least one twin"},
		{[]string{"token", "revoke"}, "exactly one token id"},
		{[]string{"token", "rotate"}, "unknown subcommand"},
	}
	for _, b := range bad {
		err := run(ctx, append(b.args, "--neo4j-uri", "bolt://127.0.0.1:1"), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), b.want) || exitCode(err) != 2 {
			t.Errorf("%v: err = %v (exit %d), want usage error mentioning %q", b.args, err, exitCode(err), b.want)
		}
	}
	if err := run(ctx, []string{"token", "revoke", "--neo4j-uri", uri, "tok_0000000000000000"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "token list") {
		t.Fatalf("revoke of unknown id: %v", err)
	}
}

// TestREADMEDocumentsEverySetting keeps the README's settings table and command list complete.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("all", flag.ContinueOnError)
	config.Register(fs, config.GroupCommon|config.GroupNeo4j|config.GroupNATS|config.GroupServer)
	for _, f := range config.Flags(fs) {
		if row := "| `" + config.EnvName(f.Name) + "` | `--" + f.Name + "` |"; !strings.Contains(string(readme), row) {
			t.Errorf("README settings table lacks the row starting %q", row)
		}
	}
	for _, c := range commands() {
		if !strings.Contains(string(readme), "sectwin "+c.name) {
			t.Errorf("README does not document 'sectwin %s'", c.name)
		}
	}
	for _, ep := range []string{"/healthz", "/readyz", "/metrics", "/graphql"} {
		if !strings.Contains(string(readme), "`"+ep+"`") {
			t.Errorf("README does not document endpoint %s", ep)
		}
	}
}

func TestApplyCLI(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.Twin(t, db)
	p := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"))
	p.waitStatus(t, "/readyz", 200)
	example, err := os.ReadFile("../../examples/traffic-signals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "twin.yaml")
	if err := os.WriteFile(file, bytes.Replace(example, []byte("twin: city-traffic"), []byte("twin: "+twin), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	apply := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"apply", "--server", p.base, "--data-dir", p.dataDir}, args...), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	out, progress, err := apply("-f", file)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if !strings.Contains(progress, "applying twin.yaml to twin "+twin) || !strings.Contains(out, "applied twin.yaml to twin "+twin+": nodes ") {
		t.Fatalf("first apply said %q / %q", out, progress)
	}
	first, _ := db.Stats(context.Background(), twin)
	out, _, err = apply("-f", file, "--prune")
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if !strings.Contains(out, "nodes 0 created") || !strings.Contains(out, "0 deleted; edges 0 created") {
		t.Errorf("second apply changed things: %q", out)
	}
	second, _ := db.Stats(context.Background(), twin)
	if first.TotalNodes() == 0 || first.TotalNodes() != second.TotalNodes() || first.TotalEdges() != second.TotalEdges() {
		t.Errorf("counts changed on re-apply: %d/%d nodes, %d/%d edges", first.TotalNodes(), second.TotalNodes(), first.TotalEdges(), second.TotalEdges())
	}
	t.Logf("example: %d nodes, %d edges", second.TotalNodes(), second.TotalEdges())

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: sectwin/v1\nkind: Twin\nmetadata:\n  name: x\n  twin: "+twin+"\nspec:\n  zones:\n    - name: dmz\n      colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = apply("-f", bad)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:9:") || !strings.Contains(err.Error(), "colour") || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("bad manifest: %v", err)
	}
	_, _, err = apply("-f", file, "--token", "stw_not-a-real-token")
	if err == nil || !strings.Contains(err.Error(), "UNAUTHENTICATED") {
		t.Errorf("bad token: %v", err)
	}
	_, _, err = apply()
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "-f") {
		t.Errorf("no file: %v", err)
	}
	third, _ := db.Stats(context.Background(), twin)
	if third.TotalNodes() != second.TotalNodes() {
		t.Errorf("failed applies wrote: %d → %d nodes", second.TotalNodes(), third.TotalNodes())
	}
}

// post sends a document to /ingest.
func post(t *testing.T, base, token, query string, body []byte, header map[string]string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/ingest?"+query, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func TestIngestEndToEnd(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.Twin(t, db)
	secret := "hmac-" + testenv.RandomName("s")
	p := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"), "--ingest-hmac-secret", secret, "--ingest-hmac-twins", twin, "--ingest-max-bytes", "4000000")
	p.waitStatus(t, "/readyz", 200)
	token := p.adminToken(t)
	sbom, want := sbomgen.CycloneDX(sbomgen.Spec{Seed: 7, Components: 200, Dependencies: 500, Vulnerabilities: 10, CriticalEvery: 5, Subject: "gateway"})

	// A CI gate: post, wait, get the verdict. Two of the ten vulnerabilities are new criticals.
	status, out := post(t, p.base, token, "twin="+twin+"&wait=60s", sbom, nil)
	job, _ := out["job"].(map[string]any)
	verdict, _ := out["verdict"].(map[string]any)
	if status != 200 || job["state"] != "DONE" || verdict["result"] != "FAIL" || len(verdict["newCritical"].([]any)) != 2 {
		t.Fatalf("first post: %d %v", status, out)
	}
	first, _ := db.Stats(context.Background(), twin)
	if first.Nodes["Component"] != want.Components+1 || first.Edges["DEPENDS_ON"] != want.Dependencies {
		t.Fatalf("after ingest: %+v", first)
	}
	// The same document again, gzipped and HMAC-signed: the same job; nothing new, so PASS.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(sbom)
	zw.Close()
	ts, sig := webhook.Sign([]byte(secret), time.Now(), gz.Bytes())
	status, out = post(t, p.base, "", "twin="+twin+"&wait=60s", gz.Bytes(), map[string]string{webhook.HeaderTimestamp: ts, webhook.HeaderSignature: sig, "Content-Encoding": "gzip"})
	job2, _ := out["job"].(map[string]any)
	verdict2, _ := out["verdict"].(map[string]any)
	if status != 200 || job2["id"] != job["id"] || verdict2["result"] != "PASS" {
		t.Fatalf("second post (gzip, signed): %d %v", status, out)
	}
	ts, sig = webhook.Sign([]byte(secret), time.Now(), sbom)
	if status, out = post(t, p.base, "", "twin="+twin+"&wait=60s", sbom, map[string]string{webhook.HeaderTimestamp: ts, webhook.HeaderSignature: sig}); status != 200 {
		t.Fatalf("third post (signed): %d %v", status, out)
	}
	second, _ := db.Stats(context.Background(), twin)
	if second.TotalNodes() != first.TotalNodes() || second.TotalEdges() != first.TotalEdges() {
		t.Errorf("re-post changed counts: %v/%v nodes, %v/%v edges", first.TotalNodes(), second.TotalNodes(), first.TotalEdges(), second.TotalEdges())
	}
	code, body := graphql(t, p.base, token, `{ ingestJob(id: "`+job["id"].(string)+`") { state format declared { components relationships } written { nodesCreated } } ingestJobs(twin: "`+twin+`") { id } }`)
	if code != 200 || !strings.Contains(body, `"state":"DONE"`) || !strings.Contains(body, `"components":200`) || !strings.Contains(body, `"ingestJobs":[{"id":"`+job["id"].(string)+`"}]`) {
		t.Fatalf("ingest jobs over GraphQL: %d %s", code, body)
	}
	// The job is readable by id.
	req, _ := http.NewRequest(http.MethodGet, p.base+"/ingest/jobs/"+job["id"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("get job: %v %v", resp, err)
	}
	resp.Body.Close()

	bad := []struct {
		name         string
		token, query string
		body         []byte
		header       map[string]string
		status       int
		code         string
	}{
		{"malformed", token, "twin=" + twin, []byte("{\n \"bomFormat\": \"CycloneDX\",\n \"components\": [\n"), nil, 400, "BAD_DOCUMENT"},
		{"unknown format", token, "twin=" + twin, []byte(`{"hello": "world"}`), nil, 415, "UNSUPPORTED_FORMAT"},
		{"too large", token, "twin=" + twin, bytes.Repeat([]byte(" "), 4_000_001), nil, 413, "TOO_LARGE"},
		{"no twin", token, "", sbom, nil, 400, "BAD_REQUEST"},
		{"no token", "", "twin=" + twin, sbom, nil, 401, "UNAUTHENTICATED"},
		{"bad signature", "", "twin=" + twin, sbom, map[string]string{webhook.HeaderTimestamp: ts, webhook.HeaderSignature: "sha256=00"}, 401, "UNAUTHENTICATED"},
		{"signed, other twin", "", "twin=other", sbom, map[string]string{webhook.HeaderTimestamp: ts, webhook.HeaderSignature: sig}, 403, "FORBIDDEN"},
		{"bad wait", token, "twin=" + twin + "&wait=forever", sbom, nil, 400, "BAD_REQUEST"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			status, out := post(t, p.base, tt.token, tt.query, tt.body, tt.header)
			e, _ := out["error"].(map[string]any)
			if status != tt.status || e["code"] != tt.code {
				t.Fatalf("got %d %v, want %d %s", status, out, tt.status, tt.code)
			}
		})
	}
	if after, _ := db.Stats(context.Background(), twin); after.TotalNodes() != first.TotalNodes() {
		t.Errorf("bad posts wrote: %d → %d nodes", first.TotalNodes(), after.TotalNodes())
	}

	// The CLI: upload with progress, wait, print the verdict, and fail the build on FAIL. A twin
	// of its own, where the vulnerabilities are new.
	twin2 := testenv.Twin(t, db)
	file := filepath.Join(t.TempDir(), "api.cdx.json")
	doc, _ := sbomgen.CycloneDX(sbomgen.Spec{Seed: 8, Components: 50, Dependencies: 80, Vulnerabilities: 3, CriticalEvery: 3, Subject: "api"})
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func() (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"ingest", "--server", p.base, "--data-dir", p.dataDir, "--twin", twin2, "--wait", file}, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	out1, progress, err := cli()
	if err == nil || !strings.Contains(out1, "DONE") || !strings.Contains(out1, "verdict FAIL: 1 new critical") || !strings.Contains(progress, "uploading api.cdx.json: 100%") {
		t.Fatalf("first CLI ingest: err %v\nstdout %s\nstderr %s", err, out1, progress)
	}
	out2, _, err := cli()
	if err != nil || !strings.Contains(out2, "verdict PASS") {
		t.Fatalf("second CLI ingest: err %v\nstdout %s", err, out2)
	}
}

// TestWorkerKilledMidIngest kills -9 a worker process in the middle of a 1000-component SBOM,
// restarts it, and expects the same graph as a clean run: the message was not acknowledged, so
// NATS gives it to the new worker, which rewrites it idempotently.
func TestWorkerKilledMidIngest(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.Twin(t, db)
	bin := filepath.Join(t.TempDir(), "sectwin")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dataDir := t.TempDir()
	natsPort := freePort(t)
	p := startServe(t, dataDir, os.Getenv("NEO4J_URI"), "--ingest-workers", "0", "--nats-port", fmt.Sprint(natsPort))
	p.waitStatus(t, "/readyz", 200)
	token := p.adminToken(t)
	sbom, want := sbomgen.CycloneDX(sbomgen.Spec{Seed: 11, Components: 1000, Dependencies: 6000, Vulnerabilities: 50, Subject: "big"})
	status, out := post(t, p.base, token, "twin="+twin, sbom, nil)
	if status != 202 {
		t.Fatalf("post: %d %v", status, out)
	}
	id := out["job"].(map[string]any)["id"].(string)
	jobState := func() (string, float64) {
		req, _ := http.NewRequest(http.MethodGet, p.base+"/ingest/jobs/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Job struct {
				State    string
				Attempts float64
			}
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return body.Job.State, body.Job.Attempts
	}
	worker := func() *exec.Cmd {
		cmd := exec.Command(bin, "worker", "--data-dir", dataDir, "--nats-port", fmt.Sprint(natsPort), "--neo4j-uri", os.Getenv("NEO4J_URI"),
			"--ingest-ack-wait", "2s", "--ingest-workers", "1", "--log-format", "json")
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	w1 := worker()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if st, _ := jobState(); st == "WRITING" {
			break
		}
		if time.Now().After(deadline) {
			w1.Process.Kill()
			t.Fatal("the job never reached WRITING")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := w1.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = w1.Wait()
	killedIn, _ := jobState()
	w2 := worker()
	t.Cleanup(func() { w2.Process.Signal(syscall.SIGTERM); w2.Wait() })
	deadline = time.Now().Add(90 * time.Second)
	for {
		st, attempts := jobState()
		if st == "DONE" {
			t.Logf("killed in %s; done after %v attempts", killedIn, attempts)
			if attempts < 2 && killedIn != "DONE" {
				t.Errorf("the job finished in %v attempts; the killed attempt should count", attempts)
			}
			break
		}
		if st == "FAILED" || time.Now().After(deadline) {
			t.Fatalf("job %s after the restart", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, _ := db.Stats(context.Background(), twin)
	if st.Nodes["Component"] != want.Components+1 || st.Nodes["Vulnerability"] != want.Vulnerabilities || st.Edges["DEPENDS_ON"] != want.Dependencies ||
		st.Edges["CONTAINS"] != want.Components || st.Edges["AFFECTS"] != want.Affects {
		t.Errorf("after kill and restart: %+v; a clean run has %d components (+ subject), %d vulnerabilities, %d DEPENDS_ON, %d CONTAINS, %d AFFECTS",
			st, want.Components, want.Vulnerabilities, want.Dependencies, want.Components, want.Affects)
	}
}

// TestIngestWhileNeo4jIsDown posts while the server's Neo4j is stopped: the post gets 202, and
// the job completes once Neo4j starts. It runs a Neo4j of its own (scripts/neo4j-local.sh with
// a private home and port) so that the shared one keeps serving the other tests.
func TestIngestWhileNeo4jIsDown(t *testing.T) {
	testenv.Neo4j(t) // the suite's Neo4j: this test runs where the others do
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("no java to run a private Neo4j; the suite's Neo4j comes from elsewhere")
	}
	port := freePort(t)
	home := t.TempDir()
	neo4j := func(action string) error {
		cmd := exec.Command("../../scripts/neo4j-local.sh", action)
		cmd.Env = append(os.Environ(), "NEO4J_HOME="+home, fmt.Sprintf("NEO4J_BOLT_PORT=%d", port), "NEO4J_HEAP=512m", "NEO4J_PAGECACHE=128m")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("neo4j-local.sh %s: %w\n%s", action, err, out)
		}
		return nil
	}
	t.Cleanup(func() { _ = neo4j("stop") })
	uri := fmt.Sprintf("bolt://127.0.0.1:%d", port)
	secret, twin := "s3cret", "down-test"
	p := startServe(t, t.TempDir(), uri, "--ingest-hmac-secret", secret, "--ingest-hmac-twins", twin)
	p.waitStatus(t, "/healthz", 200)
	p.waitStatus(t, "/readyz", 503)
	sbom, want := sbomgen.CycloneDX(sbomgen.Spec{Seed: 12, Components: 40, Dependencies: 60, Subject: "offline"})
	ts, sig := webhook.Sign([]byte(secret), time.Now(), sbom)
	status, out := post(t, p.base, "", "twin="+twin, sbom, map[string]string{webhook.HeaderTimestamp: ts, webhook.HeaderSignature: sig})
	if status != 202 {
		t.Fatalf("post with Neo4j down: %d %v", status, out)
	}
	if err := neo4j("start"); err != nil {
		t.Fatal(err)
	}
	p.waitStatus(t, "/readyz", 200)
	db, err := graph.Open(graph.Config{URI: uri})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := db.Stats(context.Background(), twin)
		if err == nil && st.Nodes["Component"] == want.Components+1 && st.Edges["DEPENDS_ON"] == want.Dependencies {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job posted while Neo4j was down never completed: %+v %v", st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestVerdictCountsKEVVulnerabilitiesKnownBeforehand: the KEV catalogue creates its
// vulnerabilities ahead of any scan; a later SBOM that makes one affect a component must still
// fail the gate.
func TestVerdictCountsKEVVulnerabilitiesKnownBeforehand(t *testing.T) {
	db := testenv.Migrated(t)
	twin := testenv.Twin(t, db)
	p := startServe(t, t.TempDir(), os.Getenv("NEO4J_URI"))
	p.waitStatus(t, "/readyz", 200)
	token := p.adminToken(t)
	kev := []byte(`{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2099.01.01", "dateReleased": "2099-01-01T00:00:00.000Z",
  "count": 1, "vulnerabilities": [{"cveID": "CVE-2099-00001", "vendorProject": "x", "product": "y", "vulnerabilityName": "z",
  "dateAdded": "2099-01-01", "shortDescription": "exploited", "requiredAction": "patch", "dueDate": "2099-01-21"}]}`)
	if status, out := post(t, p.base, token, "twin="+twin+"&wait=60s", kev, nil); status != 200 || out["verdict"].(map[string]any)["result"] != "PASS" {
		t.Fatalf("KEV catalogue: %d %v", status, out)
	}
	sbom, _ := sbomgen.CycloneDX(sbomgen.Spec{Seed: 9, Components: 20, Dependencies: 20, Vulnerabilities: 3, Subject: "late"})
	status, out := post(t, p.base, token, "twin="+twin+"&wait=60s", sbom, nil)
	verdict, _ := out["verdict"].(map[string]any)
	if status != 200 || verdict["result"] != "FAIL" || fmt.Sprint(verdict["newKev"]) != "[CVE-2099-00001]" {
		t.Fatalf("SBOM affected by a KEV vulnerability: %d %v", status, out)
	}
}
