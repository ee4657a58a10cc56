// Package auth authenticates bearer API tokens and carries the caller (a Principal) in the
// request context.
//
// A token is "stw_" followed by 43 base64url characters (32 random bytes). Only its SHA-256 hash
// is stored: the secret is high-entropy, so a fast hash is as strong as a slow one here and keeps
// every request's check cheap. A token has scopes (what it may do) and twins (which twins it may
// see; "*" is every twin).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Scope is one permission of a token.
type Scope string

// The scopes. Admin implies every other scope and every twin.
const (
	ScopeRead    Scope = "read"    // query the twins it may see
	ScopeWrite   Scope = "write"   // change the twins it may see
	ScopeIngest  Scope = "ingest"  // post documents to the ingest webhooks
	ScopeMetrics Scope = "metrics" // scrape /metrics
	ScopeAdmin   Scope = "admin"   // everything, every twin, token management
)

// AllScopes lists the scopes in documentation order.
func AllScopes() []Scope {
	return []Scope{ScopeRead, ScopeWrite, ScopeIngest, ScopeMetrics, ScopeAdmin}
}

// AllTwins in a token's twin list grants every twin.
const AllTwins = "*"

// Principal is an authenticated caller.
type Principal struct {
	TokenID string
	Name    string
	Scopes  []Scope
	Twins   []string
}

// Has reports whether p holds scope s (admin holds all).
func (p Principal) Has(s Scope) bool {
	return slices.Contains(p.Scopes, s) || slices.Contains(p.Scopes, ScopeAdmin)
}

// CanSeeTwin reports whether p may access twin.
func (p Principal) CanSeeTwin(twin string) bool {
	return p.Has(ScopeAdmin) || slices.Contains(p.Twins, AllTwins) || slices.Contains(p.Twins, twin)
}

// SeesAllTwins reports whether p may access every twin (admin, or a token for *).
func (p Principal) SeesAllTwins() bool {
	return p.Has(ScopeAdmin) || slices.Contains(p.Twins, AllTwins)
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the caller carried by ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// TokenPrefix starts every sectwin token, so secret scanners can recognise leaked ones.
const TokenPrefix = "stw_"

// NewSecret returns a fresh token secret and its hash.
func NewSecret() (secret, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("token randomness: %w", err)
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret), nil
}

// NewID returns a short random identifier for listing and revoking a token.
func NewID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token id randomness: %w", err)
	}
	return "tok_" + hex.EncodeToString(b[:]), nil
}

// HashSecret is the stored form of a secret: hex SHA-256.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// WellFormed reports whether s looks like a sectwin token, before any lookup.
func WellFormed(s string) bool {
	if !strings.HasPrefix(s, TokenPrefix) || len(s) != len(TokenPrefix)+43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s[len(TokenPrefix):])
	return err == nil
}

// ErrBadScope and ErrBadTwin report malformed token grants.
var (
	ErrBadScope = errors.New("unknown scope")
	ErrBadTwin  = errors.New("invalid twin name")
)

// ParseScopes parses a comma-separated scope list such as "read,ingest".
func ParseScopes(list string) ([]Scope, error) {
	var out []Scope
	for _, s := range splitList(list) {
		sc := Scope(s)
		if !slices.Contains(AllScopes(), sc) {
			return nil, fmt.Errorf("%w %q: use one of %s", ErrBadScope, s, joinScopes(AllScopes()))
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: give at least one of %s", ErrBadScope, joinScopes(AllScopes()))
	}
	return out, nil
}

var twinName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidTwinName reports whether s is a legal twin name: lower-case letters, digits, '-' and '_',
// starting with a letter or digit, at most 63 characters.
func ValidTwinName(s string) bool { return twinName.MatchString(s) }

// ParseTwins parses a comma-separated twin list such as "traffic,supply" or "*".
func ParseTwins(list string) ([]string, error) {
	var out []string
	for _, t := range splitList(list) {
		if t != AllTwins && !ValidTwinName(t) {
			return nil, fmt.Errorf("%w %q: use lower-case letters, digits, '-' and '_' (or * for all twins)", ErrBadTwin, t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: give at least one twin, or * for all", ErrBadTwin)
	}
	return out, nil
}

func splitList(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func joinScopes(ss []Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// ScopeStrings converts scopes for storage.
func ScopeStrings(ss []Scope) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
