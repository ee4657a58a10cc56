// Package pipeline carries posted documents into the graph: claim-check, queue, parse, write.
//
// Submit stores the document in a JetStream object store under its sha256, records a job and
// publishes a small request on sectwin.ingest.<twin> whose message id is the job id, so that
// posting the same bytes again within the INGEST stream's window is deduplicated. Workers
// (Handle, run by internal/bus's consumer loop) fetch the document, parse it, write it to the
// twin in one transaction and only then let the message be acknowledged. A scan (Trivy, Grype,
// SARIF, CycloneDX or SPDX) of a subject artifact is also recorded as a scan run
// (graph.RecordScanRun, collected when the worker processed it) before the job is DONE and the
// change is announced. A failure is retried with backoff and finally dead-lettered with the job
// marked FAILED; while Neo4j is down a worker waits for it rather than spending its retries.
package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/ingest/osv"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/internal/events"
)

// DocsBucket is the object store holding posted documents by sha256.
const DocsBucket = "INGEST_DOCS"

// Parser reads one document of a format (see ingest/formats).
type Parser func(format string, data []byte) (*ingest.Document, error)

// Announcer publishes a committed change.
type Announcer interface {
	Publish(ctx context.Context, c events.Change) error
}

// Pipeline submits and processes ingest jobs.
type Pipeline struct {
	Bus      *bus.Bus
	Jobs     *jobs.Store
	Docs     jetstream.ObjectStore
	Graph    *graph.DB
	Parse    Parser
	Announce Announcer // optional
	Log      zerolog.Logger
	// MaxDeliver must match the consumer's, so the last attempt can mark its job FAILED.
	MaxDeliver int

	// parsed keeps the documents this process parsed when they were posted, so that its own
	// workers need not parse them again. Workers elsewhere parse from the object store.
	parsed parsedCache
}

// parsedCache holds the last few parsed documents by format and digest.
type parsedCache struct {
	mu    sync.Mutex
	order []string
	docs  map[string]*ingest.Document
}

const parsedCacheSize = 4

func (c *parsedCache) put(key string, d *ingest.Document) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docs == nil {
		c.docs = map[string]*ingest.Document{}
	}
	if _, ok := c.docs[key]; !ok {
		c.order = append(c.order, key)
	}
	c.docs[key] = d
	for len(c.order) > parsedCacheSize {
		delete(c.docs, c.order[0])
		c.order = c.order[1:]
	}
}

// take returns and forgets a parsed document.
func (c *parsedCache) take(key string) *ingest.Document {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.docs[key]
	if d != nil {
		delete(c.docs, key)
		c.order = slices.DeleteFunc(c.order, func(k string) bool { return k == key })
	}
	return d
}

// OpenDocs creates or opens the documents bucket.
func OpenDocs(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, error) {
	os, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      DocsBucket,
		Description: "sectwin ingest documents by sha256 (claim-check)",
		Storage:     jetstream.FileStorage,
		TTL:         jobs.Retention,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s object store: %w", DocsBucket, err)
	}
	return os, nil
}

// Request is the message a worker receives: a claim on a stored document.
type Request struct {
	JobID   string `json:"jobId"`
	Twin    string `json:"twin"`
	Format  string `json:"format"`
	Digest  string `json:"digest"` // sha256:<hex>, the object's name
	Subject string `json:"subject,omitempty"`
	Replace bool   `json:"replace,omitempty"`
}

// Submission is what a client posts.
type Submission struct {
	Twin, Format, Subject string
	Replace               bool
	CreatedBy             string
	Declared              ingest.Counts
	Warnings              []ingest.Warning
	// Parsed is the document already parsed, if the caller did; a worker of this process
	// then skips parsing it again.
	Parsed *ingest.Document
}

// Subject of the requests for a twin.
func Subject(twin string) string { return bus.SubjectIngest + "." + twin }

