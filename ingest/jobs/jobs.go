// Package jobs records ingest jobs in a NATS JetStream key-value bucket, so that every replica
// sees every job, a post is accepted while Neo4j is down, and clients can wait for a job or
// watch all of them.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sectwin/sectwin/ingest"
)

// State is where a job is.
type State string

// Job states, in order. DONE and FAILED are final.
const (
	Queued  State = "QUEUED"
	Parsing State = "PARSING"
	Writing State = "WRITING"
	Done    State = "DONE"
	Failed  State = "FAILED"
)

// Final reports a state a job does not leave.
func (s State) Final() bool { return s == Done || s == Failed }

// Written counts what a job changed in the graph.
type Written struct {
	NodesCreated int `json:"nodesCreated"`
	NodesUpdated int `json:"nodesUpdated"`
	NodesDeleted int `json:"nodesDeleted"`
	EdgesCreated int `json:"edgesCreated"`
	EdgesUpdated int `json:"edgesUpdated"`
	EdgesDeleted int `json:"edgesDeleted"`
}

// Problem is an error with where it is in the document.
type Problem struct {
	Location string `json:"location,omitempty"` // "line 3, column 5", a JSON path…
	Message  string `json:"message"`
}

// Job is one posted document on its way into the graph.
type Job struct {
	ID        string           `json:"id"`
	Twin      string           `json:"twin"`
	Format    string           `json:"format"`
	Digest    string           `json:"digest"` // sha256:<hex> of the document
	Size      int64            `json:"size"`
	Subject   string           `json:"subject,omitempty"`
	Replace   bool             `json:"replace,omitempty"`
	State     State            `json:"state"`
	Attempts  int              `json:"attempts"`
	Declared  ingest.Counts    `json:"declared"` // what the document says it holds
	Written   Written          `json:"written"`
	Errors    []Problem        `json:"errors,omitempty"`
	Warnings  []ingest.Warning `json:"warnings,omitempty"`
	CreatedBy string           `json:"createdBy,omitempty"` // token id or "hmac"
	CreatedAt time.Time        `json:"createdAt"`
	QueuedAt  time.Time        `json:"queuedAt"` // the latest (re)submission`
	UpdatedAt time.Time        `json:"updatedAt"`
}

// Bucket is the key-value bucket holding jobs.
const Bucket = "INGEST_JOBS"

// Retention is how long a job stays readable after its last update.
const Retention = 30 * 24 * time.Hour

// ErrNotFound means no job has this id.
var ErrNotFound = errors.New("no such ingest job")

// Store reads and writes jobs.
type Store struct{ kv jetstream.KeyValue }

// Open creates or opens the jobs bucket.
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "sectwin ingest jobs",
		History:     1,
		TTL:         Retention,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s bucket: %w", Bucket, err)
	}
	return &Store{kv: kv}, nil
}

// Create stores a new job. When one with this id exists it is returned instead, with created
// false: posting the same document again finds its job.
func (s *Store) Create(ctx context.Context, j Job) (Job, bool, error) {
	now := time.Now().UTC()
	j.CreatedAt, j.UpdatedAt, j.QueuedAt = now, now, now
	if j.State == "" {
		j.State = Queued
	}
	data, err := json.Marshal(j)
	if err != nil {
		return Job{}, false, err
	}
	if _, err := s.kv.Create(ctx, j.ID, data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			old, err := s.Get(ctx, j.ID)
			return old, false, err
		}
		return Job{}, false, fmt.Errorf("create job %s: %w", j.ID, err)
	}
	return j, true, nil
}

// Get returns a job.
func (s *Store) Get(ctx context.Context, id string) (Job, error) {
	if !validID(id) {
		return Job{}, ErrNotFound
	}
	e, err := s.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("get job %s: %w", id, err)
	}
	var j Job
	if err := json.Unmarshal(e.Value(), &j); err != nil {
		return Job{}, fmt.Errorf("decode job %s: %w", id, err)
	}
	return j, nil
}

// Update changes a job with fn, retrying when another writer got there first.
func (s *Store) Update(ctx context.Context, id string, fn func(*Job)) (Job, error) {
	for {
		e, err := s.kv.Get(ctx, id)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return Job{}, ErrNotFound
		}
		if err != nil {
			return Job{}, fmt.Errorf("get job %s: %w", id, err)
		}
		var j Job
		if err := json.Unmarshal(e.Value(), &j); err != nil {
			return Job{}, fmt.Errorf("decode job %s: %w", id, err)
		}
		fn(&j)
		j.UpdatedAt = time.Now().UTC()
		data, err := json.Marshal(j)
		if err != nil {
			return Job{}, err
		}
		if _, err := s.kv.Update(ctx, id, data, e.Revision()); err == nil {
			return j, nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			// ErrKeyExists is how a revision mismatch is reported: someone else updated it.
			return Job{}, fmt.Errorf("update job %s: %w", id, err)
		}
	}
}

// Wait returns the job once it is final, or its latest state when ctx ends first.
func (s *Store) Wait(ctx context.Context, id string) (Job, error) {
	w, err := s.kv.Watch(ctx, id)
	if err != nil {
		return Job{}, fmt.Errorf("watch job %s: %w", id, err)
	}
	defer w.Stop()
	var last Job
	seen := false
	for {
		select {
		case <-ctx.Done():
			if !seen {
				return s.Get(context.WithoutCancel(ctx), id)
			}
			return last, nil
		case e := <-w.Updates():
			if e == nil { // the initial values have been delivered
				if !seen {
					// A watch on a loaded server may mark the end of its initial values before
					// the key's value arrives: ask directly before calling the job absent.
					j, err := s.Get(ctx, id)
					if err != nil {
						return Job{}, err
					}
					if j.State.Final() {
						return j, nil
					}
					last, seen = j, true
				}
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				continue
			}
			if err := json.Unmarshal(e.Value(), &last); err != nil {
				return Job{}, fmt.Errorf("decode job %s: %w", id, err)
			}
			seen = true
			if last.State.Final() {
				return last, nil
			}
		}
	}
}

// Watch delivers every job update from now on until ctx ends.
func (s *Store) Watch(ctx context.Context) (<-chan Job, error) {
	w, err := s.kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return nil, fmt.Errorf("watch jobs: %w", err)
	}
	out := make(chan Job, 64)
	go func() {
		defer close(out)
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil || e.Operation() != jetstream.KeyValuePut {
					continue
				}
				var j Job
				if json.Unmarshal(e.Value(), &j) != nil {
					continue
				}
				select {
				case out <- j:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// List returns the jobs of these twins (every twin when all), newest first, at most limit.
func (s *Store) List(ctx context.Context, twins []string, all bool, limit int) ([]Job, error) {
	keys, err := s.kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return []Job{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	want := map[string]bool{}
	for _, t := range twins {
		want[t] = true
	}
	var out []Job
	for k := range keys.Keys() {
		j, err := s.Get(ctx, k)
		if err != nil {
			continue // expired between listing and reading
		}
		if all || want[j.Twin] {
			out = append(out, j)
		}
	}
	sortNewestFirst(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// validID accepts what a key-value key may be, and short: anything else names no job.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}
