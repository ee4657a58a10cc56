package twingen

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/sectwin/sectwin/graph"
)

// Stamp is the description Write gives the twin once every row is in: it names the generator
// version and config and the counts, so that Present can tell a complete twin of this config
// from a partial or different one.
func (t *Twin) Stamp() string {
	return fmt.Sprintf("twingen v%d seed=%d nodes=%d: complete, %d nodes, %d edges",
		shapeVersion, t.cfg.Seed, t.cfg.Nodes, t.Nodes(), t.Edges())
}

const writingStamp = "twingen: being written"

// Write creates the twin if needed and writes every node, then every edge, in transactions of
// Config.BatchRows rows (graph.DB.Write, source "twingen"), calling progress (if not nil) after
// each with the rows written so far and the total. It stamps the twin (see Stamp) when done.
// Writing into a twin that already holds this twin's rows only refreshes them.
func (t *Twin) Write(ctx context.Context, db *graph.DB, twin string, progress func(done, total int)) error {
	twins := graph.Twins{DB: db}
	if _, _, err := twins.Ensure(ctx, twin, writingStamp); err != nil {
		return err
	}
	done, total := 0, t.Rows()
	for b := range t.Batches(0) {
		if _, err := db.Write(ctx, twin, b, graph.WriteOptions{Source: Source}); err != nil {
			return fmt.Errorf("twingen: write rows %d to %d of %d: %w", done, done+len(b.Nodes)+len(b.Edges), total, err)
		}
		done += len(b.Nodes) + len(b.Edges)
		if progress != nil {
			progress(done, total)
		}
	}
	_, _, err := twins.Ensure(ctx, twin, t.Stamp())
	return err
}

// Present reports whether the twin is in Neo4j, complete: stamped by Write for this config and
// holding exactly the nodes and edges of Stats.
func (t *Twin) Present(ctx context.Context, db *graph.DB, twin string) (bool, error) {
	list, err := graph.Twins{DB: db}.List(ctx, []string{twin}, false)
	if err != nil || len(list) == 0 || list[0].Description != t.Stamp() {
		return false, err
	}
	s, err := db.Stats(ctx, twin)
	if err != nil {
		return false, err
	}
	want := t.Stats()
	return maps.Equal(s.Nodes, want.Nodes) && maps.Equal(s.Edges, want.Edges), nil
}

// Load makes sure Neo4j holds this twin under the name twin: it reuses a twin that is Present
// unless fresh is set, and otherwise deletes whatever the name holds and writes the twin anew.
// It reports whether it reused one.
func (t *Twin) Load(ctx context.Context, db *graph.DB, twin string, fresh bool, progress func(done, total int)) (reused bool, err error) {
	if !fresh {
		ok, err := t.Present(ctx, db, twin)
		if err != nil || ok {
			return ok, err
		}
	}
	if _, err := (graph.Twins{DB: db}).Delete(ctx, twin); err != nil && !errors.Is(err, graph.ErrTwinNotFound) {
		return false, err
	}
	return false, t.Write(ctx, db, twin, progress)
}
