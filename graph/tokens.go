package graph

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// APIToken is a bearer token's record. The secret itself is never stored: only its SHA-256 hash.
type APIToken struct {
	ID        string
	Name      string
	Hash      string
	Scopes    []string
	Twins     []string // twin names, or "*" for every twin
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	RevokedAt time.Time // zero: live
}

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// Tokens stores API tokens as (:ApiToken) nodes.
type Tokens struct{ DB *DB }

// Create stores a new token record. ID and Hash must be unique; CreatedAt is set by Neo4j.
func (s Tokens) Create(ctx context.Context, t APIToken) (APIToken, error) {
	params := map[string]any{
		"id": t.ID, "name": t.Name, "hash": t.Hash, "scopes": t.Scopes, "twins": t.Twins,
		"expiresAt": optTime(t.ExpiresAt),
	}
	out, err := s.DB.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `CREATE (t:ApiToken {id: $id, name: $name, hash: $hash, scopes: $scopes, twins: $twins,
  createdAt: datetime(), expiresAt: $expiresAt})
RETURN t`, params)
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(ctx)
		if err != nil {
			return nil, err
		}
		return tokenFrom(rec), nil
	})
	if err != nil {
		return APIToken{}, fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return out.(APIToken), nil
}

// ByHash returns the token with this hash, live or not; callers check expiry and revocation.
func (s Tokens) ByHash(ctx context.Context, hash string) (APIToken, error) {
	return s.one(ctx, "MATCH (t:ApiToken {hash: $v}) RETURN t", hash)
}

func (s Tokens) one(ctx context.Context, cypher, v string) (APIToken, error) {
	out, err := s.DB.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, cypher, map[string]any{"v": v})
		if err != nil {
			return nil, err
		}
		return firstToken(ctx, res)
	})
	if err != nil {
		return APIToken{}, fmt.Errorf("token lookup: %w", err)
	}
	return out.(APIToken), nil
}

// List returns every token, newest first.
func (s Tokens) List(ctx context.Context) ([]APIToken, error) {
	out, err := s.DB.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, "MATCH (t:ApiToken) RETURN t ORDER BY t.createdAt DESC", nil)
		if err != nil {
			return nil, err
		}
		recs, err := res.Collect(ctx)
		if err != nil {
			return nil, err
		}
		toks := make([]APIToken, 0, len(recs))
		for _, r := range recs {
			toks = append(toks, tokenFrom(r))
		}
		return toks, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out.([]APIToken), nil
}

// Revoke marks a token revoked. Revoking a revoked token keeps its first revocation time.
func (s Tokens) Revoke(ctx context.Context, id string) (APIToken, error) {
	out, err := s.DB.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, "MATCH (t:ApiToken {id: $id}) SET t.revokedAt = coalesce(t.revokedAt, datetime()) RETURN t", map[string]any{"id": id})
		if err != nil {
			return nil, err
		}
		return firstToken(ctx, res)
	})
	if err != nil {
		return APIToken{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return out.(APIToken), nil
}

// firstToken reads the first record's token, or ErrNotFound when there is none.
func firstToken(ctx context.Context, res neo4j.ResultWithContext) (any, error) {
	if !res.Next(ctx) {
		if err := res.Err(); err != nil {
			return nil, err
		}
		return nil, ErrNotFound
	}
	return tokenFrom(res.Record()), nil
}

func tokenFrom(rec *neo4j.Record) APIToken {
	v, _ := rec.Get("t")
	n, _ := v.(neo4j.Node)
	p := n.Props
	t := APIToken{}
	t.ID, _ = p["id"].(string)
	t.Name, _ = p["name"].(string)
	t.Hash, _ = p["hash"].(string)
	t.Scopes = stringList(p["scopes"])
	t.Twins = stringList(p["twins"])
	t.CreatedAt, _ = p["createdAt"].(time.Time)
	t.ExpiresAt, _ = p["expiresAt"].(time.Time)
	t.RevokedAt, _ = p["revokedAt"].(time.Time)
	return t
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