// JobID is deterministic: the same document posted to the same twin with the same options is
// the same job.
func JobID(twin, digest, subject string, replace bool) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%t", twin, digest, subject, replace)))
	return "j" + hex.EncodeToString(h[:12])
}

// Digest is a document's content address.
func Digest(data []byte) string {
	h := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(h[:])
}

// Submit stores the document, records its job and queues it. A document already submitted
// returns its existing job; a finished one is queued again (ingest is idempotent).
func (p *Pipeline) Submit(ctx context.Context, data []byte, s Submission) (jobs.Job, error) {
	digest := Digest(data)
	id := JobID(s.Twin, digest, s.Subject, s.Replace)
	if s.Parsed != nil {
		p.parsed.put(s.Format+":"+digest, s.Parsed)
	}
	if err := p.Store(ctx, data); err != nil {
		return jobs.Job{}, err
	}
	job, created, err := p.Jobs.Create(ctx, jobs.Job{
		ID: id, Twin: s.Twin, Format: s.Format, Digest: digest, Size: int64(len(data)), Subject: s.Subject,
		Replace: s.Replace, CreatedBy: s.CreatedBy, Declared: s.Declared, Warnings: s.Warnings,
	})
	if err != nil {
		return jobs.Job{}, err
	}
	if !created && !job.State.Final() {
		return job, nil // queued or running already
	}
	if !created {
		if job, err = p.Jobs.Update(ctx, id, func(j *jobs.Job) {
			j.State, j.Errors, j.Written, j.Attempts, j.QueuedAt = jobs.Queued, nil, jobs.Written{}, 0, time.Now().UTC()
		}); err != nil {
			return jobs.Job{}, err
		}
	}
	req, _ := json.Marshal(Request{JobID: id, Twin: s.Twin, Format: s.Format, Digest: digest, Subject: s.Subject, Replace: s.Replace})
	// A re-run of a finished job needs a message id of its own, or the stream would drop it as a
	// duplicate of the first run within its window.
	msgID := id
	if !created {
		msgID = fmt.Sprintf("%s-%d", id, job.UpdatedAt.UnixNano())
	}
	if err := p.Bus.Publish(ctx, Subject(s.Twin), req, msgID); err != nil {
		return jobs.Job{}, err
	}
	return job, nil
}

// Store puts a document in the object store under its digest, unless it is there already.
// Submit calls it; a caller may call it earlier, alongside parsing, to save time.
func (p *Pipeline) Store(ctx context.Context, data []byte) error {
	digest := Digest(data)
	if _, err := p.Docs.GetInfo(ctx, digest); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("look up document: %w", err)
	}
	if _, err := p.Docs.Put(ctx, jetstream.ObjectMeta{Name: digest}, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("store document: %w", err)
	}
	return nil
}

// Handle processes one request; the bus acknowledges the message only when it returns nil.
func (p *Pipeline) Handle(ctx context.Context, msg jetstream.Msg) error {
	var req Request
	if err := json.Unmarshal(msg.Data(), &req); err != nil || req.JobID == "" {
		return fmt.Errorf("%w: undecodable ingest request: %v", bus.ErrPermanent, err)
	}
	log := p.Log.With().Str("job", req.JobID).Str("twin", req.Twin).Str("format", req.Format).Logger()
	last := false
	if md, err := msg.Metadata(); err == nil && p.MaxDeliver > 0 {
		last = md.NumDelivered >= uint64(p.MaxDeliver)
	}
	err := p.process(ctx, req, log)
	if err == nil {
		return nil
	}
	if errors.Is(err, bus.ErrPermanent) || last {
		if _, uerr := p.Jobs.Update(context.WithoutCancel(ctx), req.JobID, func(j *jobs.Job) {
			j.State = jobs.Failed
			j.Errors = append(j.Errors, problemOf(err))
		}); uerr != nil {
			log.Error().Err(uerr).Msg("could not mark the job FAILED")
		}
		log.Warn().Err(err).Msg("ingest failed; dead-lettered")
	} else {
		log.Warn().Err(err).Msg("ingest attempt failed; will retry")
	}
	return err
}

