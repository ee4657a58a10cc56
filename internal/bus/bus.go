package bus

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

const (
	defaultName     = "sectwin"
	serverName      = "sectwin" // stable across restarts: JetStream metadata records it
	tokenFileName   = "token"
	readyTimeout    = 10 * time.Second
	reconnectWait   = 2 * time.Second
	payloadHeadroom = 1 << 20 // room for DLQ headers on top of a maximal INGEST message
)

// Config configures [Open].
type Config struct {
	// URL of an external NATS server (comma separated for a cluster). Empty
	// runs an embedded nats-server instead.
	URL string
	// Token authenticates to the external server (optional there). In
	// embedded mode it is the token the server requires; if empty, Open
	// generates one and keeps it in StoreDir/token (mode 0600).
	Token string
	// StoreDir is the embedded JetStream file store directory. Required in
	// embedded mode.
	StoreDir string
	// Port is the embedded server's listen port on 127.0.0.1. 0 does not
	// listen at all (in-process connection only); -1 picks a random port.
	Port int
	// Name is the client connection name, e.g. "sectwin-serve".
	Name string
	// Logger receives connection and embedded-server logs. The zero value
	// discards them.
	Logger zerolog.Logger
}

// Bus is an open NATS connection with JetStream, and the embedded server if
// one was started. It is safe for concurrent use.
type Bus struct {
	log        zerolog.Logger
	srv        *server.Server // nil when connected to an external server
	nc         *nats.Conn
	js         jetstream.JetStream
	url        string
	connClosed chan struct{} // closed by the connection's ClosedHandler

	mu      sync.Mutex
	closing bool
	workers map[*worker]struct{}

	closeOnce sync.Once
	closeErr  error
}

// Open connects to NATS as cfg describes, starting an embedded server when
// cfg.URL is empty, and creates or updates the streams from [Streams].
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	b := &Bus{
		log:        cfg.Logger.With().Str("component", "bus").Logger(),
		connClosed: make(chan struct{}),
		workers:    make(map[*worker]struct{}),
	}
	if cfg.Name == "" {
		cfg.Name = defaultName
	}
	var err error
	if cfg.URL != "" {
		err = b.connectExternal(cfg)
	} else {
		err = b.startEmbedded(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}

	if b.js, err = jetstream.New(b.nc); err != nil {
		b.abort()
		return nil, fmt.Errorf("create JetStream context: %w", err)
	}
	if err := b.EnsureStreams(ctx); err != nil {
		b.abort()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) ||
			errors.Is(err, nats.ErrNoResponders) {
			return nil, fmt.Errorf("%w: is JetStream enabled on the NATS server? (nats-server --jetstream)", err)
		}
		return nil, err
	}
	b.log.Info().
		Bool("embedded", b.srv != nil).
		Str("url", redactURL(b.url)).
		Str("store_dir", cfg.StoreDir).
		Bool("jetstream", true).
		Msg("NATS ready")
	return b, nil
}

func (b *Bus) startEmbedded(ctx context.Context, cfg Config) error {
	if cfg.StoreDir == "" {
		return errors.New("embedded NATS needs a store directory (or set a NATS URL to use an external server)")
	}
	if cfg.Port < -1 || cfg.Port > 65535 {
		return fmt.Errorf("invalid NATS port %d: use 1-65535, 0 to not listen, or -1 for a random port", cfg.Port)
	}
	token := cfg.Token
	if token == "" {
		var err error
		if token, err = b.loadOrCreateToken(cfg.StoreDir); err != nil {
			return err
		}
	}
	// nats-server calls Fatalf on a busy port; find out first and say what to do.
	if cfg.Port > 0 {
		if err := checkPortFree(cfg.Port); err != nil {
			return err
		}
	}

	srv, err := server.NewServer(&server.Options{
		ServerName:    serverName,
		Host:          "127.0.0.1",
		Port:          cfg.Port,
		DontListen:    cfg.Port == 0,
		JetStream:     true,
		StoreDir:      cfg.StoreDir,
		NoSigs:        true,
		NoLog:         true,
		Authorization: token,
		MaxPayload:    MaxIngestMsgSize + payloadHeadroom,
	})
	if err != nil {
		return fmt.Errorf("configure embedded NATS server: %w", err)
	}
	slog := &serverLogger{log: b.log.With().Str("component", "nats-server").Logger()}
	srv.SetLoggerV2(slog, false, false, false)

	go srv.Start()
	if err := waitReady(ctx, srv, slog); err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return fmt.Errorf("start embedded NATS server in %s: %w", cfg.StoreDir, err)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		return fmt.Errorf("embedded NATS server started without JetStream (store %s): %s", cfg.StoreDir, slog.lastFatal())
	}

	opts := append(b.connOptions(cfg.Name), nats.InProcessServer(srv), nats.Token(token))
	nc, err := nats.Connect(srv.ClientURL(), opts...)
	if err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return fmt.Errorf("connect to embedded NATS server: %w", err)
	}
	b.srv, b.nc = srv, nc
	if cfg.Port != 0 {
		b.url = srv.ClientURL()
	}
	return nil
}

