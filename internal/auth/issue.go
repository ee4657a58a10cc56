package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sectwin/sectwin/graph"
)

// TokenCreator stores a new token record.
type TokenCreator interface {
	Create(ctx context.Context, t graph.APIToken) (graph.APIToken, error)
}

// IssueRequest describes a token to create.
type IssueRequest struct {
	Name   string
	Scopes []Scope
	Twins  []string
	TTL    time.Duration // 0: never expires
}

// Issue creates a token and returns its secret, which exists nowhere else: show it once.
func Issue(ctx context.Context, store TokenCreator, req IssueRequest, now time.Time) (secret string, rec graph.APIToken, err error) {
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 100 {
		return "", graph.APIToken{}, fmt.Errorf("token name must be 1 to 100 characters")
	}
	if len(req.Scopes) == 0 || len(req.Twins) == 0 {
		return "", graph.APIToken{}, fmt.Errorf("a token needs at least one scope and one twin")
	}
	if req.TTL < 0 {
		return "", graph.APIToken{}, fmt.Errorf("token lifetime must not be negative")
	}
	secret, hash, err := NewSecret()
	if err != nil {
		return "", graph.APIToken{}, err
	}
	id, err := NewID()
	if err != nil {
		return "", graph.APIToken{}, err
	}
	t := graph.APIToken{ID: id, Name: name, Hash: hash, Scopes: ScopeStrings(req.Scopes), Twins: req.Twins}
	if req.TTL > 0 {
		t.ExpiresAt = now.Add(req.TTL)
	}
	rec, err = store.Create(ctx, t)
	if err != nil {
		return "", graph.APIToken{}, err
	}
	return secret, rec, nil
}
