// Package webhook is the HTTP face of ingest: CI pipelines POST documents to /ingest and read
// their jobs at /ingest/jobs/{id}.
package webhook

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/ingest/pipeline"
	"github.com/sectwin/sectwin/internal/auth"
)

// DefaultMaxBytes bounds a posted document, compressed or not.
const DefaultMaxBytes = 256 << 20

// MaxWait bounds ?wait=.
const MaxWait = 10 * time.Minute

// Handler serves the ingest endpoints.
type Handler struct {
	Pipeline *pipeline.Pipeline
	Parse    pipeline.Parser
	Graph    *graph.DB
	// HMACSecret enables signed posts; HMACTwins are the twins they may write ("*": any).
	HMACSecret []byte
	HMACTwins  []string
	MaxBytes   int64
	Policy     Policy
}

// Policy decides a CI gate's verdict.
type Policy struct {
	// MaxNewCritical new CRITICAL vulnerabilities are tolerated; one more fails.
	MaxNewCritical int
	// FailOnKEV fails on any new vulnerability in CISA's KEV catalogue.
	FailOnKEV bool
}

// Verdict is a policy decision on a finished job.
type Verdict struct {
	Result      string   `json:"result"` // PASS or FAIL
	Reasons     []string `json:"reasons"`
	NewCritical []string `json:"newCritical"`
	NewKEV      []string `json:"newKev"`
}

// Signed reports a request that authenticates with an HMAC signature instead of a token: the
// server lets it past the token check, and Post verifies it.
func Signed(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/ingest" && r.Header.Get(HeaderSignature) != ""
}

// Routes mounts the endpoints; r must authenticate (Signed requests may arrive anonymous).
func (h *Handler) Routes(r chi.Router) {
	r.Post("/ingest", h.post)
	r.Get("/ingest/jobs", h.list)
	r.Get("/ingest/jobs/{id}", h.get)
}

func (h *Handler) maxBytes() int64 {
	if h.MaxBytes > 0 {
		return h.MaxBytes
	}
	return DefaultMaxBytes
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, hasToken := auth.FromContext(r.Context())
	if hasToken && !p.Has(auth.ScopeIngest) {
		auth.WriteError(w, &auth.ScopeError{Need: auth.ScopeIngest})
		return
	}
	raw, body, err := h.readBody(w, r)
	if err != nil {
		return // answered
	}
	twin := q.Get("twin")
	if twin == "" && hasToken && len(p.Twins) == 1 && p.Twins[0] != auth.AllTwins {
		twin = p.Twins[0]
	}
	if !auth.ValidTwinName(twin) {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "name the twin with ?twin=<name> (lower-case letters, digits, - and _)", nil)
		return
	}
	createdBy := ""
	if hasToken {
		if !p.CanSeeTwin(twin) {
			writeError(w, http.StatusForbidden, "FORBIDDEN", fmt.Sprintf("this token may not write twin %q", twin), nil)
			return
		}
		createdBy = p.TokenID
	} else {
		if len(h.HMACSecret) == 0 {
			writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "signed posts are not enabled on this server; send a bearer token", nil)
			return
		}
		// The signature covers the bytes as sent, compressed or not.
		if err := Verify(h.HMACSecret, r.Header, raw, time.Now()); err != nil {
			writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED", err.Error(), nil)
			return
		}
		if !slices.Contains(h.HMACTwins, twin) && !slices.Contains(h.HMACTwins, auth.AllTwins) {
			writeError(w, http.StatusForbidden, "FORBIDDEN", fmt.Sprintf("signed posts may not write twin %q (see --ingest-hmac-twins)", twin), nil)
			return
		}
		createdBy = "hmac"
	}
	format := q.Get("format")
	if format == "" {
		if format, err = ingest.Detect(body); err != nil {
			h.documentError(w, err)
			return
		}
	}
	// Parse now, so a malformed document is a 400 with its location rather than a failed job,
	// and store the document meanwhile (Submit then finds it stored).
	stored := make(chan error, 1)
	go func() { stored <- h.Pipeline.Store(r.Context(), body) }()
	doc, err := h.Parse(format, body)
	storeErr := <-stored
	if err != nil {
		// The stored bytes stay: a concurrent post of them under another ?format= may need
		// them, and unclaimed documents expire with the bucket's TTL.
		h.documentError(w, err)
		return
	}
	if storeErr != nil {
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "the document store does not answer; retry shortly", nil)
		return
	}
	job, err := h.Pipeline.Submit(r.Context(), body, pipeline.Submission{
		Twin: twin, Format: format, Subject: q.Get("subject"), Replace: q.Get("replace") == "true",
		CreatedBy: createdBy, Declared: doc.Counts, Warnings: doc.Warnings, Parsed: doc,
	})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "the queue does not answer; retry shortly", nil)
		return
	}
	wait, err := waitParam(q.Get("wait"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", err.Error(), nil)
		return
	}
	if wait == 0 {
		writeJSON(w, http.StatusAccepted, map[string]any{"job": job, "links": map[string]string{"self": "/ingest/jobs/" + job.ID}})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	job, err = h.Pipeline.Jobs.Wait(ctx, job.ID)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "lost track of the job; read /ingest/jobs/"+job.ID, nil)
		return
	}
	out := map[string]any{"job": job, "links": map[string]string{"self": "/ingest/jobs/" + job.ID}}
	status := http.StatusAccepted
	if job.State.Final() {
		status = http.StatusOK
		if job.State == jobs.Done {
			v, err := h.verdict(r.Context(), job, doc)
			if err != nil {
				writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "the job is done but its verdict could not be computed; retry", nil)
				return
			}
			out["verdict"] = v
		} else {
			out["verdict"] = Verdict{Result: "FAIL", Reasons: []string{"the ingest job failed"}}
		}
	}
	writeJSON(w, status, out)
}