func (p *Pipeline) process(ctx context.Context, req Request, log zerolog.Logger) error {
	if _, err := p.Jobs.Update(ctx, req.JobID, func(j *jobs.Job) { j.State, j.Attempts = jobs.Parsing, j.Attempts+1 }); err != nil {
		if errors.Is(err, jobs.ErrNotFound) {
			return fmt.Errorf("%w: job %s has expired", bus.ErrPermanent, req.JobID)
		}
		return err
	}
	var err error
	doc := p.parsed.take(req.Format + ":" + req.Digest)
	if doc == nil {
		data, err := p.document(ctx, req.Digest)
		if err != nil {
			return err
		}
		if doc, err = p.Parse(req.Format, data); err != nil {
			return fmt.Errorf("%w: %w", bus.ErrPermanent, err)
		}
	}
	batch, subjectKey := Assemble(doc, req.Subject)
	if req.Format == ingest.FormatOSV {
		// An advisory names packages and version ranges; it affects the twin's components
		// whose versions fall in them.
		edges, err := p.matchAdvisory(ctx, req.Twin, req.Digest)
		if err != nil {
			return err
		}
		batch.Edges = append(slicesClone(batch.Edges), edges...)
	}
	source := req.Format + ":" + req.Digest
	opt := graph.WriteOptions{Source: source}
	if _, err := p.Jobs.Update(ctx, req.JobID, func(j *jobs.Job) {
		j.State, j.Declared, j.Warnings = jobs.Writing, doc.Counts, doc.Warnings
	}); err != nil {
		return err
	}
	var res graph.WriteResult
	for {
		err = p.ensureTwin(ctx, req.Twin)
		if err != nil && !unavailable(err) {
			return err
		}
		if req.Replace && subjectKey != "" {
			if opt.Supersede, err = p.earlier(ctx, req.Twin, subjectKey, req.Format, source); err != nil && !unavailable(err) {
				return err
			}
		}
		if err == nil {
			res, err = p.Graph.Write(ctx, req.Twin, batch, opt)
		}
		if err == nil {
			break
		}
		if !unavailable(err) {
			var ve *graph.ValidationError
			var me *graph.MissingNodesError
			if errors.As(err, &ve) || errors.As(err, &me) {
				return fmt.Errorf("%w: %w", bus.ErrPermanent, err)
			}
			return err
		}
		// Neo4j is down: wait for it here, where the bus keeps the message in progress,
		// instead of spending retries that end in the dead-letter queue.
		log.Warn().Err(err).Msg("neo4j unavailable; the job waits for it")
		if werr := p.Graph.WaitReady(ctx, log); werr != nil {
			return werr
		}
	}
	if run, ok := scanRun(req.Format, doc, subjectKey, source, time.Now()); ok {
		if err := p.recordScanRun(ctx, req.Twin, run, log); err != nil {
			return err
		}
	}
	if _, err := p.Jobs.Update(ctx, req.JobID, func(j *jobs.Job) {
		j.State = jobs.Done
		j.Written = jobs.Written{NodesCreated: res.NodesCreated, NodesUpdated: res.NodesUpdated, NodesDeleted: res.NodesDeleted,
			EdgesCreated: res.EdgesCreated, EdgesUpdated: res.EdgesUpdated, EdgesDeleted: res.EdgesDeleted}
	}); err != nil {
		// The write committed; a retry rewrites the same rows idempotently and records DONE.
		return err
	}
	if p.Announce != nil {
		if err := p.Announce.Publish(ctx, events.FromWrite(req.Twin, events.OpUpsert, source, res)); err != nil {
			log.Warn().Err(err).Msg("change event not published")
		}
	}
	log.Info().Int("nodes_created", res.NodesCreated).Int("edges_created", res.EdgesCreated).Msg("ingest done")
	return nil
}

