package input

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sectwin/sectwin/edge/secret"
)

// HTTP receives records as newline-separated lines in POST bodies, authenticated by a bearer
// token (GET /healthz answers without one). Each line is emitted before the request is answered, so a 202 means the collector has
// taken every line (it may still dead-letter some).
type HTTP struct {
	InputName string
	Addr      string       // listen address, such as 127.0.0.1:9400
	Path      string       // request path; empty means /ingest
	Token     secret.Value // the bearer token every request must carry
	MaxBytes  int          // per record; 0 means DefaultMaxRecordBytes
	// MaxBody bounds one request body; 0 means 64 MiB.
	MaxBody int64
	// Ready, when set, receives the bound address once the listener is up (tests use port 0).
	Ready func(addr string)
}

// Name implements Input.
func (h *HTTP) Name() string { return h.InputName }

// Run implements Input: it serves until ctx ends.
func (h *HTTP) Run(ctx context.Context, emit Emit) error {
	if h.Token.Empty() {
		return fmt.Errorf("http input %s: a token is required", h.InputName)
	}
	ln, err := net.Listen("tcp", h.Addr)
	if err != nil {
		return fmt.Errorf("http input %s: %w", h.InputName, err)
	}
	if h.Ready != nil {
		h.Ready(ln.Addr().String())
	}
	srv := &http.Server{Handler: h.Handler(emit), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http input %s: %w", h.InputName, err)
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		return ctx.Err()
	}
}

// Handler is the input's HTTP handler.
func (h *HTTP) Handler(emit Emit) http.Handler {
	path := h.Path
	if path == "" {
		path = "/ingest"
	}
	maxBody := h.MaxBody
	if maxBody <= 0 {
		maxBody = 64 << 20
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply := func(code int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(v)
		}
		fail := func(code int, msg string) { reply(code, map[string]string{"error": msg}) }
		if r.URL.Path == "/healthz" {
			reply(http.StatusOK, map[string]string{"status": "ok"})
			return
		}
		if r.URL.Path != path {
			fail(http.StatusNotFound, "no such endpoint; POST newline-separated records to "+path)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			fail(http.StatusMethodNotAllowed, "use POST")
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !h.Token.Equal([]byte(token)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sectwin-edge"`)
			fail(http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		body := http.MaxBytesReader(w, r.Body, maxBody)
		n, tooLarge := 0, 0
		_, err := lines(r.Context(), bufio.NewReaderSize(body, 64<<10), limitOr(h.MaxBytes), nil, true, func(data []byte, err error) error {
			n++
			if err != nil {
				tooLarge++
			}
			return emit(r.Context(), Record{Input: h.InputName, Topic: path, Data: data, Err: err})
		})
		var big *http.MaxBytesError
		switch {
		case errors.As(err, &big):
			fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes; the first %d records were taken", maxBody, n))
		case err != nil:
			fail(http.StatusServiceUnavailable, "the collector is stopping; retry")
		default:
			reply(http.StatusAccepted, map[string]int{"records": n, "tooLarge": tooLarge})
		}
	})
}
