package graph_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/testenv"
	"github.com/sectwin/sectwin/migrations"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []string
		wantErr bool
	}{
		{name: "empty", body: "", want: nil},
		{name: "comments only", body: "// a\n  // b\n\n", want: nil},
		{name: "one", body: "CREATE (n);\n", want: []string{"CREATE (n)"}},
		{name: "multi-line", body: "MATCH (n)\n// inner comment\nRETURN n;\nCREATE (m);", want: []string{"MATCH (n)\nRETURN n", "CREATE (m)"}},
		{name: "semicolon inside a line stays", body: "RETURN 'a;b' AS x;\n", want: []string{"RETURN 'a;b' AS x"}},
		{name: "CRLF", body: "CREATE (n);\r\nCREATE (m);\r\n", want: []string{"CREATE (n)", "CREATE (m)"}},
		{name: "missing final semicolon", body: "CREATE (n);\nCREATE (m)\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := graph.SplitStatements(tt.body)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string
		wantErr string
	}{
		{name: "ordered by version", files: fstest.MapFS{
			"0002_b.cypher": {Data: []byte("RETURN 2;")},
			"0001_a.cypher": {Data: []byte("RETURN 1;")},
			"README.md":     {Data: []byte("ignored")},
		}, want: []string{"0001_a.cypher", "0002_b.cypher"}},
		{name: "bad name", files: fstest.MapFS{"1_a.cypher": {Data: []byte("RETURN 1;")}}, wantErr: "NNNN_lower_snake_name"},
		{name: "duplicate version", files: fstest.MapFS{
			"0001_a.cypher": {Data: []byte("RETURN 1;")},
			"0001_b.cypher": {Data: []byte("RETURN 1;")},
		}, wantErr: "share version 0001"},
		{name: "unterminated statement", files: fstest.MapFS{"0001_a.cypher": {Data: []byte("RETURN 1")}}, wantErr: "without a closing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			migs, err := graph.LoadMigrations(tt.files)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range migs {
				names = append(names, m.Name)
				if len(m.Checksum) != 64 {
					t.Errorf("%s checksum %q is not hex sha256", m.Name, m.Checksum)
				}
			}
			if fmt.Sprint(names) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", names, tt.want)
			}
		})
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	migs, err := graph.LoadMigrations(migrations.Files())
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) == 0 || migs[0].Version != 1 {
		t.Fatalf("want migrations starting at 0001, got %+v", migs)
	}
}

// testMigrations builds a migration set that writes only nodes of this test's twin.
func testMigrations(t *testing.T, twin string, bodies ...string) []graph.Migration {
	t.Helper()
	files := fstest.MapFS{}
	for i, b := range bodies {
		files[fmt.Sprintf("%04d_step_%d.cypher", i+1, i+1)] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(b, "$TWIN", twin))}
	}
	migs, err := graph.LoadMigrations(files)
	if err != nil {
		t.Fatal(err)
	}
	return migs
}

func countNodes(t *testing.T, db *graph.DB, twin string) int64 {
	t.Helper()
	ctx := context.Background()
	n, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, "MATCH (n:MigTest {twin: $twin}) RETURN count(n) AS n", map[string]any{"twin": twin})
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(ctx)
		if err != nil {
			return nil, err
		}
		v, _ := rec.Get("n")
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n.(int64)
}

func cleanLedger(t *testing.T, db *graph.DB, ledger string) {
	t.Cleanup(func() {
		_ = db.AutoCommit(context.Background(), "MATCH (n) WHERE (n:SchemaMigration OR n:MigrationLock) AND n.ledger = $l DETACH DELETE n", map[string]any{"l": ledger})
	})
}