func (b *Bus) connectExternal(cfg Config) error {
	opts := append(b.connOptions(cfg.Name), nats.MaxReconnects(-1), nats.ReconnectWait(reconnectWait))
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w (check that the server is running and reachable, "+
			"that SECTWIN_NATS_TOKEN matches its auth token, and that JetStream is enabled; "+
			"or unset SECTWIN_NATS_URL to use the embedded server)", redactURL(cfg.URL), err)
	}
	b.nc, b.url = nc, cfg.URL
	return nil
}

// connOptions returns the options shared by embedded and external
// connections: the name and handlers that log connection state changes.
func (b *Bus) connOptions(name string) []nats.Option {
	return []nats.Option{
		nats.Name(name),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn().Err(err).Msg("NATS disconnected")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info().Str("url", redactURL(nc.ConnectedUrl())).Msg("NATS reconnected")
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			ev := b.log.Error().Err(err)
			if sub != nil {
				ev = ev.Str("subject", sub.Subject)
			}
			ev.Msg("NATS asynchronous error")
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(b.connClosed) }),
	}
}

// abort releases what a failed Open acquired.
func (b *Bus) abort() {
	b.nc.Close()
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// JetStream returns the JetStream context.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Conn returns the underlying NATS connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// ClientURL returns the URL other processes can connect to: the embedded
// server's listen URL or the configured external URL. It is empty when the
// embedded server does not listen.
func (b *Bus) ClientURL() string { return b.url }

// EnsureStreams creates every stream from [Streams], or updates it to that
// configuration.
func (b *Bus) EnsureStreams(ctx context.Context) error {
	for _, sc := range Streams() {
		if _, err := b.js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("create or update stream %s: %w", sc.Name, err)
		}
	}
	return nil
}

// Check reports whether the bus is usable: the connection is up and
// JetStream answers within ctx. It is meant for readiness probes.
func (b *Bus) Check(ctx context.Context) error {
	if st := b.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("NATS connection is %s", st)
	}
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("JetStream account info: %w", err)
	}
	return nil
}

// Publish publishes data to subject through JetStream and waits for the
// stream's acknowledgement. A non-empty msgID is sent as Nats-Msg-Id, so that
// the stream stores a message only once within its duplicate window.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte, msgID string) error {
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	if _, err := b.js.Publish(ctx, subject, data, opts...); err != nil {
		return fmt.Errorf("publish to %s: %w", subject, err)
	}
	return nil
}

// Close stops the consumers started by [Bus.Consume] (waiting for their
// in-flight handlers), drains the connection and shuts down the embedded
// server. If ctx ends first, the remaining steps are forced. Close is
// idempotent: later calls return the first call's result.
func (b *Bus) Close(ctx context.Context) error {
	b.closeOnce.Do(func() { b.closeErr = b.close(ctx) })
	return b.closeErr
}

func (b *Bus) close(ctx context.Context) error {
	var errs []error

	b.mu.Lock()
	b.closing = true
	workers := make([]*worker, 0, len(b.workers))
	for w := range b.workers {
		workers = append(workers, w)
	}
	b.mu.Unlock()
	stopped := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(w.stop)
		}
		wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("stop consumers: %w", ctx.Err()))
	}

	if !b.nc.IsClosed() {
		if err := b.nc.Drain(); err != nil {
			errs = append(errs, fmt.Errorf("drain NATS connection: %w", err))
			b.nc.Close()
		}
	}
	select {
	case <-b.connClosed:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("drain NATS connection: %w", ctx.Err()))
		b.nc.Close()
	}

	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	b.log.Info().Msg("NATS closed")
	return errors.Join(errs...)
}

// loadOrCreateToken returns the token kept in dir, creating it on first use.
func (b *Bus) loadOrCreateToken(dir string) (string, error) {
	path := filepath.Join(dir, tokenFileName)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(data))
		if tok == "" {
			return "", fmt.Errorf("NATS token file %s is empty: delete it to generate a new token", path)
		}
		return tok, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read NATS token: %w", err)
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create NATS store directory: %w", err)
	}
	tok := rand.Text()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create NATS token file: %w", err)
	}
	_, err = f.WriteString(tok + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("write NATS token file: %w", err)
	}
	b.log.Info().Str("token_file", path).Msg("generated NATS auth token")
	return tok, nil
}

// checkPortFree reports a clear error when 127.0.0.1:port cannot be bound.
func checkPortFree(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		what := "is in use"
		if !errors.Is(err, syscall.EADDRINUSE) {
			what = "cannot be opened"
		}
		return fmt.Errorf("NATS port %d on 127.0.0.1 %s: set SECTWIN_NATS_PORT to another port, "+
			"or SECTWIN_NATS_URL to use an external NATS (%w)", port, what, err)
	}
	return ln.Close()
}

// waitReady waits until srv accepts connections, ctx ends, or the server
// reports a fatal error.
func waitReady(ctx context.Context, srv *server.Server, slog *serverLogger) error {
	deadline := time.Now().Add(readyTimeout)
	for !srv.ReadyForConnections(50 * time.Millisecond) {
		switch {
		case slog.lastFatal() != "":
			return errors.New(slog.lastFatal())
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return fmt.Errorf("not ready after %s", readyTimeout)
		}
	}
	return nil
}

// redactURL hides credentials (user:password@ or token@) in a NATS URL list.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		start := 0
		if j := strings.Index(p, "://"); j >= 0 {
			start = j + len("://")
		}
		if at := strings.LastIndex(p, "@"); at >= start {
			p = p[:start] + "redacted" + p[at:]
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}
