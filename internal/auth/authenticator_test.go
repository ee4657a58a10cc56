package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// issue creates a real token in Neo4j and deletes it when the test ends.
func issue(t *testing.T, db *graph.DB, req auth.IssueRequest, now time.Time) (string, graph.APIToken) {
	t.Helper()
	secret, rec, err := auth.Issue(context.Background(), graph.Tokens{DB: db}, req, now)
	if err != nil {
		t.Fatal(err)
	}
	testenv.CleanupToken(t, db, rec.ID)
	return secret, rec
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	ctx := context.Background()
	store := graph.Tokens{DB: db}
	live, liveRec := issue(t, db, auth.IssueRequest{Name: "live", Scopes: []auth.Scope{auth.ScopeRead}, Twins: []string{"traffic"}}, time.Now())
	expired, _ := issue(t, db, auth.IssueRequest{Name: "old", Scopes: []auth.Scope{auth.ScopeRead}, Twins: []string{"*"}, TTL: time.Minute}, time.Now().Add(-time.Hour))
	revoked, revokedRec := issue(t, db, auth.IssueRequest{Name: "gone", Scopes: []auth.Scope{auth.ScopeRead}, Twins: []string{"*"}}, time.Now())
	if _, err := store.Revoke(ctx, revokedRec.ID); err != nil {
		t.Fatal(err)
	}
	unknown, _, _ := auth.NewSecret()

	a := auth.NewAuthenticator(store, 0)
	tests := []struct {
		name    string
		secret  string
		wantErr error
	}{
		{"live", live, nil},
		{"missing", "", auth.ErrNoToken},
		{"malformed", "hunter2", auth.ErrBadToken},
		{"unknown", unknown, auth.ErrBadToken},
		{"expired", expired, auth.ErrExpired},
		{"revoked", revoked, auth.ErrRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(ctx, tt.secret)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (p.TokenID != liveRec.ID || !p.Has(auth.ScopeRead) || p.Has(auth.ScopeWrite) || !p.CanSeeTwin("traffic")) {
				t.Fatalf("principal = %+v", p)
			}
			if err != nil && strings.Contains(err.Error(), tt.secret) && tt.secret != "" {
				t.Fatal("error message contains the secret")
			}
		})
	}
}

func TestAuthenticateCache(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	ctx := context.Background()
	store := graph.Tokens{DB: db}
	secret, rec := issue(t, db, auth.IssueRequest{Name: "cached", Scopes: []auth.Scope{auth.ScopeRead}, Twins: []string{"*"}}, time.Now())

	a := auth.NewAuthenticator(store, time.Hour)
	if _, err := a.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Revoke(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	// Within the TTL the cached entry still answers: the documented revocation lag.
	if _, err := a.Authenticate(ctx, secret); err != nil {
		t.Fatalf("cached token: %v", err)
	}
	// Forget (what this process calls when it revokes) ends that at once.
	a.Forget(rec.ID)
	if _, err := a.Authenticate(ctx, secret); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("after Forget: err = %v, want ErrRevoked", err)
	}
}

func TestAuthenticateStoreDown(t *testing.T) {
	t.Parallel()
	db, err := graph.Open(graph.Config{URI: "bolt://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	secret, _, _ := auth.NewSecret()
	a := auth.NewAuthenticator(graph.Tokens{DB: db}, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err = a.Authenticate(ctx, secret)
	if !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	rec := httptest.NewRecorder()
	auth.WriteError(rec, err)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"UNAVAILABLE"`) || strings.Contains(rec.Body.String(), "127.0.0.1") {
		t.Fatalf("store down answered %d %s", rec.Code, rec.Body.String())
	}
}

func TestEnsureAdminToken(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	ctx := context.Background()
	store := graph.Tokens{DB: db}
	path := filepath.Join(t.TempDir(), "state", "admin.token")
	t.Cleanup(func() {
		b, _ := os.ReadFile(path)
		_ = db.AutoCommit(context.Background(), "MATCH (t:ApiToken {hash: $h}) DELETE t", map[string]any{"h": auth.HashSecret(strings.TrimSpace(string(b)))})
	})

	created, err := auth.EnsureAdminToken(ctx, store, path)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("admin token mode %v, want 0600", st.Mode().Perm())
	}
	first, _ := os.ReadFile(path)
	p, err := auth.NewAuthenticator(store, 0).Authenticate(ctx, strings.TrimSpace(string(first)))
	if err != nil || !p.Has(auth.ScopeAdmin) || !p.CanSeeTwin("any") {
		t.Fatalf("written token: %+v, %v", p, err)
	}

	// A second start keeps the working token.
	created, err = auth.EnsureAdminToken(ctx, store, path)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	if again, _ := os.ReadFile(path); string(again) != string(first) {
		t.Fatal("a working admin token was replaced")
	}

	// A token the database no longer knows (a wiped store) is replaced.
	if err := db.AutoCommit(ctx, "MATCH (t:ApiToken {hash: $h}) DELETE t", map[string]any{"h": auth.HashSecret(strings.TrimSpace(string(first)))}); err != nil {
		t.Fatal(err)
	}
	created, err = auth.EnsureAdminToken(ctx, store, path)
	if err != nil || !created {
		t.Fatalf("after wipe: created=%v err=%v", created, err)
	}
}