// scanFormats are the formats whose documents are scans of their subject: ingesting one about
// an artifact records a scan run, the evidence of scan_fresh, no_open_vulns and sarif_clean.
var scanFormats = []string{ingest.FormatTrivy, ingest.FormatGrype, ingest.FormatSARIF, ingest.FormatCycloneDX, ingest.FormatSPDX}

// scanRun is the scan run a document written as source records: for a scan format with a
// subject artifact, collected at now.
func scanRun(format string, doc *ingest.Document, subjectKey, source string, now time.Time) (graph.ScanRunRecord, bool) {
	if subjectKey == "" || !slices.Contains(scanFormats, format) {
		return graph.ScanRunRecord{}, false
	}
	return graph.ScanRunRecord{Format: format, Tool: doc.Tool, Artifact: subjectKey, Source: source,
		Collected: now.UTC(), KnowledgeAsOf: doc.KnowledgeAsOf}, true
}

// recordScanRun records a scan run after the write of its document, waiting for Neo4j as the
// write does. Any other failure is returned, and the message retried: the write before it is
// idempotent, and so is the record.
func (p *Pipeline) recordScanRun(ctx context.Context, twin string, run graph.ScanRunRecord, log zerolog.Logger) error {
	for {
		err := p.Graph.RecordScanRun(ctx, twin, run)
		if err == nil || !unavailable(err) {
			return err
		}
		log.Warn().Err(err).Msg("neo4j unavailable; the job waits for it")
		if werr := p.Graph.WaitReady(ctx, log); werr != nil {
			return werr
		}
	}
}

// matchAdvisory turns an OSV record's affected packages into AFFECTS edges to the twin's
// components of those packages whose version is affected.
func (p *Pipeline) matchAdvisory(ctx context.Context, twin, digest string) ([]graph.EdgeRow, error) {
	data, err := p.document(ctx, digest)
	if err != nil {
		return nil, err
	}
	_, affected, err := osv.Advisory(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", bus.ErrPermanent, err)
	}
	var edges []graph.EdgeRow
	seen := map[string]bool{}
	for _, a := range affected {
		if a.Purl == "" || a.VulnerabilityID == "" {
			continue
		}
		base, _, _ := strings.Cut(a.Purl, "?")
		after := ""
		for range 100 { // at most 50 000 components of one package
			page, err := p.Graph.Page(ctx, graph.PageQuery{Twin: twin, Label: graph.LabelComponent, First: graph.MaxPageSize, After: after,
				Conds: []graph.Cond{{Prop: "purl", Op: graph.OpPrefix, Value: base + "@"}}, Props: []string{"version"}})
			if err != nil {
				return nil, err
			}
			for _, n := range page.Nodes {
				c := n.(*graph.Component)
				hit, fixed, ok := osv.Affects(a, c.Purl, c.Version)
				if !ok || !hit || seen[a.VulnerabilityID+"\x00"+c.Purl] {
					continue
				}
				seen[a.VulnerabilityID+"\x00"+c.Purl] = true
				props := map[string]any{"status": "affected"}
				if fixed != "" {
					props["fixedVersion"] = fixed
					props["versionRange"] = "<" + fixed
				}
				edges = append(edges, graph.EdgeRow{Type: "AFFECTS", Props: props,
					From: graph.NodeRef{Label: graph.LabelVulnerability, Key: a.VulnerabilityID},
					To:   graph.NodeRef{Label: graph.LabelComponent, Key: c.Purl}})
			}
			if !page.HasNextPage {
				break
			}
			after = page.Cursors[len(page.Cursors)-1]
		}
	}
	return edges, nil
}

func unavailable(err error) bool {
	return errors.Is(err, graph.ErrUnavailable) || isConnErr(err)
}

// isConnErr recognises driver errors for a database that does not answer.
func isConnErr(err error) bool {
	s := err.Error()
	return strings.Contains(s, "ConnectivityError") || strings.Contains(s, "connection refused") ||
		strings.Contains(s, "no such host") || strings.Contains(s, "i/o timeout")
}

