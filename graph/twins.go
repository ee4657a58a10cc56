package graph

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// Twins stores twins and the federation grants between them.
type Twins struct{ DB *DB }

// Ensure creates the twin if it does not exist and sets its description when one is given. It
// reports whether the twin was created.
func (s Twins) Ensure(ctx context.Context, name, description string) (Twin, bool, error) {
	out, err := s.DB.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `MERGE (t:Twin {twin: $name, name: $name})
ON CREATE SET t.createdAt = datetime(), t.firstSeen = datetime(), t.sources = ['sectwin'], t.description = $description, t._new = true
SET t.lastSeen = datetime(), t.description = CASE WHEN $description = '' THEN t.description ELSE $description END
WITH t, t._new IS NOT NULL AS created
REMOVE t._new
RETURN t, created`, map[string]any{"name": name, "description": description})
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(ctx)
		if err != nil {
			return nil, err
		}
		return rec, nil
	})
	if err != nil {
		return Twin{}, false, fmt.Errorf("ensure twin %s: %w", name, err)
	}
	rec := out.(*neo4j.Record)
	var t Twin
	decodeInto(&t, rec.Values[0].(neo4j.Node).Props)
	return t, rec.Values[1].(bool), nil
}

// List returns the twins with these names, or every twin when all is set, ordered by name.
func (s Twins) List(ctx context.Context, names []string, all bool) ([]Twin, error) {
	if names == nil {
		names = []string{}
	}
	out, err := s.DB.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `MATCH (t:Twin) WHERE $all OR t.name IN $names RETURN t ORDER BY t.name`,
			map[string]any{"names": names, "all": all})
		if err != nil {
			return nil, err
		}
		recs, err := res.Collect(ctx)
		if err != nil {
			return nil, err
		}
		twins := make([]Twin, len(recs))
		for i, rec := range recs {
			decodeInto(&twins[i], rec.Values[0].(neo4j.Node).Props)
		}
		return twins, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list twins: %w", err)
	}
	return out.([]Twin), nil
}

// Exists reports whether the twin exists.
func (s Twins) Exists(ctx context.Context, name string) (bool, error) {
	recs, err := s.DB.collect(ctx, "MATCH (t:Twin {twin: $name, name: $name}) RETURN count(t)", map[string]any{"name": name})
	if err != nil {
		return false, fmt.Errorf("twin %s: %w", name, err)
	}
	return recs[0].Values[0].(int64) == 1, nil
}

// Delete removes the twin, everything in it and every grant it gave or received, in batches. It
// returns the number of nodes deleted, or ErrTwinNotFound.
func (s Twins) Delete(ctx context.Context, name string) (int, error) {
	ok, err := s.Exists(ctx, name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrTwinNotFound
	}
	n, err := s.DB.countAutoCommit(ctx, `MATCH (n {twin: $twin})
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 2000 ROWS
RETURN count(*) AS n`, map[string]any{"twin": name})
	if err != nil {
		return 0, fmt.Errorf("delete twin %s: %w", name, err)
	}
	if _, err := s.DB.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		return nil, run(ctx, tx, "MATCH (g:TwinGrant {grantee: $twin}) DELETE g", map[string]any{"twin": name})
	}); err != nil {
		return n, fmt.Errorf("delete grants to twin %s: %w", name, err)
	}
	return n, nil
}

// Grant shares subgraphs of one twin, read-only, with another.
type Grant struct {
	Owner     string   // the twin that shares
	Grantee   string   // the twin that may read
	Subgraphs []string // see Subgraphs()
	CreatedAt time.Time
	CreatedBy string
}

// SetGrant creates or replaces the grant from owner to grantee. Both twins must exist.
func (s Twins) SetGrant(ctx context.Context, g Grant) (Grant, error) {
	slices.Sort(g.Subgraphs)
	g.Subgraphs = slices.Compact(g.Subgraphs)
	out, err := s.DB.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `MATCH (o:Twin {twin: $owner, name: $owner}), (e:Twin {twin: $grantee, name: $grantee})
MERGE (g:TwinGrant {twin: $owner, grantee: $grantee})
ON CREATE SET g.createdAt = datetime()
SET g.subgraphs = $subgraphs, g.createdBy = $by
RETURN g`, map[string]any{"owner": g.Owner, "grantee": g.Grantee, "subgraphs": g.Subgraphs, "by": g.CreatedBy})
		if err != nil {
			return nil, err
		}
		recs, err := res.Collect(ctx)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, ErrTwinNotFound
		}
		return grantFrom(recs[0].Values[0].(neo4j.Node)), nil
	})
	if err != nil {
		return Grant{}, fmt.Errorf("grant %s to %s: %w", g.Owner, g.Grantee, err)
	}
	return out.(Grant), nil
}

// RevokeGrant removes the grant from owner to grantee; ErrNotFound if there is none.
func (s Twins) RevokeGrant(ctx context.Context, owner, grantee string) error {
	out, err := s.DB.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		n, err := deletedCount(ctx, tx, "MATCH (g:TwinGrant {twin: $owner, grantee: $grantee}) DELETE g",
			map[string]any{"owner": owner, "grantee": grantee})
		return n, err
	})
	if err != nil {
		return fmt.Errorf("revoke grant %s to %s: %w", owner, grantee, err)
	}
	if out.(int) == 0 {
		return ErrNotFound
	}
	return nil
}

// Grants returns the grants to any of these grantees, or from any of these owners.
func (s Twins) Grants(ctx context.Context, grantees, owners []string) ([]Grant, error) {
	if grantees == nil {
		grantees = []string{}
	}
	if owners == nil {
		owners = []string{}
	}
	out, err := s.DB.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `MATCH (g:TwinGrant) WHERE g.grantee IN $grantees OR g.twin IN $owners
RETURN g ORDER BY g.twin, g.grantee`, map[string]any{"grantees": grantees, "owners": owners})
		if err != nil {
			return nil, err
		}
		recs, err := res.Collect(ctx)
		if err != nil {
			return nil, err
		}
		grants := make([]Grant, len(recs))
		for i, rec := range recs {
			grants[i] = grantFrom(rec.Values[0].(neo4j.Node))
		}
		return grants, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return out.([]Grant), nil
}

func grantFrom(n neo4j.Node) Grant {
	g := Grant{}
	g.Owner, _ = n.Props["twin"].(string)
	g.Grantee, _ = n.Props["grantee"].(string)
	g.CreatedBy, _ = n.Props["createdBy"].(string)
	if t, ok := n.Props["createdAt"].(time.Time); ok {
		g.CreatedAt = t.UTC()
	}
	list, _ := n.Props["subgraphs"].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok {
			g.Subgraphs = append(g.Subgraphs, s)
		}
	}
	return g
}

func deletedCount(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any) (int, error) {
	n, err := deleted(ctx, tx, cypher, params)
	return n.nodes, err
}

// countAutoCommit runs a statement that must run outside an explicit transaction (CALL … IN
// TRANSACTIONS) and returns its single integer column.
func (db *DB) countAutoCommit(ctx context.Context, cypher string, params map[string]any) (int, error) {
	var n int64
	err := db.once(func() error {
		s := db.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: db.database, AccessMode: neo4j.AccessModeWrite})
		defer s.Close(ctx)
		res, err := s.Run(ctx, cypher, params)
		if err != nil {
			return err
		}
		rec, err := res.Single(ctx)
		if err != nil {
			return err
		}
		n, _ = rec.Values[0].(int64)
		return nil
	})
	return int(n), err
}
