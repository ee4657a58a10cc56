// Package testenv gives tests the real services: a Neo4j 5.26 over Bolt and an embedded NATS
// JetStream per test. Never mocks.
//
// Neo4j is resolved once per test binary by Main, in this order:
//  1. NEO4J_URI (with NEO4J_USER and NEO4J_PASSWORD if set), as `make test` exports it;
//  2. a neo4j:5.26-community container through testcontainers-go, when a Docker engine answers;
//  3. otherwise, with CI=true, the test binary fails with instructions; on a laptop, each test
//     that needs Neo4j is skipped with the same instructions, never silently.
//
// Community Neo4j has one database, so tests isolate themselves by twin: Twin returns a fresh
// twin name whose nodes are deleted when the test ends. Packages can then run in parallel.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/testcontainers/testcontainers-go"
	tcneo4j "github.com/testcontainers/testcontainers-go/modules/neo4j"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/bus"
	"github.com/sectwin/sectwin/migrations"
)

const howToStart = `no Neo4j for the tests: run 'make test' (it starts one), or start one with
  scripts/neo4j-local.sh start && export NEO4J_URI=bolt://127.0.0.1:7687
or run a Docker engine so testcontainers-go can start neo4j:5.26-community`

// Image is the Neo4j image testcontainers starts.
const Image = "neo4j:5.26-community"

// Main runs a package's tests with Neo4j resolved; call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	if uri := os.Getenv("NEO4J_URI"); uri != "" {
		announce(uri, "NEO4J_URI")
		return m.Run()
	}
	if uri, stop, err := startContainer(); err == nil {
		defer stop()
		os.Setenv("NEO4J_URI", uri)
		announce(uri, "testcontainers")
		return m.Run()
	} else if os.Getenv("CI") == "true" {
		fmt.Fprintf(os.Stderr, "testenv: FAIL: %s\n(docker: %v)\n", howToStart, err)
		return 1
	} else {
		fmt.Fprintf(os.Stderr, "testenv: WARNING: tests that need Neo4j will be skipped: %s\n(docker: %v)\n", howToStart, err)
	}
	return m.Run()
}

// announce prints which real Neo4j the package's tests use, so the log proves it.
func announce(uri, source string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := graph.Open(graph.Config{URI: uri, User: os.Getenv("NEO4J_USER"), Password: os.Getenv("NEO4J_PASSWORD")})
	if err != nil {
		fmt.Printf("testenv: Neo4j at %s (from %s): %v\n", uri, source, err)
		return
	}
	defer db.Close(ctx)
	info, err := db.ServerInfo(ctx)
	if err != nil {
		fmt.Printf("testenv: Neo4j at %s (from %s) does not answer: %v\n", uri, source, err)
		return
	}
	fmt.Printf("testenv: real Neo4j %s %s at %s (from %s)\n", info.Version, info.Edition, uri, source)
}

// startContainer starts Neo4j in Docker when a healthy engine is there.
func startContainer() (uri string, stop func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := dockerHealthy(ctx); err != nil {
		return "", nil, err
	}
	c, err := tcneo4j.Run(ctx, Image, tcneo4j.WithoutAuthentication(), tcneo4j.WithLabsPlugin(tcneo4j.Apoc))
	if err != nil {
		return "", nil, fmt.Errorf("start %s: %w", Image, err)
	}
	stop = func() { _ = testcontainers.TerminateContainer(c) }
	uri, err = c.BoltUrl(ctx)
	if err != nil {
		stop()
		return "", nil, err
	}
	return uri, stop, nil
}

// dockerHealthy asks the Docker engine for its info; testcontainers panics in some setups
// without one, hence the recover.
func dockerHealthy(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("docker provider panicked: %v", r)
		}
	}()
	p, err := testcontainers.ProviderDocker.GetProvider()
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Health(ctx)
}