// readBody reads the body as sent and the document in it, gunzipped, within the size limit; on
// failure it answers.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (raw, doc []byte, err error) {
	limit := h.maxBytes()
	raw, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, "TOO_LARGE", fmt.Sprintf("the document is over %d bytes (--ingest-max-bytes)", limit), nil)
		return nil, nil, err
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "could not read the body: "+err.Error(), nil)
		return nil, nil, err
	}
	doc = raw
	if r.Header.Get("Content-Encoding") == "gzip" || bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "not gzip: "+err.Error(), nil)
			return nil, nil, err
		}
		body, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "corrupt gzip: "+err.Error(), nil)
			return nil, nil, err
		}
		if int64(len(body)) > limit {
			writeError(w, http.StatusRequestEntityTooLarge, "TOO_LARGE", fmt.Sprintf("the document is over %d bytes uncompressed (--ingest-max-bytes)", limit), nil)
			return nil, nil, errors.New("too large")
		}
		doc = body
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "the body is empty: post the document itself", nil)
		return nil, nil, errors.New("empty")
	}
	return raw, doc, nil
}

func (h *Handler) documentError(w http.ResponseWriter, err error) {
	var pe *ingest.ParseError
	switch {
	case errors.Is(err, ingest.ErrUnknownFormat):
		writeError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_FORMAT",
			"not a document sectwin reads: CycloneDX, SPDX, SARIF, Trivy, Grype, OSV, OpenVEX, CISA KEV or ATT&CK STIX JSON (or name it with ?format=)", nil)
	case errors.As(err, &pe):
		extra := map[string]any{"format": pe.Format}
		if pe.Line > 0 {
			extra["line"], extra["column"] = pe.Line, pe.Column
		}
		if pe.Path != "" {
			extra["path"] = pe.Path
		}
		writeError(w, http.StatusBadRequest, "BAD_DOCUMENT", pe.Error(), extra)
	default:
		writeError(w, http.StatusBadRequest, "BAD_DOCUMENT", err.Error(), nil)
	}
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		auth.WriteError(w, auth.ErrNoToken)
		return
	}
	if !p.Has(auth.ScopeRead) && !p.Has(auth.ScopeIngest) {
		auth.WriteError(w, &auth.ScopeError{Need: auth.ScopeIngest})
		return
	}
	job, err := h.Pipeline.Jobs.Get(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, jobs.ErrNotFound) || (err == nil && !p.CanSeeTwin(job.Twin)) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such ingest job visible to this token", nil)
		return
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "the job store does not answer; retry shortly", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"job": job})
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		auth.WriteError(w, auth.ErrNoToken)
		return
	}
	if !p.Has(auth.ScopeRead) && !p.Has(auth.ScopeIngest) {
		auth.WriteError(w, &auth.ScopeError{Need: auth.ScopeIngest})
		return
	}
	twins := p.Twins
	if t := r.URL.Query().Get("twin"); t != "" {
		if !p.CanSeeTwin(t) {
			writeJSON(w, http.StatusOK, map[string]any{"jobs": []jobs.Job{}})
			return
		}
		twins = []string{t}
	}
	list, err := h.Pipeline.Jobs.List(r.Context(), twins, p.SeesAllTwins() && r.URL.Query().Get("twin") == "", 100)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "the job store does not answer; retry shortly", nil)
		return
	}
	if list == nil {
		list = []jobs.Job{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": list})
}

// verdict applies the policy to the vulnerabilities the job made new to the twin: those that
// now affect a component they did not affect before (an AFFECTS edge first seen in this run), or
// that a finding of this document identifies (a SARIF rule's CVE) and this run brought in.
// Enrichment such as the KEV catalogue affects nothing and identifies nothing, so it is never new
// by itself; a vulnerability it brought is new once a later document makes it affect something.
func (h *Handler) verdict(ctx context.Context, job jobs.Job, doc *ingest.Document) (Verdict, error) {
	var ids []string
	for _, n := range doc.Batch.Nodes {
		if n.Label == graph.LabelVulnerability {
			ids = append(ids, n.Key)
		}
	}
	identified := map[string]bool{}
	for _, e := range doc.Batch.Edges {
		if e.Type == "IDENTIFIES" {
			identified[e.To.Key] = true
		}
	}
	v := Verdict{Result: "PASS", Reasons: []string{}, NewCritical: []string{}, NewKEV: []string{}}
	if len(ids) > 0 {
		found, err := h.Graph.Nodes(ctx, job.Twin, graph.LabelVulnerability, ids)
		if err != nil {
			return Verdict{}, err
		}
		affects, err := h.Graph.Neighbors(ctx, job.Twin, graph.LabelVulnerability, ids,
			[]graph.Hop{{Type: "AFFECTS", Label: graph.LabelComponent}}, graph.MaxPageSize)
		if err != nil {
			return Verdict{}, err
		}
		for _, id := range ids {
			vuln, ok := found[id].(*graph.Vulnerability)
			if !ok || !newToTwin(vuln, affects[id], identified[id], job.QueuedAt) {
				continue
			}
			if vuln.Severity == "CRITICAL" {
				v.NewCritical = append(v.NewCritical, id)
			}
			if vuln.KEV {
				v.NewKEV = append(v.NewKEV, id)
			}
		}
	}
	if len(v.NewCritical) > h.Policy.MaxNewCritical {
		v.Result = "FAIL"
		v.Reasons = append(v.Reasons, fmt.Sprintf("%d new critical vulnerabilities (at most %d allowed)", len(v.NewCritical), h.Policy.MaxNewCritical))
	}
	if h.Policy.FailOnKEV && len(v.NewKEV) > 0 {
		v.Result = "FAIL"
		v.Reasons = append(v.Reasons, fmt.Sprintf("%d new vulnerabilities known to be exploited (CISA KEV)", len(v.NewKEV)))
	}
	return v, nil
}

// newToTwin reports a vulnerability that this run made affect a component, or that this run
// brought in with a finding identifying it.
func newToTwin(v *graph.Vulnerability, affects []graph.Neighbor, identified bool, since time.Time) bool {
	if identified && !v.Provenance.FirstSeen.Before(since) {
		return true
	}
	for _, a := range affects {
		if first, ok := a.Edge["firstSeen"].(time.Time); ok && !first.Before(since) {
			return true
		}
	}
	return false
}

func waitParam(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if n, nerr := strconv.Atoi(s); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil || d < 0 || d > MaxWait {
		return 0, fmt.Errorf("wait=%q: give a duration up to %s, like wait=120s", s, MaxWait)
	}
	return d, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string, extra map[string]any) {
	e := map[string]any{"code": code, "message": msg}
	for k, v := range extra {
		e[k] = v
	}
	writeJSON(w, status, map[string]any{"error": e})
}
