package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/ingest/webhook"
	"github.com/sectwin/sectwin/internal/testenv"
)

const testSecret = "s3cr3t-hmac-key"

// fastRetry keeps the retry tests quick.
var fastRetry = RetryOptions{Attempts: 3, Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// checkNoSecrets fails if the secret or a signature shows in the log or the result.
func checkNoSecrets(t *testing.T, log string, res DeliveryResult) {
	t.Helper()
	js, _ := json.Marshal(res)
	for _, where := range []string{log, string(js), fmt.Sprintf("%+v", res)} {
		if strings.Contains(where, testSecret) || strings.Contains(where, "sha256=") {
			t.Errorf("secret or signature leaked: %s", where)
		}
	}
}

func TestSignMatchesIngest(t *testing.T) {
	at := time.Unix(1767225600, 0)
	for _, body := range [][]byte{nil, []byte("{}"), bytes.Repeat([]byte("é"), 5000)} {
		ts, sig := sign([]byte(testSecret), at, body)
		wts, wsig := webhook.Sign([]byte(testSecret), at, body)
		if ts != wts || sig != wsig {
			t.Errorf("sign = %s %s, ingest/webhook.Sign = %s %s", ts, sig, wts, wsig)
		}
	}
}

func TestWebhookRetriesThenDelivers(t *testing.T) {
	r := fixedReport()
	body := []byte(mustRender(t, renderer(t), r, Markdown))
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := calls.Add(1)
		got, _ := io.ReadAll(req.Body)
		if err := webhook.Verify([]byte(testSecret), req.Header, got, time.Now()); err != nil {
			t.Errorf("attempt %d: signature: %v", n, err)
		}
		if !bytes.Equal(got, body) {
			t.Errorf("attempt %d: body differs", n)
		}
		for h, want := range map[string]string{
			"Content-Type": "text/markdown; charset=utf-8", HeaderReportID: r.ID, HeaderTwin: r.Twin,
		} {
			if req.Header.Get(h) != want {
				t.Errorf("attempt %d: %s = %q, want %q", n, h, req.Header.Get(h), want)
			}
		}
		if n <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	var logs syncBuffer
	d := NewDeliverer(srv.Client(), nil, zerolog.New(&logs), fastRetry)
	res := d.Deliver(context.Background(), Target{Kind: KindWebhook, URL: srv.URL + "/hook", Secret: testSecret}, r, body, Markdown)
	if !res.OK() || res.Attempts != 3 || calls.Load() != 3 || res.DeliveredAt.IsZero() {
		t.Fatalf("result %+v after %d calls", res, calls.Load())
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Error("retries not logged")
	}
	checkNoSecrets(t, logs.String(), res)
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		retryAfter   string
		wantAttempts int
		wantErr      error
	}{
		{"bad request is permanent", http.StatusBadRequest, "", 1, ErrPermanent},
		{"unauthorized is permanent", http.StatusUnauthorized, "", 1, ErrPermanent},
		{"not found is permanent", http.StatusNotFound, "", 1, ErrPermanent},
		{"request timeout is retried", http.StatusRequestTimeout, "", 3, ErrRetriesExhausted},
		{"too many requests is retried", http.StatusTooManyRequests, "1", 3, ErrRetriesExhausted},
		{"server error is retried", http.StatusInternalServerError, "", 3, ErrRetriesExhausted},
		{"bad gateway is retried", http.StatusBadGateway, "", 3, ErrRetriesExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				calls.Add(1)
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				http.Error(w, "nope\nsecond line", tt.status)
			}))
			defer srv.Close()
			var logs syncBuffer
			d := NewDeliverer(srv.Client(), nil, zerolog.New(&logs), fastRetry)
			start := time.Now()
			res := d.Deliver(context.Background(), Target{Kind: KindWebhook, URL: srv.URL, Secret: testSecret}, fixedReport(), []byte("{}"), JSON)
			if res.OK() || res.Attempts != tt.wantAttempts || int(calls.Load()) != tt.wantAttempts {
				t.Fatalf("result %+v after %d calls", res, calls.Load())
			}
			if !errors.Is(res.Cause, tt.wantErr) {
				t.Errorf("%v is not %v", res.Cause, tt.wantErr)
			}
			var se *StatusError
			if !errors.As(res.Cause, &se) || se.StatusCode != tt.status || se.Body != "nope second line" {
				t.Errorf("status error: %#v", se)
			}
			if time.Since(start) > 2*time.Second {
				t.Error("Retry-After was not capped by MaxBackoff")
			}
			checkNoSecrets(t, logs.String(), res)
		})
	}
}

func TestWebhookUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	var logs syncBuffer
	d := NewDeliverer(&http.Client{Timeout: time.Second}, nil, zerolog.New(&logs), fastRetry)
	url := "http://user:pw@" + addr + "/hook?token=query-token"
	res := d.Deliver(context.Background(), Target{Kind: KindWebhook, URL: url, Secret: testSecret}, fixedReport(), []byte("{}"), JSON)
	if res.OK() || res.Attempts != 3 || !errors.Is(res.Cause, ErrRetriesExhausted) {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(res.Err, "connection refused") {
		t.Errorf("error does not say why: %s", res.Err)
	}
	for _, leak := range []string{"query-token", "pw@"} {
		if strings.Contains(res.Err+res.Target+logs.String(), leak) {
			t.Errorf("%q leaked: %s / %s", leak, res.Target, res.Err)
		}
	}
	checkNoSecrets(t, logs.String(), res)
}

func TestWebhookTimeoutIsRetried(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			<-release // the first attempt times out
		}
	}))
	defer srv.Close()
	defer close(release)
	d := NewDeliverer(&http.Client{Timeout: 300 * time.Millisecond}, nil, zerolog.Nop(), fastRetry)
	res := d.Deliver(context.Background(), Target{Kind: KindWebhook, URL: srv.URL, Secret: testSecret}, fixedReport(), []byte("{}"), JSON)
	if !res.OK() || res.Attempts != 2 || calls.Load() != 2 {
		t.Fatalf("result %+v after %d calls", res, calls.Load())
	}
}

func TestDeliverStopsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	d := NewDeliverer(srv.Client(), nil, zerolog.Nop(), RetryOptions{Attempts: 10, Backoff: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := d.Deliver(ctx, Target{Kind: KindWebhook, URL: srv.URL, Secret: testSecret}, fixedReport(), []byte("{}"), JSON)
	if res.OK() || !errors.Is(res.Cause, context.DeadlineExceeded) || res.Attempts != 1 {
		t.Fatalf("result %+v", res)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the backoff ignored the context")
	}
}

func TestBackoff(t *testing.T) {
	d := NewDeliverer(nil, nil, zerolog.Nop(), RetryOptions{Attempts: 10, Backoff: time.Second, MaxBackoff: 5 * time.Second})
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := d.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if def := NewDeliverer(nil, nil, zerolog.Nop(), RetryOptions{}); def.retry != (RetryOptions{DefaultAttempts, DefaultBackoff, DefaultMaxBackoff}) {
		t.Errorf("defaults: %+v", def.retry)
	}
}

func TestFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports", "nightly") // does not exist yet
	r := fixedReport()
	d := NewDeliverer(nil, nil, zerolog.Nop(), fastRetry)
	for _, f := range Formats() {
		body := []byte(mustRender(t, renderer(t), r, f))
		res := d.Deliver(context.Background(), Target{Kind: KindFolder, Path: dir}, r, body, f)
		if !res.OK() || res.Attempts != 1 {
			t.Fatalf("%s: %+v", f, res)
		}
		path := filepath.Join(dir, "prod-eu-20260314T020005Z-run-42."+f.Ext())
		if res.Target != "folder "+path {
			t.Errorf("result names %q, want the file %s", res.Target, path)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s: content differs (%v)", path, err)
		}
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", path, fi.Mode().Perm())
		}
	}
	// Writing again replaces the file, and no temporary file stays behind.
	res := d.Deliver(context.Background(), Target{Kind: KindFolder, Path: dir}, r, []byte("again"), JSON)
	if !res.OK() {
		t.Fatal(res.Err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want the 3 reports only", names)
	}
}