// Neo4j returns a driver to the test Neo4j, closed when the test ends. Without one it fails the
// test under CI=true and skips it, with instructions, elsewhere.
func Neo4j(tb testing.TB) *graph.DB {
	tb.Helper()
	uri := os.Getenv("NEO4J_URI")
	if uri == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal(howToStart)
		}
		tb.Skip(howToStart)
	}
	db, err := graph.Open(graph.Config{URI: uri, User: os.Getenv("NEO4J_USER"), Password: os.Getenv("NEO4J_PASSWORD")})
	if err != nil {
		tb.Fatalf("open neo4j %s: %v", uri, err)
	}
	tb.Cleanup(func() { _ = db.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.Ping(ctx); err != nil {
		tb.Fatalf("neo4j at %s does not answer: %v\n%s", uri, err, howToStart)
	}
	return db
}

// Migrated returns Neo4j(tb) with sectwin's migrations applied (a no-op once they are), so the
// model's constraints and indexes exist.
func Migrated(tb testing.TB) *graph.DB {
	tb.Helper()
	db := Neo4j(tb)
	migs, err := graph.LoadMigrations(migrations.Files())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := (&graph.Migrator{DB: db, Log: zerolog.Nop()}).Apply(ctx, migs); err != nil {
		tb.Fatalf("apply migrations: %v", err)
	}
	return db
}

// NewTwin creates a fresh twin (see Twin) in Neo4j and returns its name.
func NewTwin(tb testing.TB, db *graph.DB) string {
	tb.Helper()
	twin := Twin(tb, db)
	if _, _, err := (graph.Twins{DB: db}).Ensure(context.Background(), twin, "test twin"); err != nil {
		tb.Fatalf("create twin %s: %v", twin, err)
	}
	return twin
}

// Twin returns a fresh twin name for one test, and deletes every node carrying it (property
// twin) when the test ends.
func Twin(tb testing.TB, db *graph.DB) string {
	tb.Helper()
	twin := RandomName("t")
	tb.Cleanup(func() {
		// Other packages' tests write and clean up at the same time: a deadlock or a lock
		// timeout between concurrent deletes is transient, and an auto-commit statement is not
		// retried by the driver, so retry here.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var err error
		for attempt := range 6 {
			if err = db.AutoCommit(ctx, `MATCH (n {twin: $twin})
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS`, map[string]any{"twin": twin}); err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
		}
		if err != nil {
			tb.Errorf("clean up twin %s: %v", twin, err)
		}
	})
	return twin
}

// RandomName returns prefix plus 12 random hex characters: a legal, unique twin or ledger name.
func RandomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// NATS starts an embedded NATS JetStream for one test, in-process only, with its store in a
// temporary directory. It is closed when the test ends.
func NATS(tb testing.TB) *bus.Bus {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, bus.Config{StoreDir: tb.TempDir(), Port: 0, Name: "test-" + strings.ReplaceAll(tb.Name(), "/", "_"), Logger: Logger(tb)})
	if err != nil {
		tb.Fatalf("embedded NATS: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Close(ctx)
	})
	return b
}

// Logger writes log lines to the test's log until the test's cleanups have run; lines from
// goroutines that outlive the test are dropped rather than panicking testing.T.
func Logger(tb testing.TB) zerolog.Logger {
	w := &tbWriter{tb: tb}
	tb.Cleanup(w.stop) // registered first, so it runs after the cleanups of what logs
	return zerolog.New(zerolog.ConsoleWriter{Out: w, NoColor: true}).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

type tbWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *tbWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}

// CleanupToken deletes the API token with this id when the test ends. Tokens belong to no twin,
// so Twin's cleanup does not reach them.
func CleanupToken(tb testing.TB, db *graph.DB, id string) {
	tb.Cleanup(func() {
		_ = db.AutoCommit(context.Background(), "MATCH (t:ApiToken {id: $id}) DELETE t", map[string]any{"id": id})
	})
}
