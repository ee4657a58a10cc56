package bus_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/internal/bus"
)

// logBuffer collects log output from any goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// openBus opens a bus on a fresh embedded server (unless cfg.URL is set) and
// closes it when the test ends.
func openBus(t *testing.T, cfg bus.Config) *bus.Bus {
	t.Helper()
	if cfg.URL == "" && cfg.StoreDir == "" {
		cfg.StoreDir = t.TempDir()
	}
	b, err := bus.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// eventually fails the test if cond does not hold within 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func streamInfo(t *testing.T, js jetstream.JetStream, name string) *jetstream.StreamInfo {
	t.Helper()
	s, err := js.Stream(t.Context(), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatalf("stream %s info: %v", name, err)
	}
	return info
}

func streamMsgs(t *testing.T, b *bus.Bus, name string) uint64 {
	t.Helper()
	return streamInfo(t, b.JetStream(), name).State.Msgs
}

// checkStreams verifies the streams on js have sectwin's configuration.
func checkStreams(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	want := []struct {
		name       string
		subject    string
		retention  jetstream.RetentionPolicy
		maxAge     time.Duration
		duplicates time.Duration
		maxMsgSize int32
	}{
		{"INGEST", "sectwin.ingest.>", jetstream.WorkQueuePolicy, 0, 5 * time.Minute, 32 << 20},
		{"DLQ", "sectwin.dlq.>", jetstream.LimitsPolicy, 30 * 24 * time.Hour, 2 * time.Minute, -1},
		{"EVENTS", "sectwin.events.>", jetstream.LimitsPolicy, 7 * 24 * time.Hour, 2 * time.Minute, -1},
		{"EDGE", "sectwin.edge.>", jetstream.WorkQueuePolicy, 0, 2 * time.Minute, 1 << 20},
	}
	for _, w := range want {
		cfg := streamInfo(t, js, w.name).Config
		if len(cfg.Subjects) != 1 || cfg.Subjects[0] != w.subject {
			t.Errorf("%s subjects = %v, want [%s]", w.name, cfg.Subjects, w.subject)
		}
		if cfg.Retention != w.retention {
			t.Errorf("%s retention = %v, want %v", w.name, cfg.Retention, w.retention)
		}
		if cfg.Storage != jetstream.FileStorage {
			t.Errorf("%s storage = %v, want file", w.name, cfg.Storage)
		}
		if cfg.MaxAge != w.maxAge {
			t.Errorf("%s max age = %v, want %v", w.name, cfg.MaxAge, w.maxAge)
		}
		if cfg.Duplicates != w.duplicates {
			t.Errorf("%s duplicate window = %v, want %v", w.name, cfg.Duplicates, w.duplicates)
		}
		if cfg.MaxMsgSize != w.maxMsgSize {
			t.Errorf("%s max msg size = %d, want %d", w.name, cfg.MaxMsgSize, w.maxMsgSize)
		}
	}
}

func TestOpenEmbedded(t *testing.T) {
	tests := []struct {
		name    string
		port    int
		wantURL bool
	}{
		{"in-process only", 0, false},
		{"random port", -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := openBus(t, bus.Config{Port: tc.port, Name: "sectwin-test"})
			if got := b.ClientURL() != ""; got != tc.wantURL {
				t.Errorf("ClientURL() = %q, want URL: %v", b.ClientURL(), tc.wantURL)
			}
			checkStreams(t, b.JetStream())
			if err := b.Check(t.Context()); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if name := b.Conn().Opts.Name; name != "sectwin-test" {
				t.Errorf("connection name = %q", name)
			}

			for i := range 2 {
				if err := b.Close(t.Context()); err != nil {
					t.Fatalf("Close #%d: %v", i+1, err)
				}
			}
			if err := b.Check(t.Context()); err == nil {
				t.Fatal("Check after Close succeeded")
			}
		})
	}
}

func TestEmbeddedReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	b := openBus(t, bus.Config{StoreDir: dir})
	if err := b.Publish(t.Context(), "sectwin.events.test", []byte("x"), ""); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	b = openBus(t, bus.Config{StoreDir: dir})
	if n := streamMsgs(t, b, bus.StreamEvents); n != 1 {
		t.Fatalf("EVENTS has %d messages after reopen, want 1", n)
	}
}

