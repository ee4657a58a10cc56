package collector_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/edge/collector"
)

func TestMetricsNeedTheTokenAndCountRecords(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("EDGE_METRICS_TOKEN", "metrics-token-123")
	dir := t.TempDir()
	cfgText := fmt.Sprintf(`version: 1
site: depot-7
twin: city
dead_letter: %s
metrics: {listen: "%s", token_ref: "env:EDGE_METRICS_TOKEN"}
inputs: [{name: in, type: stdin, decoder: json, pipeline: p}]
outputs: [{name: out, type: stdout}]
pipelines:
  p:
    allow_fields: [a]
`, filepath.Join(dir, "dead"), addr)
	cfg, plans, err := collector.Parse("edge.yaml", []byte(cfgText), fixedKeys{})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	var out bytes.Buffer
	c, err := collector.New(t.Context(), cfg, plans, collector.Options{Stdin: pr, Stdout: &out, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(t.Context()) }()
	fmt.Fprintln(pw, `{"a":1,"b":2}`)
	fmt.Fprintln(pw, `{broken`)
	get := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	var body string
	for {
		code, b := get("metrics-token-123")
		body = b
		if code == 200 && strings.Contains(body, `sectwin_edge_records_total{site="depot-7"} 1`) && strings.Contains(body, `sectwin_edge_malformed_total{site="depot-7"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics: %d\n%s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, `sectwin_edge_suppressed_total{reason="budget_exhausted",site="depot-7"} 0`) {
		t.Errorf("no suppression counter:\n%s", body)
	}
	for _, tok := range []string{"", "wrong"} {
		if code, _ := get(tok); code != http.StatusUnauthorized {
			t.Errorf("token %q: HTTP %d, want 401", tok, code)
		}
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", resp, err)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if out.String() != `{"a":1}`+"\n" {
		t.Errorf("output %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "dead")); err != nil {
		t.Error(err)
	}
}
