package resolvers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/testenv"
)

const twinChangedSub = `subscription($t: String!) { twinChanged(twin: $t) {
  twin op source at nodesCreated nodesUpdated nodesDeleted edgesCreated edgesUpdated edgesDeleted truncated nodes { id type key } } }`

type changeEvent struct {
	Twin, Op, Source, At                     string
	NodesCreated, NodesUpdated, NodesDeleted int
	EdgesCreated, EdgesUpdated, EdgesDeleted int
	Truncated                                bool
	Nodes                                    []struct{ ID, Type, Key string }
}

func (e changeEvent) keys() []string {
	var out []string
	for _, n := range e.Nodes {
		out = append(out, n.Type+" "+n.Key)
	}
	return out
}

// warmup marks the events of the writes that wait for subscriptions to be live.
const warmup = "pkg:generic/warmup-"

func (e changeEvent) isWarmup() bool {
	for _, n := range e.Nodes {
		if !strings.HasPrefix(n.Key, warmup) {
			return false
		}
	}
	return len(e.Nodes) > 0
}

// eventStream reads one twinChanged subscription in the background.
type eventStream struct {
	name   string
	events chan changeEvent
	errs   chan error
}

func subscribeChanges(t *testing.T, api *apitest.API, name, token, twin string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := api.Subscribe(ctx, token, twinChangedSub, map[string]any{"t": twin})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &eventStream{name: name, events: make(chan changeEvent, 100), errs: make(chan error, 1)}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); sub.Close(); <-done })
	go func() {
		defer close(done)
		for {
			r, err := sub.Next(ctx)
			if err == nil && r.Errors != nil {
				err = fmt.Errorf("subscription error: %+v", r.Errors)
			}
			var out struct{ TwinChanged changeEvent }
			if err == nil {
				err = r.Decode(&out)
			}
			if err != nil {
				s.errs <- err
				return
			}
			s.events <- out.TwinChanged
		}
	}()
	return s
}

// next returns the next event that is not a warm-up's, failing after timeout.
func (s *eventStream) next(t *testing.T, timeout time.Duration) changeEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-s.events:
			if !e.isWarmup() {
				return e
			}
		case err := <-s.errs:
			t.Fatalf("%s: %v", s.name, err)
		case <-deadline:
			t.Fatalf("%s: no event within %s", s.name, timeout)
		}
	}
}

// none fails if an event other than a warm-up's arrives within d.
func (s *eventStream) none(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e := <-s.events:
			if !e.isWarmup() {
				t.Fatalf("%s: unexpected event %+v", s.name, e)
			}
		case err := <-s.errs:
			t.Fatalf("%s: %v", s.name, err)
		case <-deadline:
			return
		}
	}
}

// waitLive writes warm-up components through api until every stream has delivered one: a
// subscription starts listening some time after the subscribe message is sent.
func waitLive(t *testing.T, api *apitest.API, token, twin string, streams ...*eventStream) {
	t.Helper()
	live := make([]bool, len(streams))
	for i := 0; i < 100 && slices.Contains(live, false); i++ {
		api.MustData(t, token, `mutation($t: String!, $p: String!) { upsertComponents(twin: $t, input: [{purl: $p}]) { nodesCreated } }`,
			map[string]any{"t": twin, "p": fmt.Sprintf("%s%d", warmup, i)}, nil)
		deadline := time.After(200 * time.Millisecond)
	wait:
		for j, s := range streams {
			for !live[j] {
				select {
				case e := <-s.events:
					if !e.isWarmup() {
						t.Fatalf("%s: unexpected event while warming up: %+v", s.name, e)
					}
					live[j] = true
				case err := <-s.errs:
					t.Fatalf("%s: %v", s.name, err)
				case <-deadline:
					break wait
				}
			}
		}
	}
	if slices.Contains(live, false) {
		t.Fatalf("subscriptions never delivered a warm-up event: %v", live)
	}
}

