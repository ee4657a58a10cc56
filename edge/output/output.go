// Package output sends what the edge collector releases: to NATS JetStream subjects with the
// privacy manifest in headers (the EDGE stream), as the operations twin's telemetry events (the
// TELEMETRY stream, Telemetry), or as JSON lines to standard output for pipelines and debugging.
package output

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/edge/secret"
)

// Message is one released record or aggregate.
type Message struct {
	Subject  string
	Data     []byte // one JSON document
	Manifest audit.Manifest
	// Link names the twin element the release describes: label and key (audit.HeaderLinkLabel
	// and audit.HeaderLinkKey); nil for none.
	Link *[2]string
	// Decoder is the edge/decode decoder that read the released record (json, suricata, zeek,
	// fiware, sshd, flowcsv); empty for aggregates. A telemetry output maps the record with
	// its adapter.
	Decoder string
}

// Output is one destination.
type Output interface {
	Name() string
	// Send delivers m, retrying transient failures until ctx ends; it returns only when the
	// destination has taken m or will never take it.
	Send(ctx context.Context, m Message) error
	Close(ctx context.Context) error
}

// Stdout writes each message's data as one line.
type Stdout struct {
	OutputName string
	mu         sync.Mutex
	w          *bufio.Writer
}

// NewStdout writes to w (os.Stdout in the collector).
func NewStdout(name string, w io.Writer) *Stdout {
	return &Stdout{OutputName: name, w: bufio.NewWriterSize(w, 64<<10)}
}

// Name implements Output.
func (s *Stdout) Name() string { return s.OutputName }

// Send implements Output. Lines are buffered; Flush or Close writes them out.
func (s *Stdout) Send(_ context.Context, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(m.Data); err != nil {
		return err
	}
	return s.w.WriteByte('\n')
}

// Flush writes buffered lines out.
func (s *Stdout) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Flush()
}

// Close implements Output.
func (s *Stdout) Close(context.Context) error { return s.Flush() }

// NATSConfig connects to a NATS server with JetStream, such as the one `sectwin serve` embeds.
type NATSConfig struct {
	Name      string
	URL       string
	Token     secret.Value // the server's auth token (sectwin serve writes it to its token file)
	User      string
	Password  secret.Value
	CredsFile string // a NATS credentials file (JWT and NKey seed)
	CAFile    string // trust these roots for tls:// URLs
	// Stream is the stream that must hold the subjects; Send fails fast when it does not exist.
	Stream string
}

// NATS publishes to JetStream and waits for the stream's acknowledgement: a message is sent
// when the server has stored it. Each carries its privacy manifest in headers and a Nats-Msg-Id
// (the collector run's random id and a sequence number, not the content: two equal events are
// two events), so a retry after a lost acknowledgement is stored once.
type NATS struct {
	cfg NATSConfig
	nc  *nats.Conn
	js  jetstream.JetStream
	run string
	seq atomic.Uint64
}

// DialNATS connects. The connection reconnects on its own; Send retries while it does.
func DialNATS(ctx context.Context, cfg NATSConfig) (*NATS, error) {
	opts := []nats.Option{nats.Name("sectwin-edge " + cfg.Name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}
	if !cfg.Token.Empty() {
		opts = append(opts, nats.Token(string(cfg.Token.Bytes())))
	}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, string(cfg.Password.Bytes())))
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("nats output %s: CA file: %w", cfg.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("nats output %s: CA file %s holds no PEM certificate", cfg.Name, cfg.CAFile)
		}
		opts = append(opts, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats output %s: connect to %s: %w (is the URL right, and the token or credentials?)", cfg.Name, cfg.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats output %s: %w", cfg.Name, err)
	}
	if cfg.Stream != "" {
		if _, err := js.Stream(ctx, cfg.Stream); err != nil {
			nc.Close()
			return nil, fmt.Errorf("nats output %s: stream %s: %w (start sectwin serve, which creates it)", cfg.Name, cfg.Stream, err)
		}
	}
	var run [8]byte
	_, _ = rand.Read(run[:])
	return &NATS{cfg: cfg, nc: nc, js: js, run: hex.EncodeToString(run[:])}, nil
}

// Name implements Output.
func (n *NATS) Name() string { return n.cfg.Name }

// Conn is the output's connection, which secure-aggregation rounds share.
func (n *NATS) Conn() *nats.Conn { return n.nc }

// Send implements Output.
func (n *NATS) Send(ctx context.Context, m Message) error {
	msg := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: m.Manifest.Header()}
	if m.Link != nil {
		msg.Header.Set(audit.HeaderLinkLabel, m.Link[0])
		msg.Header.Set(audit.HeaderLinkKey, m.Link[1])
	}
	return n.publish(ctx, msg, n.nextID())
}

// nextID is the next Nats-Msg-Id of this run: the run's random id and a sequence number.
func (n *NATS) nextID() string { return fmt.Sprintf("%s-%d", n.run, n.seq.Add(1)) }

// publish sends msg with the message id, retrying transient failures until ctx ends.
func (n *NATS) publish(ctx context.Context, msg *nats.Msg, id string) error {
	backoff := 100 * time.Millisecond
	for {
		_, err := n.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
		if err == nil {
			return nil
		}
		if errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject) || errors.Is(err, nats.ErrConnectionClosed) {
			return fmt.Errorf("publish to %s: %w", msg.Subject, err)
		}
		// Anything else (no stream response while the server restarts, a reconnect, a timeout)
		// is retried: the Nats-Msg-Id keeps a retried message stored once.
		select {
		case <-ctx.Done():
			return fmt.Errorf("publish to %s: %w (gave up: %w)", msg.Subject, err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// Close implements Output: it drains the connection.
func (n *NATS) Close(context.Context) error {
	return n.nc.Drain()
}
