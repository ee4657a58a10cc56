// Package telemetryhook serves POST /telemetry: batches of telemetry events (ingest/telemetry's
// CloudEvents, as a JSON array or JSON lines, gzip accepted) from sensors and sites that do not
// speak NATS. Each good event is published to telemetry.<twin>.<kind> with its source and id as
// the JetStream message id, so a batch posted again is deduplicated; the answer lists every bad
// event with its index and reason.
//
// Docs: docs/telemetry.md.
package telemetryhook

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sectwin/sectwin/ingest/telemetry"
	"github.com/sectwin/sectwin/internal/auth"
)

// MaxBatch bounds the events of one post.
const MaxBatch = 10_000

// Publisher publishes one message to a NATS subject with a JetStream message id.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte, msgID string) error
}

// Handler serves the endpoint.
type Handler struct {
	Bus Publisher
}

// Routes mounts POST /telemetry; the router's middleware has authenticated the caller.
func (h *Handler) Routes(r chi.Router) { r.Post("/telemetry", h.post) }

// Answer is the endpoint's reply.
type Answer struct {
	Twin     string     `json:"twin"`
	Accepted int        `json:"accepted"`
	Rejected []Rejected `json:"rejected"`
}

// Rejected is one bad event of a batch.
type Rejected struct {
	Index int    `json:"index"`
	Error string `json:"error"`
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "send a bearer token with the ingest scope")
		return
	}
	if !p.Has(auth.ScopeIngest) {
		auth.WriteError(w, &auth.ScopeError{Need: auth.ScopeIngest})
		return
	}
	twin := r.URL.Query().Get("twin")
	if twin == "" && len(p.Twins) == 1 && p.Twins[0] != auth.AllTwins {
		twin = p.Twins[0]
	}
	if !auth.ValidTwinName(twin) {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "name the twin with ?twin=<name> (lower-case letters, digits, - and _)")
		return
	}
	if !p.CanSeeTwin(twin) {
		writeError(w, http.StatusForbidden, "FORBIDDEN", fmt.Sprintf("this token may not write twin %q", twin))
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "the body is not gzip: "+err.Error())
			return
		}
		defer zr.Close()
		body = zr
	}
	evs, bad, err := telemetry.DecodeBatchFor(twin, body, MaxBatch)
	switch {
	case errors.Is(err, telemetry.ErrBatchTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "TOO_LARGE", fmt.Sprintf("post at most %d events, each at most %d bytes", MaxBatch, telemetry.MaxEventBytes))
		return
	case err != nil && len(evs) == 0 && len(bad) == 0:
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "the body is neither a JSON array of events nor JSON lines: "+err.Error())
		return
	}
	ans := Answer{Twin: twin, Rejected: []Rejected{}}
	for _, b := range bad {
		ans.Rejected = append(ans.Rejected, Rejected{Index: b.Index, Error: b.Err.Error()})
	}
	for _, ev := range evs {
		data, err := telemetry.Encode(ev)
		if err == nil {
			err = h.Bus.Publish(r.Context(), telemetry.Subject(twin, ev.Kind), data, ev.Source+"/"+ev.ID)
		}
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", fmt.Sprintf("%d events published, then: %v; post the batch again (published events are deduplicated)", ans.Accepted, err))
			return
		}
		ans.Accepted++
	}
	status := http.StatusAccepted
	if ans.Accepted == 0 && len(ans.Rejected) > 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, ans)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
