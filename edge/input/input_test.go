package input_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/sectwin/sectwin/edge/input"
	"github.com/sectwin/sectwin/edge/secret"
	"github.com/sectwin/sectwin/internal/testenv"
)

// collector gathers emitted records, copying their data as the collector must.
type collector struct {
	mu   sync.Mutex
	recs []input.Record
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1000)} }

func (c *collector) emit(_ context.Context, r input.Record) error {
	r.Data = slices.Clone(r.Data)
	c.mu.Lock()
	c.recs = append(c.recs, r)
	c.mu.Unlock()
	c.more <- struct{}{}
	return nil
}

func (c *collector) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.recs {
		s := string(r.Data)
		if r.Err != nil {
			s = "!" + r.Err.Error() + ":" + s
		}
		out = append(out, s)
	}
	return out
}

// wait waits until n records have arrived.
func (c *collector) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		if got := c.lines(); len(got) >= n {
			return got
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("waited for %d records, have %q", n, c.lines())
		}
	}
}

func TestReaderSplitsLines(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     []string
	}{
		{"plain", "a\nb\n", 0, []string{"a", "b"}},
		{"no final newline", "a\nb", 0, []string{"a", "b"}},
		{"crlf and blank lines", "a\r\n\r\n\nb\r\n", 0, []string{"a", "b"}},
		{"exactly the limit", "abcd\nx\n", 4, []string{"abcd", "x"}},
		{"oversized is cut and flagged once, the next line survives", "abcdefgh\nok\n", 4, []string{"!record too large:abcd", "ok"}},
		{"oversized last line", "ok\nabcdefgh", 4, []string{"ok", "!record too large:abcd"}},
		{"empty", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector()
			r := &input.Reader{InputName: "stdin", R: strings.NewReader(tt.in), MaxBytes: tt.max}
			if err := r.Run(t.Context(), c.emit); err != nil {
				t.Fatal(err)
			}
			if got := c.lines(); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReaderLongLinesBeyondTheBuffer(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	c := newCollector()
	r := &input.Reader{InputName: "stdin", R: strings.NewReader(long + "\n" + long + "y\nend\n"), MaxBytes: 200_000}
	if err := r.Run(t.Context(), c.emit); err != nil {
		t.Fatal(err)
	}
	got := c.lines()
	if len(got) != 3 || got[0] != long || !strings.HasPrefix(got[1], "!record too large:xxx") || len(got[1]) != len("!record too large:")+200_000 || got[2] != "end" {
		t.Fatalf("got %d records", len(got))
	}
}

func TestTailFollowsAppendsRotationAndTruncation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	ready := make(chan struct{})
	tail := &input.Tail{InputName: "file", Path: path, Poll: 20 * time.Millisecond, Ready: func() { close(ready) }}
	go func() { done <- tail.Run(ctx, c.emit) }()
	appendTo := func(s string) {
		t.Helper()
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	<-ready // positioned at the end: "old" is not read
	appendTo("one\ntw")
	time.Sleep(100 * time.Millisecond)
	appendTo("o\n")
	c.wait(t, 2)
	// Rotate: the old file moves away with a last line, a new one appears.
	appendTo("three\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo("four\n")
	c.wait(t, 4)
	// Truncate in place and write less than was read (as tail -F, a truncation is seen as the
	// file shrinking).
	if err := os.WriteFile(path, []byte("5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := c.wait(t, 5)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
	if want := []string{"one", "two", "three", "four", "5"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q (the line written before the start is skipped)", got, want)
	}
}

func TestHTTPInput(t *testing.T) {
	t.Setenv("EDGE_TEST_TOKEN", "s3cret-token")
	tok, err := secret.Load("env:EDGE_TEST_TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	ready := make(chan string, 1)
	h := &input.HTTP{InputName: "http", Addr: "127.0.0.1:0", Token: tok, MaxBody: 1 << 10, MaxBytes: 64, Ready: func(a string) { ready <- a }}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = h.Run(ctx, c.emit) }()
	base := "http://" + <-ready
	post := func(path, token, body string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name, path, token, body string
		code                    int
	}{
		{"no token", "/ingest", "", "x\n", http.StatusUnauthorized},
		{"wrong token", "/ingest", "nope", "x\n", http.StatusUnauthorized},
		{"wrong path", "/other", "s3cret-token", "x\n", http.StatusNotFound},
		{"too big a body", "/ingest", "s3cret-token", strings.Repeat("0123456789\n", 200), http.StatusRequestEntityTooLarge},
		{"accepted", "/ingest", "s3cret-token", `{"a":1}` + "\n" + `{"b":2}` + "\n", http.StatusAccepted},
	}
	for _, tt := range tests {
		if got := post(tt.path, tt.token, tt.body); got != tt.code {
			t.Errorf("%s: HTTP %d, want %d", tt.name, got, tt.code)
		}
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %v %v", resp, err)
	}
	got := c.lines()
	// The oversized body's first records were taken before the limit hit; the accepted body's
	// two records come last. Nothing was taken from unauthenticated requests.
	if len(got) < 2 || got[len(got)-2] != `{"a":1}` || got[len(got)-1] != `{"b":2}` || slices.Contains(got, "x") {
		t.Errorf("records %q", got)
	}
}

func TestMQTTInput(t *testing.T) {
	broker := testenv.MQTT(t)
	c := newCollector()
	ready := make(chan struct{})
	in := &input.MQTT{InputName: "sensors", Broker: broker, Topics: []string{"city/+/traffic"}, QoS: 1,
		ClientID: "sectwin-edge-test", MaxBytes: 32, Ready: func() { close(ready) }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, c.emit) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(15 * time.Second):
		t.Fatal("no subscription")
	}
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("publisher"))
	if tok := pub.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	for i, msg := range []string{`{"count":1}`, `{"count":2}`, strings.Repeat("z", 40)} {
		topic := fmt.Sprintf("city/district-%d/traffic", i)
		if tok := pub.Publish(topic, 1, false, msg); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	if tok := pub.Publish("city/other/parking", 1, false, "not subscribed"); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	got := c.wait(t, 3)
	cancel()
	<-done
	want := []string{`{"count":1}`, `{"count":2}`, "!record too large:" + strings.Repeat("z", 32)}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recs[1].Topic != "city/district-1/traffic" || c.recs[1].Input != "sensors" {
		t.Errorf("record metadata: %+v", c.recs[1])
	}
}