func TestEmbeddedToken(t *testing.T) {
	dir := t.TempDir()
	logs := &logBuffer{}
	cfg := bus.Config{StoreDir: dir, Port: -1, Logger: zerolog.New(logs).Level(zerolog.TraceLevel)}

	b := openBus(t, cfg)
	path := filepath.Join(dir, "token")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("token file: %v", err)
	}
	token := strings.TrimSpace(string(data))
	if len(token) < 20 {
		t.Fatalf("token %q is too short", token)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("token file mode = %o, want 600", perm)
		}
	}

	tests := []struct {
		name    string
		opts    []nats.Option
		wantErr bool
	}{
		{"no token", nil, true},
		{"wrong token", []nats.Option{nats.Token("wrong")}, true},
		{"right token", []nats.Option{nats.Token(token)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := nats.Connect(b.ClientURL(), tc.opts...)
			if tc.wantErr {
				if !errors.Is(err, nats.ErrAuthorization) {
					t.Fatalf("Connect error = %v, want authorization violation", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			nc.Close()
		})
	}

	// Reopening the same store keeps the token.
	if err := b.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	b = openBus(t, cfg)
	data, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(data)); got != token {
		t.Fatalf("token changed on reopen: %q -> %q", token, got)
	}
	nc, err := nats.Connect(b.ClientURL(), nats.Token(token))
	if err != nil {
		t.Fatalf("Connect after reopen: %v", err)
	}
	nc.Close()
	if err := b.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	if logs.String() == "" {
		t.Fatal("no logs captured")
	}
	if strings.Contains(logs.String(), token) {
		t.Fatal("token appears in logs")
	}
}

func TestEmbeddedConfiguredToken(t *testing.T) {
	dir := t.TempDir()
	b := openBus(t, bus.Config{StoreDir: dir, Port: -1, Token: "configured-token"})
	if _, err := os.Stat(filepath.Join(dir, "token")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token file written for a configured token (stat: %v)", err)
	}
	nc, err := nats.Connect(b.ClientURL(), nats.Token("configured-token"))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	nc.Close()
}

func TestOpenErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name    string
		cfg     bus.Config
		want    []string
		wantErr error
	}{
		{
			name:    "port in use",
			cfg:     bus.Config{StoreDir: t.TempDir(), Port: busy},
			want:    []string{"NATS port " + strconv.Itoa(busy) + " on 127.0.0.1 is in use", "SECTWIN_NATS_PORT", "SECTWIN_NATS_URL"},
			wantErr: syscall.EADDRINUSE,
		},
		{
			name: "port out of range",
			cfg:  bus.Config{StoreDir: t.TempDir(), Port: 70000},
			want: []string{"invalid NATS port 70000"},
		},
		{
			name: "no store dir",
			cfg:  bus.Config{},
			want: []string{"store directory"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := bus.Open(t.Context(), tc.cfg)
			if err == nil {
				b.Close(context.Background())
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
		})
	}
}

func TestPublishDedup(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		want uint64
	}{
		{"same id twice", []string{"a", "a"}, 1},
		{"different ids", []string{"a", "b"}, 2},
		{"no id", []string{"", ""}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := openBus(t, bus.Config{})
			for _, id := range tc.ids {
				if err := b.Publish(t.Context(), "sectwin.ingest.test", []byte("payload"), id); err != nil {
					t.Fatalf("Publish: %v", err)
				}
			}
			if got := streamMsgs(t, b, bus.StreamIngest); got != tc.want {
				t.Fatalf("INGEST has %d messages, want %d", got, tc.want)
			}
		})
	}
}

func TestPublishNoStream(t *testing.T) {
	b := openBus(t, bus.Config{})
	if err := b.Publish(t.Context(), "not.a.stream", nil, ""); err == nil {
		t.Fatal("Publish to a subject without stream succeeded")
	}
}

// startExternal runs a standalone JetStream server, as an external NATS would be.
func startExternal(t *testing.T, token string) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host:          "127.0.0.1",
		Port:          -1,
		JetStream:     true,
		StoreDir:      t.TempDir(),
		Authorization: token,
		NoLog:         true,
		NoSigs:        true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("external server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

func TestExternal(t *testing.T) {
	const token = "external-secret-token"
	srv := startExternal(t, token)
	hostPort := strings.TrimPrefix(srv.ClientURL(), "nats://")

	tests := []struct {
		name    string
		url     string
		token   string
		wantErr string
	}{
		{"token option", srv.ClientURL(), token, ""},
		{"token in URL", "nats://" + token + "@" + hostPort, "", ""},
		{"wrong token", srv.ClientURL(), "wrong-token-value", "SECTWIN_NATS_TOKEN"},
		{"no token", srv.ClientURL(), "", "SECTWIN_NATS_TOKEN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logBuffer{}
			cfg := bus.Config{URL: tc.url, Token: tc.token, Name: "sectwin-test", Logger: zerolog.New(logs)}
			b, err := bus.Open(t.Context(), cfg)
			if tc.wantErr != "" {
				if err == nil {
					b.Close(context.Background())
					t.Fatal("Open succeeded")
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not mention %q", err, tc.wantErr)
				}
				if tc.token != "" && strings.Contains(err.Error(), tc.token) {
					t.Errorf("error %q contains the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if b.ClientURL() != tc.url {
				t.Errorf("ClientURL() = %q, want %q", b.ClientURL(), tc.url)
			}
			checkStreams(t, b.JetStream())
			if err := b.Check(t.Context()); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if err := b.Close(t.Context()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := b.Check(t.Context()); err == nil {
				t.Error("Check after Close succeeded")
			}

			if !srv.Running() {
				t.Fatal("Close shut down the external server")
			}
			nc, err := nats.Connect(srv.ClientURL(), nats.Token(token))
			if err != nil {
				t.Fatalf("external server unusable after Close: %v", err)
			}
			nc.Close()
			if strings.Contains(logs.String(), token) {
				t.Error("token appears in logs")
			}
		})
	}
}

func TestExternalWithoutJetStream(t *testing.T) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	defer func() {
		s.Shutdown()
		s.WaitForShutdown()
	}()
	b, err := bus.Open(t.Context(), bus.Config{URL: s.ClientURL()})
	if err == nil {
		b.Close(context.Background())
		t.Fatal("Open succeeded without JetStream")
	}
	if !strings.Contains(err.Error(), "JetStream") {
		t.Errorf("error %q does not mention JetStream", err)
	}
}
