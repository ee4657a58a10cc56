package graph_test

import (
	"context"
	"sync"
	"testing"

	"github.com/sectwin/sectwin/internal/testenv"
)

// Several processes creating the same constraints at once (servers starting together on a fresh
// database) make Neo4j report transient deadlocks; AutoCommit must retry them, not fail.
func TestAutoCommitConcurrentSchemaStatements(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	label := testenv.RandomName("Concurrent")
	names := []string{label + "_a", label + "_b"}
	t.Cleanup(func() {
		for _, n := range names {
			_ = db.AutoCommit(context.Background(), "DROP CONSTRAINT "+n+" IF EXISTS", nil)
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			n := names[i%2]
			// Constraint and label names are generated above, never user input.
			errs <- db.AutoCommit(context.Background(), "CREATE CONSTRAINT "+n+" IF NOT EXISTS FOR (x:"+label+") REQUIRE x.k"+n[len(n)-1:]+" IS UNIQUE", nil)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