func TestFolderRefusesTraversal(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "reports")
	tests := []struct{ name, twin, id string }{
		{"parent in twin", "../evil", "run-1"},
		{"dot-dot twin", "..", "run-1"},
		{"absolute twin", "/etc/passwd", "run-1"},
		{"slash in id", "prod", "a/../../b"},
		{"backslash in id", "prod", `..\..\b`},
		{"dot-dot in id", "prod", "x..y"},
		{"NUL in id", "prod", "a\x00b"},
		{"empty twin", "", "run-1"},
		{"empty id", "prod", ""},
		{"dot id", "prod", "."},
	}
	d := NewDeliverer(nil, nil, zerolog.Nop(), fastRetry)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixedReport()
			r.Twin, r.ID = tt.twin, tt.id
			res := d.Deliver(context.Background(), Target{Kind: KindFolder, Path: dir}, r, []byte("x"), JSON)
			if res.OK() || !errors.Is(res.Cause, ErrUnsafeName) || !errors.Is(res.Cause, ErrPermanent) {
				t.Fatalf("result %+v", res)
			}
		})
	}
	// Nothing was written anywhere under base.
	_ = filepath.WalkDir(base, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			t.Errorf("file written: %s", p)
		}
		return nil
	})
}

func TestFileName(t *testing.T) {
	at := time.Date(2026, 3, 14, 2, 0, 5, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		twin, id string
		format   Format
		want     string
		wantErr  error
	}{
		{"prod", "run-42", HTML, "prod-20260314T010005Z-run-42.html", nil},
		{"prod eu", "ünï", Markdown, "prod_eu-20260314T010005Z-__n__.md", nil}, // one _ a byte
		{"a", strings.Repeat("x", 100), JSON, "a-20260314T010005Z-" + strings.Repeat("x", 64) + ".json", nil},
		{".hidden", "x", JSON, "", ErrUnsafeName},
		{"prod", "x", Format("exe"), "", ErrUnknownFormat},
	}
	for _, tt := range tests {
		got, err := FileName(tt.twin, tt.id, at, tt.format)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("FileName(%q, %q) = %q, %v; want %q, %v", tt.twin, tt.id, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestInvalidTargetIsPermanent(t *testing.T) {
	d := NewDeliverer(nil, nil, zerolog.Nop(), fastRetry)
	for _, tg := range []Target{
		{Kind: "s3", Path: "x"},
		{Kind: KindWebhook, URL: "http://example.invalid"}, // no secret
		{Kind: KindNATS, Subject: "a.*"},
	} {
		res := d.Deliver(context.Background(), tg, fixedReport(), []byte("x"), JSON)
		if res.OK() || res.Attempts != 0 || !errors.Is(res.Cause, ErrInvalid) || !errors.Is(res.Cause, ErrPermanent) {
			t.Errorf("%v: %+v", tg, res)
		}
	}
	res := d.Deliver(context.Background(), Target{Kind: KindNATS, Subject: "a.b"}, fixedReport(), []byte("x"), JSON)
	if !errors.Is(res.Cause, ErrNoPublisher) {
		t.Errorf("no publisher: %+v", res)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	tg := Target{Kind: KindWebhook, URL: "https://hooks.example.com/x?sig=abc", Secret: testSecret}
	js, _ := json.Marshal(tg)
	outs := []string{
		fmt.Sprint(tg), fmt.Sprintf("%v %+v %#v %s %q %x", tg, tg, tg, tg.Secret, tg.Secret, tg.Secret),
		string(js), tg.String(),
	}
	for _, o := range outs {
		if strings.Contains(o, testSecret) {
			t.Errorf("secret leaked: %s", o)
		}
	}
	// The URL is configuration, kept by JSON; its query is hidden where a target is described.
	if strings.Contains(tg.String()+fmt.Sprint(tg), "sig=abc") {
		t.Errorf("URL query in %s", tg)
	}
	if tg.Secret.Reveal() != testSecret {
		t.Error("Reveal")
	}
}

// natsPublisher adapts a nats.go connection to Publisher, as the caller does.
type natsPublisher struct{ nc *nats.Conn }

func (p natsPublisher) Publish(ctx context.Context, subject string, data []byte, headers map[string]string) error {
	msg := nats.NewMsg(subject)
	msg.Data = data
	for k, v := range headers {
		msg.Header.Set(k, v)
	}
	if err := p.nc.PublishMsg(msg); err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok { // nats.go wants one
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	return p.nc.FlushWithContext(ctx)
}

func TestNATSDelivery(t *testing.T) {
	b := testenv.NATS(t)
	nc := b.Conn()
	sub, err := nc.SubscribeSync("sectwin.reports.>")
	if err != nil {
		t.Fatal(err)
	}
	r := fixedReport()
	html := []byte(mustRender(t, renderer(t), r, HTML))
	d := NewDeliverer(nil, natsPublisher{nc}, testenv.Logger(t), fastRetry)
	res := d.Deliver(context.Background(), Target{Kind: KindNATS, Subject: "sectwin.reports.prod-eu"}, r, html, HTML)
	if !res.OK() || res.Attempts != 1 || res.Format != JSON {
		t.Fatalf("result %+v", res)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(msg.Data, &got); err != nil {
		t.Fatalf("the message is not the JSON report: %v", err)
	}
	if got.ID != r.ID || len(got.Paths) != len(r.Paths) {
		t.Errorf("received report %s with %d paths", got.ID, len(got.Paths))
	}
	for h, want := range map[string]string{NATSHeaderReportID: r.ID, NATSHeaderTwin: r.Twin, NATSHeaderSchedule: r.Schedule} {
		if msg.Header.Get(h) != want {
			t.Errorf("header %s = %q, want %q", h, msg.Header.Get(h), want)
		}
	}
}

func TestNATSRetriesThenGivesUp(t *testing.T) {
	b := testenv.NATS(t)
	if err := b.Close(context.Background()); err != nil { // every publish now fails
		t.Fatal(err)
	}
	d := NewDeliverer(nil, natsPublisher{b.Conn()}, zerolog.Nop(), fastRetry)
	res := d.Deliver(context.Background(), Target{Kind: KindNATS, Subject: "sectwin.reports.x"}, fixedReport(), nil, Markdown)
	if res.OK() || res.Attempts != 3 || !errors.Is(res.Cause, ErrRetriesExhausted) || !errors.Is(res.Cause, nats.ErrConnectionClosed) {
		t.Fatalf("result %+v", res)
	}
}

func TestDeliverAll(t *testing.T) {
	b := testenv.NATS(t)
	sub, err := b.Conn().SubscribeSync("sectwin.reports.all")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	posted := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := webhook.Verify([]byte(testSecret), req.Header, body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		posted[req.Header.Get("Content-Type")]++
		mu.Unlock()
	}))
	defer srv.Close()
	dir := t.TempDir()
	d := NewDeliverer(srv.Client(), natsPublisher{b.Conn()}, testenv.Logger(t), fastRetry)
	targets := []Target{
		{Kind: KindFolder, Path: dir},
		{Kind: KindWebhook, URL: srv.URL, Secret: testSecret},
		{Kind: KindNATS, Subject: "sectwin.reports.all"},
	}
	results := d.DeliverAll(context.Background(), renderer(t), fixedReport(), []Format{HTML, Markdown}, targets)
	want := []struct {
		prefix string
		format Format
	}{{"folder ", HTML}, {"folder ", Markdown}, {"webhook ", HTML}, {"webhook ", Markdown}, {"nats ", JSON}}
	if len(results) != len(want) {
		t.Fatalf("%d results: %+v", len(results), results)
	}
	for i, w := range want {
		if !results[i].OK() || !strings.HasPrefix(results[i].Target, w.prefix) || results[i].Format != w.format {
			t.Errorf("result %d: %+v, want %s%s", i, results[i], w.prefix, w.format)
		}
	}
	if posted[HTML.ContentType()] != 1 || posted[Markdown.ContentType()] != 1 {
		t.Errorf("posted %v", posted)
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Errorf("nats: %v", err)
	}
	if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Error("nats got the report twice")
	}
}

func TestDeliverAllEdgeCases(t *testing.T) {
	d := NewDeliverer(nil, nil, zerolog.Nop(), fastRetry)
	dir := t.TempDir()
	folder := []Target{{Kind: KindFolder, Path: dir}}

	res := d.DeliverAll(context.Background(), nil, fixedReport(), nil, folder)
	if len(res) != 1 || res[0].OK() || !errors.Is(res[0].Cause, ErrNoFormats) {
		t.Errorf("no formats: %+v", res)
	}
	res = d.DeliverAll(context.Background(), nil, fixedReport(), []Format{Markdown}, folder) // nil renderer: a fresh one
	if len(res) != 1 || !res[0].OK() {
		t.Errorf("nil renderer: %+v", res)
	}
	res = d.DeliverAll(context.Background(), nil, fixedReport(), []Format{"pdf"}, folder)
	if len(res) != 1 || !errors.Is(res[0].Cause, ErrUnknownFormat) || res[0].Attempts != 0 {
		t.Errorf("unknown format: %+v", res)
	}
	if res := d.DeliverAll(context.Background(), nil, fixedReport(), []Format{HTML}, nil); len(res) != 0 {
		t.Errorf("no targets: %+v", res)
	}
}
