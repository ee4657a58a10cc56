package graph_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
)

// newToken stores a token with random id and hash, deleted when the test ends.
func newToken(t *testing.T, db *graph.DB, tok graph.APIToken) graph.APIToken {
	t.Helper()
	if tok.ID == "" {
		tok.ID = testenv.RandomName("tok_")
	}
	if tok.Hash == "" {
		tok.Hash = testenv.RandomName("hash_")
	}
	got, err := graph.Tokens{DB: db}.Create(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	testenv.CleanupToken(t, db, tok.ID)
	return got
}

func TestTokens(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	ctx := context.Background()
	store := graph.Tokens{DB: db}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	created := newToken(t, db, graph.APIToken{Name: "ci", Scopes: []string{"read", "ingest"}, Twins: []string{"traffic"}, ExpiresAt: exp})
	if created.CreatedAt.IsZero() || !created.ExpiresAt.Equal(exp) || !created.RevokedAt.IsZero() {
		t.Fatalf("created = %+v", created)
	}

	got, err := store.ByHash(ctx, created.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.Name != "ci" || len(got.Scopes) != 2 || got.Twins[0] != "traffic" {
		t.Fatalf("by hash = %+v", got)
	}
	if _, err := store.ByHash(ctx, "no-such-hash"); !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("unknown hash: err = %v, want ErrNotFound", err)
	}

	// The hash is unique: a second token with the same hash is refused, not merged.
	if _, err := store.Create(ctx, graph.APIToken{ID: testenv.RandomName("tok_"), Name: "dup", Hash: created.Hash, Scopes: []string{"read"}, Twins: []string{"*"}}); err == nil {
		t.Fatal("duplicate hash accepted")
	}

	list, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tok := range list {
		found = found || tok.ID == created.ID
	}
	if !found {
		t.Fatal("created token missing from List")
	}

	rev, err := store.Revoke(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := store.Revoke(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rev.RevokedAt.IsZero() || !again.RevokedAt.Equal(rev.RevokedAt) {
		t.Fatalf("revocation time: first %v, second %v; want set and unchanged", rev.RevokedAt, again.RevokedAt)
	}
	if _, err := store.Revoke(ctx, "tok_missing"); !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("revoke unknown: err = %v", err)
	}
}

func TestUnavailableNeo4j(t *testing.T) {
	t.Parallel()
	db, err := graph.Open(graph.Config{URI: "bolt://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.Ping(ctx); !errors.Is(err, graph.ErrUnavailable) {
		t.Fatalf("ping of a closed port: err = %v, want ErrUnavailable", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 600*time.Millisecond)
	defer wcancel()
	if err := db.WaitReady(wctx, testenv.Logger(t)); err == nil {
		t.Fatal("WaitReady returned nil for a closed port")
	}
}
