package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sectwin/sectwin/ingest/jobs"
	"github.com/sectwin/sectwin/internal/testenv"
)

func open(t *testing.T) *jobs.Store {
	t.Helper()
	b := testenv.NATS(t)
	s, err := jobs.Open(t.Context(), b.JetStream())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCreateIsIdempotent(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	j, created, err := s.Create(ctx, jobs.Job{ID: "j1", Twin: "a", Format: "cyclonedx", Digest: "sha256:00"})
	if err != nil || !created || j.State != jobs.Queued || j.CreatedAt.IsZero() {
		t.Fatalf("create: %+v %v %v", j, created, err)
	}
	again, created, err := s.Create(ctx, jobs.Job{ID: "j1", Twin: "other"})
	if err != nil || created || again.Twin != "a" {
		t.Fatalf("second create: %+v %v %v, want the first job", again, created, err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("Get(nope) = %v", err)
	}
	for _, bad := range []string{"bad key with spaces", "a.b", strings.Repeat("x", 10000), "nul\x00"} {
		if _, err := s.Get(ctx, bad); !errors.Is(err, jobs.ErrNotFound) {
			t.Errorf("Get(%.20q) = %v", bad, err)
		}
	}
}

func TestConcurrentUpdatesAreNotLost(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	if _, _, err := s.Create(ctx, jobs.Job{ID: "j", Twin: "a"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := s.Update(ctx, "j", func(j *jobs.Job) { j.Attempts++ }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	j, _ := s.Get(ctx, "j")
	if j.Attempts != 20 {
		t.Errorf("attempts %d after 20 concurrent increments", j.Attempts)
	}
}

func TestWaitAndWatch(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	watch, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(ctx, jobs.Job{ID: "w", Twin: "a"}); err != nil {
		t.Fatal(err)
	}
	// A wait that times out returns the latest state.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	j, err := s.Wait(short, "w")
	cancel()
	if err != nil || j.State != jobs.Queued {
		t.Fatalf("timed-out wait: %+v %v", j, err)
	}
	go func() {
		for _, st := range []jobs.State{jobs.Parsing, jobs.Writing, jobs.Done} {
			time.Sleep(50 * time.Millisecond)
			if _, err := s.Update(context.Background(), "w", func(j *jobs.Job) { j.State = st }); err != nil {
				t.Error(err)
			}
		}
	}()
	j, err = s.Wait(ctx, "w")
	if err != nil || j.State != jobs.Done {
		t.Fatalf("wait: %+v %v", j, err)
	}
	var states []jobs.State
	for len(states) < 4 {
		select {
		case j := <-watch:
			states = append(states, j.State)
		case <-time.After(5 * time.Second):
			t.Fatalf("watch saw only %v", states)
		}
	}
	want := []jobs.State{jobs.Queued, jobs.Parsing, jobs.Writing, jobs.Done}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("watch saw %v, want %v", states, want)
		}
	}
	if _, err := s.Wait(ctx, "absent"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("wait for an absent job: %v", err)
	}
}

func TestListByTwin(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	if list, err := s.List(ctx, []string{"a"}, true, 10); err != nil || len(list) != 0 {
		t.Fatalf("list of an empty store: %v %v", list, err)
	}
	for i, twin := range []string{"a", "b", "a"} {
		if _, _, err := s.Create(ctx, jobs.Job{ID: string(rune('x' + i)), Twin: twin}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	list, err := s.List(ctx, []string{"a"}, false, 10)
	if err != nil || len(list) != 2 || list[0].ID != "z" || list[1].ID != "x" {
		t.Fatalf("list a: %+v %v", list, err)
	}
	all, _ := s.List(ctx, nil, true, 2)
	if len(all) != 2 {
		t.Errorf("list all, limit 2: %d", len(all))
	}
}
