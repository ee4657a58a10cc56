package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sectwin/sectwin/graph"
)

// TokenStore finds a token record by the hash of its secret.
type TokenStore interface {
	ByHash(ctx context.Context, hash string) (graph.APIToken, error)
}

// Authentication failures. Each maps to an HTTP status and a stable error code.
var (
	ErrNoToken     = errors.New("missing bearer token: send 'Authorization: Bearer <token>'; create a token with 'sectwin token create'")
	ErrBadToken    = errors.New("invalid bearer token")
	ErrExpired     = errors.New("bearer token expired: create a new one with 'sectwin token create'")
	ErrRevoked     = errors.New("bearer token revoked")
	ErrUnavailable = errors.New("token store unavailable: Neo4j does not answer, retry shortly")
)

// Authenticator verifies bearer tokens against a TokenStore and caches verified ones for TTL, so
// a request costs no database round trip. A token revoked through another process stops working
// here within TTL; one revoked through Forget stops at once.
type Authenticator struct {
	store TokenStore
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cached // by hash
}

type cached struct {
	p         Principal
	expiresAt time.Time // the token's own expiry; zero for never
	until     time.Time // cache entry validity
}

// lookupTimeout bounds one token lookup in the store.
const lookupTimeout = 3 * time.Second

// maxCached bounds the cache; when full, expired entries go first, then everything.
const maxCached = 10000

// NewAuthenticator returns an Authenticator; ttl 0 disables caching.
func NewAuthenticator(store TokenStore, ttl time.Duration) *Authenticator {
	return &Authenticator{store: store, ttl: ttl, now: time.Now, cache: map[string]cached{}}
}

// Authenticate resolves a raw token secret to its Principal.
func (a *Authenticator) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if secret == "" {
		return Principal{}, ErrNoToken
	}
	if !WellFormed(secret) {
		return Principal{}, ErrBadToken
	}
	hash := HashSecret(secret)
	now := a.now()
	a.mu.Lock()
	c, ok := a.cache[hash]
	a.mu.Unlock()
	if ok && now.Before(c.until) {
		if !c.expiresAt.IsZero() && !now.Before(c.expiresAt) {
			return Principal{}, ErrExpired
		}
		return c.p, nil
	}

	// Bounded, so a request fails fast with 503 when Neo4j is down instead of hanging in the
	// driver's retry loop.
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	t, err := a.store.ByHash(lctx, hash)
	cancel()
	switch {
	case errors.Is(err, graph.ErrNotFound):
		return Principal{}, ErrBadToken
	case err != nil:
		return Principal{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	case !t.RevokedAt.IsZero():
		return Principal{}, ErrRevoked
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return Principal{}, ErrExpired
	}
	p := Principal{TokenID: t.ID, Name: t.Name, Twins: t.Twins}
	for _, s := range t.Scopes {
		p.Scopes = append(p.Scopes, Scope(s))
	}
	if a.ttl > 0 {
		a.remember(hash, cached{p: p, expiresAt: t.ExpiresAt, until: now.Add(a.ttl)})
	}
	return p, nil
}

func (a *Authenticator) remember(hash string, c cached) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxCached {
		now := a.now()
		for h, e := range a.cache {
			if !now.Before(e.until) {
				delete(a.cache, h)
			}
		}
		if len(a.cache) >= maxCached {
			clear(a.cache)
		}
	}
	a.cache[hash] = c
}

// Forget drops a token from the cache, for revocations made by this process.
func (a *Authenticator) Forget(tokenID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, c := range a.cache {
		if c.p.TokenID == tokenID {
			delete(a.cache, h)
		}
	}
}

// BearerToken extracts the token from an "Authorization: Bearer <token>" header value.
func BearerToken(header string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// Middleware authenticates every request and puts the Principal in its context. Requests without
// a valid token get a JSON error: 401, or 503 when the token store is down. allowAnonymous lets a
// request through without a token (the GraphQL websocket upgrade, which authenticates in its
// connection_init payload instead); a token that is present is still checked.
func (a *Authenticator) Middleware(allowAnonymous func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			secret := BearerToken(r.Header.Get("Authorization"))
			if secret == "" && allowAnonymous != nil && allowAnonymous(r) {
				next.ServeHTTP(w, r)
				return
			}
			p, err := a.Authenticate(r.Context(), secret)
			if err != nil {
				WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// RequireScope answers 403 unless the authenticated caller holds s.
func RequireScope(s Scope) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				WriteError(w, ErrNoToken)
				return
			}
			if !p.Has(s) {
				WriteError(w, &ScopeError{Need: s})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ScopeError says which scope a caller lacks.
type ScopeError struct{ Need Scope }

func (e *ScopeError) Error() string {
	return fmt.Sprintf("this token lacks the %q scope; create one with 'sectwin token create --scope %s'", e.Need, e.Need)
}

// Code returns the stable error code and HTTP status for an authentication or authorisation error.
func Code(err error) (code string, status int) {
	var se *ScopeError
	switch {
	case errors.As(err, &se):
		return "FORBIDDEN", http.StatusForbidden
	case errors.Is(err, ErrUnavailable):
		return "UNAVAILABLE", http.StatusServiceUnavailable
	default:
		return "UNAUTHENTICATED", http.StatusUnauthorized
	}
}

// WriteError writes err as {"error":{"code":..., "message":...}} with the matching status.
// Messages never contain the token.
func WriteError(w http.ResponseWriter, err error) {
	code, status := Code(err)
	msg := err.Error()
	if status == http.StatusServiceUnavailable {
		msg = ErrUnavailable.Error() // the wrapped driver error is for logs, not callers
	}
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sectwin"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