func TestMigratorAppliesOnceAndRefusesEdits(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	twin := testenv.Twin(t, db)
	ledger := testenv.RandomName("ledger_")
	cleanLedger(t, db, ledger)
	ctx := context.Background()
	m := &graph.Migrator{DB: db, Ledger: ledger, Log: testenv.Logger(t)}

	// step1, step23 and step4 are the migration bodies; the edited set changes step1 only.
	const (
		step1  = "CREATE (:MigTest {twin: '$TWIN', step: 1});"
		step23 = "CREATE (:MigTest {twin: '$TWIN', step: 2});\nCREATE (:MigTest {twin: '$TWIN', step: 3});"
		step4  = "CREATE (:MigTest {twin: '$TWIN', step: 4});"
	)
	v1 := testMigrations(t, twin, step1, step23)
	res, err := m.Apply(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 2 || res.Current != 0 {
		t.Fatalf("first run: applied %d, current %d; want 2, 0", len(res.Applied), res.Current)
	}
	if n := countNodes(t, db, twin); n != 3 {
		t.Fatalf("after first run: %d nodes, want 3", n)
	}

	// Running again is a no-op: nothing applied, no node created twice.
	res, err = m.Apply(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 0 || res.Current != 2 {
		t.Fatalf("second run: applied %d, current %d; want 0, 2", len(res.Applied), res.Current)
	}
	if n := countNodes(t, db, twin); n != 3 {
		t.Fatalf("after second run: %d nodes, want 3", n)
	}

	applied, err := m.Applied(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 2 || applied[0].Checksum != v1[0].Checksum || applied[1].AppliedAt.IsZero() {
		t.Fatalf("ledger = %+v", applied)
	}

	// An edited, already-applied file is refused, and a new pending migration beside it is not
	// applied either: nothing changes.
	edited := testMigrations(t, twin,
		"CREATE (:MigTest {twin: '$TWIN', step: 1, edited: true});", step23, step4)
	_, err = m.Apply(ctx, edited)
	if !errors.Is(err, graph.ErrChecksumMismatch) {
		t.Fatalf("edited migration: err = %v, want ErrChecksumMismatch", err)
	}
	if !strings.Contains(err.Error(), "0001_step_1.cypher") || !strings.Contains(err.Error(), "new migration") {
		t.Fatalf("error should name the file and say what to do: %v", err)
	}
	if n := countNodes(t, db, twin); n != 3 {
		t.Fatalf("after refused run: %d nodes, want 3", n)
	}

	// A new migration appended to the unedited set is applied alone.
	v2 := testMigrations(t, twin, step1, step23, step4)
	res, err = m.Apply(ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 1 || res.Applied[0].Version != 3 {
		t.Fatalf("third run applied %+v, want only version 3", res.Applied)
	}
}

func TestMigratorFailedStatementIsNotRecorded(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	twin := testenv.Twin(t, db)
	ledger := testenv.RandomName("ledger_")
	cleanLedger(t, db, ledger)
	ctx := context.Background()
	m := &graph.Migrator{DB: db, Ledger: ledger, Log: testenv.Logger(t)}

	bad := testMigrations(t, twin, "CREATE (:MigTest {twin: '$TWIN'});", "THIS IS NOT CYPHER;")
	_, err := m.Apply(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "0002_step_2.cypher, statement 1 of 1") {
		t.Fatalf("err = %v, want it to name the failing file and statement", err)
	}
	applied, err := m.Applied(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 1 || applied[0].Version != 1 {
		t.Fatalf("ledger after failure = %+v, want only version 1", applied)
	}
}

func TestMigratorConcurrentRunsApplyOnce(t *testing.T) {
	t.Parallel()
	db := testenv.Neo4j(t)
	twin := testenv.Twin(t, db)
	ledger := testenv.RandomName("ledger_")
	cleanLedger(t, db, ledger)
	migs := testMigrations(t, twin, "CREATE (:MigTest {twin: '$TWIN'});", "CREATE (:MigTest {twin: '$TWIN'});")

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			m := &graph.Migrator{DB: db, Ledger: ledger, Log: testenv.Logger(t)}
			_, err := m.Apply(context.Background(), migs)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := countNodes(t, db, twin); n != 2 {
		t.Fatalf("4 concurrent migrators created %d nodes, want 2 (each migration once)", n)
	}
}

func TestRealMigrationsApply(t *testing.T) {
	db := testenv.Neo4j(t)
	migs, err := graph.LoadMigrations(migrations.Files())
	if err != nil {
		t.Fatal(err)
	}
	m := &graph.Migrator{DB: db, Log: testenv.Logger(t)}
	ctx := context.Background()
	if _, err := m.Apply(ctx, migs); err != nil {
		t.Fatal(err)
	}
	res, err := m.Apply(ctx, migs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 0 || res.Current < len(migs) {
		t.Fatalf("second apply of the real migrations: %+v", res)
	}
}