func (p *Pipeline) document(ctx context.Context, digest string) ([]byte, error) {
	r, err := p.Docs.Get(ctx, digest)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: document %s is gone from the store", bus.ErrPermanent, digest)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch document %s: %w", digest, err)
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (p *Pipeline) ensureTwin(ctx context.Context, twin string) error {
	_, _, err := graph.Twins{DB: p.Graph}.Ensure(ctx, twin, "")
	return err
}

// earlier lists the sources of earlier documents of the same format for the subject: the ones a
// replacing document supersedes.
func (p *Pipeline) earlier(ctx context.Context, twin, subjectKey, format, current string) ([]string, error) {
	nodes, err := p.Graph.Nodes(ctx, twin, graph.LabelArtifact, []string{subjectKey})
	if err != nil {
		return nil, err
	}
	a, ok := nodes[subjectKey].(*graph.Artifact)
	if !ok {
		return nil, nil
	}
	var out []string
	for _, s := range a.Provenance.Sources {
		if strings.HasPrefix(s, format+":") && s != current {
			out = append(out, s)
		}
	}
	return out, nil
}

func problemOf(err error) jobs.Problem {
	var pe *ingest.ParseError
	if errors.As(err, &pe) {
		loc := pe.Path
		if pe.Line > 0 {
			loc = fmt.Sprintf("line %d, column %d", pe.Line, pe.Column)
		}
		return jobs.Problem{Location: loc, Message: pe.Msg}
	}
	msg := strings.TrimPrefix(err.Error(), bus.ErrPermanent.Error()+": ")
	return jobs.Problem{Message: msg}
}

// Assemble adds the subject to a document's batch: an Artifact that CONTAINS every component
// and that every finding was FOUND_IN. subject (an artifact name or digest from the poster)
// overrides the document's own. It returns the artifact's key, or "" when there is no subject.
func Assemble(doc *ingest.Document, subject string) (graph.Batch, string) {
	b := doc.Batch
	key, props := subjectOf(doc.Subject, subject)
	if key == "" {
		return b, ""
	}
	b.Nodes = append(slicesClone(b.Nodes), graph.NodeRow{Label: graph.LabelArtifact, Key: key, Props: props})
	b.Edges = slicesClone(b.Edges)
	for _, purl := range doc.Components {
		b.Edges = append(b.Edges, graph.EdgeRow{Type: "CONTAINS", From: graph.NodeRef{Label: graph.LabelArtifact, Key: key}, To: graph.NodeRef{Label: graph.LabelComponent, Key: purl}})
	}
	for _, n := range doc.Batch.Nodes {
		if n.Label == graph.LabelFinding {
			b.Edges = append(b.Edges, graph.EdgeRow{Type: "FOUND_IN", From: graph.NodeRef{Label: graph.LabelFinding, Key: n.Key}, To: graph.NodeRef{Label: graph.LabelArtifact, Key: key}})
		}
	}
	return b, key
}

// subjectOf picks the artifact key: a digest when one is known, else the name (and version).
func subjectOf(s *ingest.Subject, override string) (string, map[string]any) {
	props := map[string]any{}
	if override != "" {
		if strings.HasPrefix(override, "sha256:") || strings.HasPrefix(override, "sha512:") {
			return override, props
		}
		props["name"] = override
		if s != nil && s.Digest != "" {
			return s.Digest, props
		}
		return override, props
	}
	if s == nil || (s.Digest == "" && s.Name == "") {
		return "", nil
	}
	if s.Name != "" {
		props["name"] = s.Name
	}
	if s.Type != "" {
		props["type"] = s.Type
	}
	if s.Digest != "" {
		return s.Digest, props
	}
	key := s.Name
	if s.Version != "" {
		key += "@" + s.Version
	}
	return key, props
}

func slicesClone[T any](s []T) []T { return append([]T(nil), s...) }