func TestTwinChangedAcrossReplicas(t *testing.T) {
	db := testenv.Migrated(t)
	nats := testenv.NATS(t) // one NATS, two replicas on it
	replica1 := apitest.Start(t, db, nats, apitest.Options{Log: testenv.Logger(t)})
	replica2 := apitest.Start(t, db, nats, apitest.Options{Log: testenv.Logger(t)})
	twin, grantee := testenv.Twin(t, db), testenv.Twin(t, db)

	admin := replica1.MustToken(t, []auth.Scope{auth.ScopeAdmin}, "*")
	writer := replica1.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, twin)
	reader := replica2.MustToken(t, []auth.Scope{auth.ScopeRead}, twin)
	sharedReader := replica2.MustToken(t, []auth.Scope{auth.ScopeRead}, grantee)
	replica1.MustData(t, admin, `mutation($t: String!, $g: String!) { t: createTwin(input: {name: $t}) { name } g: createTwin(input: {name: $g}) { name } }`,
		map[string]any{"t": twin, "g": grantee}, nil)
	replica1.MustData(t, writer, `mutation($t: String!, $g: String!) { grantTwin(input: {owner: $t, grantee: $g, subgraphs: ["components"]}) { owner } }`,
		map[string]any{"t": twin, "g": grantee}, nil)
	var viewer struct{ Viewer struct{ TokenID string } }
	replica1.MustData(t, writer, `{ viewer { tokenId } }`, nil, &viewer)
	source := "graphql:" + viewer.Viewer.TokenID

	full := subscribeChanges(t, replica2, "full reader on replica 2", reader, twin)
	shared := subscribeChanges(t, replica2, "shared reader on replica 2", sharedReader, twin)
	waitLive(t, replica1, writer, twin, full, shared)

	purls := []string{"pkg:npm/left-pad@1.3.0", "pkg:npm/lodash@4.17.21"}
	wantKeys := []string{"Component " + purls[0], "Component " + purls[1]}
	replica1.MustData(t, writer, `mutation($t: String!, $a: String!, $b: String!) { upsertComponents(twin: $t, input: [{purl: $a, name: "left-pad"}, {purl: $b}]) { nodesCreated } }`,
		map[string]any{"t": twin, "a": purls[0], "b": purls[1]}, nil)

	t.Run("full access", func(t *testing.T) {
		e := full.next(t, 10*time.Second)
		if e.Twin != twin || e.Op != "UPSERT" || e.Source != source || e.NodesCreated != 2 || e.NodesUpdated != 0 || e.EdgesCreated != 0 || e.Truncated {
			t.Errorf("event %+v, want UPSERT by %s creating 2 nodes in %s", e, source, twin)
		}
		if at, err := time.Parse(time.RFC3339Nano, e.At); err != nil || time.Since(at) > time.Minute {
			t.Errorf("at %q: %v", e.At, err)
		}
		if got := e.keys(); !slices.Equal(slices.Sorted(slices.Values(got)), wantKeys) {
			t.Fatalf("nodes %v, want %v", got, wantKeys)
		}
		for _, n := range e.Nodes {
			if n.ID != graph.ID(graph.LabelComponent, twin, n.Key) {
				t.Errorf("id %s of %s", n.ID, n.Key)
			}
		}
		var out struct{ Node struct{ Purl, Twin string } }
		replica2.MustData(t, reader, `query($id: ID!) { node(id: $id) { ... on Component { purl twin } } }`, map[string]any{"id": e.Nodes[0].ID}, &out)
		if out.Node.Purl != e.Nodes[0].Key || out.Node.Twin != twin {
			t.Errorf("node(%s) on replica 2 = %+v, want %s", e.Nodes[0].ID, out.Node, e.Nodes[0].Key)
		}
	})

	t.Run("shared access sees shared nodes only, without counts", func(t *testing.T) {
		e := shared.next(t, 10*time.Second)
		if e.Twin != twin || e.Op != "UPSERT" || e.Source != source {
			t.Errorf("event %+v", e)
		}
		if e.NodesCreated+e.NodesUpdated+e.NodesDeleted+e.EdgesCreated+e.EdgesUpdated+e.EdgesDeleted != 0 {
			t.Errorf("counts on a shared twin: %+v", e)
		}
		if got := e.keys(); !slices.Equal(slices.Sorted(slices.Values(got)), wantKeys) {
			t.Errorf("nodes %v, want %v", got, wantKeys)
		}

		// Writes to what is not shared reach the full reader only; a mixed write reaches the
		// shared reader with its shared nodes only.
		replica1.MustData(t, writer, `mutation($t: String!) {
  s: upsertServices(twin: $t, input: [{name: "api"}]) { nodesCreated }
  a: upsertArtifacts(twin: $t, input: [{digest: "sha256:bbb"}]) { nodesCreated }
  l: link(twin: $t, edges: [{type: CONTAINS, from: {type: ARTIFACT, key: "sha256:bbb"}, to: {type: COMPONENT, key: "pkg:npm/lodash@4.17.21"}}]) { edgesCreated }
  r: link(twin: $t, edges: [{type: RUNS, from: {type: SERVICE, key: "api"}, to: {type: ARTIFACT, key: "sha256:bbb"}}]) { edgesCreated } }`,
			map[string]any{"t": twin}, nil)
		for _, want := range []struct {
			keys  []string
			nodes int
			edges int
		}{
			{[]string{"Service api"}, 1, 0},
			{[]string{"Artifact sha256:bbb"}, 1, 0},
			{[]string{"Artifact sha256:bbb", "Component pkg:npm/lodash@4.17.21"}, 0, 1},
			{[]string{"Artifact sha256:bbb", "Service api"}, 0, 1},
		} {
			e := full.next(t, 10*time.Second)
			if got := slices.Sorted(slices.Values(e.keys())); !slices.Equal(got, want.keys) || e.NodesCreated != want.nodes || e.EdgesCreated != want.edges {
				t.Errorf("full reader got %+v, want nodes %v, %d created, %d edges", e, want.keys, want.nodes, want.edges)
			}
		}
		e = shared.next(t, 10*time.Second)
		if !slices.Equal(e.keys(), []string{"Component pkg:npm/lodash@4.17.21"}) || e.EdgesCreated != 0 {
			t.Errorf("shared reader got %+v, want only the CONTAINS write's component, without counts", e)
		}
		shared.none(t, 500*time.Millisecond)
	})

	t.Run("socket without a token is closed", func(t *testing.T) {
		for _, payload := range []string{`{}`, `{"Authorization": "Bearer not-a-token"}`} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(replica2.URL, "http")+"/graphql",
				&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			if err := wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": json.RawMessage(payload)}); err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			err = wsjson.Read(ctx, c, &m)
			for err == nil { // a connection_error message may come before the close
				if m["type"] == "connection_ack" {
					t.Fatalf("payload %s: connection acknowledged", payload)
				}
				err = wsjson.Read(ctx, c, &m)
			}
			if got := websocket.CloseStatus(err); got != 4401 {
				t.Errorf("payload %s: close status %d (%v), want 4401", payload, got, err)
			}
			c.CloseNow()
			cancel()
		}
	})
}
