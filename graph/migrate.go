package graph

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/rs/zerolog"
)

// DefaultLedger names the record of sectwin's own migrations. Tests use ledgers of their own so
// that they can run beside each other and beside a real installation.
const DefaultLedger = "sectwin"

// ErrChecksumMismatch means a migration file changed after it was applied.
var ErrChecksumMismatch = errors.New("applied migration was edited")

// Migration is one NNNN_name.cypher file.
type Migration struct {
	Version    int
	Name       string // file name
	Checksum   string // hex SHA-256 of the file's bytes
	Statements []string
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.cypher$`)

// LoadMigrations reads every NNNN_name.cypher file at the root of fsys, in version order. Other
// files are ignored; a .cypher file with a malformed name or a duplicate version is an error.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".cypher") {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name it NNNN_lower_snake_name.cypher", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %04d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		stmts, err := SplitStatements(string(body))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(body)
		out = append(out, Migration{Version: v, Name: e.Name(), Checksum: hex.EncodeToString(sum[:]), Statements: stmts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// SplitStatements splits a migration into statements. A statement ends with ';' at the end of a
// line; lines whose first non-blank characters are // are comments. Text after the last ';' is
// an error, so a forgotten semicolon cannot silently drop a statement.
func SplitStatements(body string) ([]string, error) {
	var stmts []string
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(line, ";") {
			s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			if s != "" {
				stmts = append(stmts, s)
			}
			cur.Reset()
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		return nil, fmt.Errorf("statement without a closing ';': %.60q", rest)
	}
	return stmts, nil
}

// Migrator applies migrations and records each applied file as a (:SchemaMigration) node with
// its version, name, checksum and time.
type Migrator struct {
	DB     *DB
	Ledger string // DefaultLedger unless a test isolates itself
	Log    zerolog.Logger
}

// MigrateResult says what Apply did.
type MigrateResult struct {
	Applied []Migration // newly applied, in order
	Current int         // migrations already recorded before this run
}

// Apply applies the pending migrations in order. Before it changes anything it checks that every
// already-applied migration still has its recorded checksum, and refuses with ErrChecksumMismatch
// otherwise. Concurrent runs (two servers starting) are serialised by a lease on a lock node.
// Running it again applies nothing.
func (m *Migrator) Apply(ctx context.Context, migs []Migration) (MigrateResult, error) {
	ledger := m.Ledger
	if ledger == "" {
		ledger = DefaultLedger
	}
	for _, s := range []string{
		"CREATE CONSTRAINT schema_migration_key IF NOT EXISTS FOR (m:SchemaMigration) REQUIRE (m.ledger, m.version) IS UNIQUE",
		"CREATE CONSTRAINT migration_lock_ledger IF NOT EXISTS FOR (l:MigrationLock) REQUIRE l.ledger IS UNIQUE",
	} {
		if err := m.DB.AutoCommit(ctx, s, nil); err != nil {
			return MigrateResult{}, fmt.Errorf("prepare migration ledger: %w", err)
		}
	}
	release, err := m.lock(ctx, ledger)
	if err != nil {
		return MigrateResult{}, err
	}
	defer release()

	applied, err := m.applied(ctx, ledger)
	if err != nil {
		return MigrateResult{}, err
	}
	known := map[int]bool{}
	var mismatches []error
	for _, mig := range migs {
		known[mig.Version] = true
		rec, ok := applied[mig.Version]
		if ok && rec.Checksum != mig.Checksum {
			mismatches = append(mismatches, fmt.Errorf("%w: %s was applied on %s with checksum %.12s, the file now has %.12s; restore the file and put the change in a new migration",
				ErrChecksumMismatch, mig.Name, rec.AppliedAt.Format(time.RFC3339), rec.Checksum, mig.Checksum))
		}
	}
	if len(mismatches) > 0 {
		return MigrateResult{}, errors.Join(mismatches...)
	}
	for v, rec := range applied {
		if !known[v] {
			m.Log.Warn().Int("version", v).Str("name", rec.Name).Msg("database has a migration this binary does not know; is an older sectwin running against a newer database?")
		}
	}

	res := MigrateResult{Current: len(applied)}
	for _, mig := range migs {
		if _, ok := applied[mig.Version]; ok {
			continue
		}
		start := time.Now()
		for i, stmt := range mig.Statements {
			if err := m.DB.AutoCommit(ctx, stmt, nil); err != nil {
				return res, fmt.Errorf("migration %s, statement %d of %d: %w", mig.Name, i+1, len(mig.Statements), err)
			}
		}
		_, err := m.DB.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
			return nil, run(ctx, tx, `MERGE (r:SchemaMigration {ledger: $ledger, version: $version})
SET r.name = $name, r.checksum = $checksum, r.appliedAt = datetime(), r.statements = $n`,
				map[string]any{"ledger": ledger, "version": mig.Version, "name": mig.Name, "checksum": mig.Checksum, "n": len(mig.Statements)})
		})
		if err != nil {
			return res, fmt.Errorf("record migration %s: %w", mig.Name, err)
		}
		m.Log.Info().Str("migration", mig.Name).Int("statements", len(mig.Statements)).Dur("took", time.Since(start)).Msg("migration applied")
		res.Applied = append(res.Applied, mig)
	}
	return res, nil
}

// AppliedMigration is a ledger entry.
type AppliedMigration struct {
	Version   int
	Name      string
	Checksum  string
	AppliedAt time.Time
}

// Applied lists the ledger's recorded migrations in version order.
func (m *Migrator) Applied(ctx context.Context) ([]AppliedMigration, error) {
	ledger := m.Ledger
	if ledger == "" {
		ledger = DefaultLedger
	}
	byVersion, err := m.applied(ctx, ledger)
	if err != nil {
		return nil, err
	}
	out := make([]AppliedMigration, 0, len(byVersion))
	for _, a := range byVersion {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func (m *Migrator) applied(ctx context.Context, ledger string) (map[int]AppliedMigration, error) {
	out, err := m.DB.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `MATCH (r:SchemaMigration {ledger: $ledger})
RETURN r.version AS version, r.name AS name, r.checksum AS checksum, r.appliedAt AS appliedAt`, map[string]any{"ledger": ledger})
		if err != nil {
			return nil, err
		}
		recs, err := res.Collect(ctx)
		if err != nil {
			return nil, err
		}
		byVersion := make(map[int]AppliedMigration, len(recs))
		for _, rec := range recs {
			v, _ := rec.Get("version")
			at, _ := rec.Get("appliedAt")
			a := AppliedMigration{Name: str(rec, "name"), Checksum: str(rec, "checksum")}
			if n, ok := v.(int64); ok {
				a.Version = int(n)
			}
			if t, ok := at.(time.Time); ok {
				a.AppliedAt = t
			}
			byVersion[a.Version] = a
		}
		return byVersion, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	return out.(map[int]AppliedMigration), nil
}

// lockLease bounds how long a crashed migrator can block the next one.
const lockLease = 5 * time.Minute

// lock takes the ledger's lease, waiting while another live migrator holds it.
func (m *Migrator) lock(ctx context.Context, ledger string) (release func(), err error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	me := hex.EncodeToString(b[:])
	params := map[string]any{"ledger": ledger, "me": me, "lease": lockLease.Milliseconds()}
	for waited := false; ; waited = true {
		got, err := m.DB.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
			res, err := tx.Run(ctx, `MERGE (l:MigrationLock {ledger: $ledger})
WITH l WHERE l.holder IS NULL OR l.expiresAt < datetime()
SET l.holder = $me, l.expiresAt = datetime() + duration({milliseconds: $lease})
RETURN l.holder AS holder`, params)
			if err != nil {
				return false, err
			}
			recs, err := res.Collect(ctx)
			return len(recs) == 1, err
		})
		if err != nil {
			return nil, fmt.Errorf("take migration lock: %w", err)
		}
		if got.(bool) {
			break
		}
		if !waited {
			m.Log.Info().Str("ledger", ledger).Msg("another migrator holds the lock; waiting")
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for migration lock: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	return func() {
		// Release even when ctx was cancelled, so the next run need not wait out the lease.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, err := m.DB.WriteTx(rctx, func(tx neo4j.ManagedTransaction) (any, error) {
			return nil, run(rctx, tx, `MATCH (l:MigrationLock {ledger: $ledger, holder: $me}) REMOVE l.holder, l.expiresAt`, params)
		})
		if err != nil {
			m.Log.Warn().Err(err).Msg("release migration lock; it expires by itself")
		}
	}, nil
}

// Constraints lists the uniqueness constraints in the database as "Label(prop1,prop2)".
func (db *DB) Constraints(ctx context.Context) ([]string, error) {
	recs, err := db.collect(ctx, `SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties
WHERE type = 'UNIQUENESS'
RETURN labelsOrTypes[0] + '(' + reduce(s = '', p IN properties | s + CASE s WHEN '' THEN '' ELSE ',' END + p) + ')'`, nil)
	if err != nil {
		return nil, fmt.Errorf("list constraints: %w", err)
	}
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Values[0].(string))
	}
	sort.Strings(out)
	return out, nil
}
