// Package graph is sectwin's only door to Neo4j: the driver, the repositories and their Cypher.
// Cypher here takes user input only as parameters, and writes in UNWIND batches.
package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/rs/zerolog"
)

// Config says where Neo4j is.
type Config struct {
	URI      string
	User     string // empty: no authentication
	Password string
	Database string
}

// DB is a Neo4j driver bound to one database.
type DB struct {
	driver   neo4j.DriverWithContext
	database string

	// neo4j-go-driver v5.28.4 lazily sets a field on the first Connect without a lock
	// (internal/connector.Connector.SupplyConnection), a data race when the first connections
	// open concurrently. Until one operation has succeeded, operations run one at a time.
	connected atomic.Bool
	firstMu   sync.Mutex

	txs atomic.Int64 // transactions run, for tests that prove batching
}

// Transactions returns how many transactions this DB has run: tests use it to show that a
// GraphQL query costs a bounded number of round trips, not one per item.
func (db *DB) Transactions() int64 { return db.txs.Load() }

// once runs op, one at a time until an operation has succeeded once.
func (db *DB) once(op func() error) error {
	if db.connected.Load() {
		return op()
	}
	db.firstMu.Lock()
	defer db.firstMu.Unlock()
	err := op()
	if err == nil {
		db.connected.Store(true)
	}
	return err
}

// ErrUnavailable marks errors where Neo4j could not be reached; callers answer 503, not 500.
var ErrUnavailable = errors.New("neo4j unavailable")

// Open creates a driver. It does not connect: use Ping or WaitReady for that.
func Open(cfg Config) (*DB, error) {
	auth := neo4j.NoAuth()
	if cfg.User != "" {
		auth = neo4j.BasicAuth(cfg.User, cfg.Password, "")
	}
	d, err := neo4j.NewDriverWithContext(cfg.URI, auth, func(c *neo4j.Config) {
		c.MaxConnectionPoolSize = 50
		c.ConnectionAcquisitionTimeout = 10 * time.Second
		c.SocketConnectTimeout = 5 * time.Second
		// Managed transactions retry transient errors this long; callers that must not wait
		// (request authentication) bound their context further.
		c.MaxTransactionRetryTime = 15 * time.Second
	})
	if err != nil {
		return nil, fmt.Errorf("neo4j driver for %s: %w", cfg.URI, err)
	}
	db := cfg.Database
	if db == "" {
		db = "neo4j"
	}
	return &DB{driver: d, database: db}, nil
}

// Close releases every connection.
func (db *DB) Close(ctx context.Context) error { return db.driver.Close(ctx) }

// Ping checks that Neo4j answers over Bolt.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.once(func() error { return db.driver.VerifyConnectivity(ctx) }); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// WaitReady pings Neo4j with exponential backoff (250 ms doubling to 5 s) until it answers or ctx
// ends. Each failed attempt is logged once with the next delay.
func (db *DB) WaitReady(ctx context.Context, log zerolog.Logger) error {
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := db.Ping(pingCtx)
		cancel()
		if err == nil {
			return nil
		}
		log.Warn().Err(err).Int("attempt", attempt).Dur("retry_in", delay).Msg("neo4j not answering yet")
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for neo4j: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// WriteTx runs fn in a managed write transaction, retried by the driver on transient errors.
func (db *DB) WriteTx(ctx context.Context, fn func(tx neo4j.ManagedTransaction) (any, error)) (any, error) {
	return db.execute(ctx, neo4j.AccessModeWrite, fn)
}

// ReadTx runs fn in a managed read transaction.
func (db *DB) ReadTx(ctx context.Context, fn func(tx neo4j.ManagedTransaction) (any, error)) (any, error) {
	return db.execute(ctx, neo4j.AccessModeRead, fn)
}

// execute runs fn in a managed transaction of mode; configurers set its timeout or metadata.
func (db *DB) execute(ctx context.Context, mode neo4j.AccessMode, fn func(tx neo4j.ManagedTransaction) (any, error), configurers ...func(*neo4j.TransactionConfig)) (any, error) {
	var out any
	db.txs.Add(1)
	err := db.once(func() (err error) {
		s := db.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: db.database, AccessMode: mode})
		defer s.Close(ctx)
		if mode == neo4j.AccessModeRead {
			out, err = s.ExecuteRead(ctx, fn, configurers...)
		} else {
			out, err = s.ExecuteWrite(ctx, fn, configurers...)
		}
		return err
	})
	return out, err
}

// AutoCommit runs one statement in its own implicit transaction. Schema statements (constraints,
// indexes) need this: Neo4j refuses them in a transaction that also writes data. The driver does
// not retry implicit transactions, so transient errors (such as the deadlocks two processes get
// creating constraints on a fresh database at once) are retried here, up to five attempts.
func (db *DB) AutoCommit(ctx context.Context, cypher string, params map[string]any) error {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := db.once(func() error {
			s := db.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: db.database, AccessMode: neo4j.AccessModeWrite})
			defer s.Close(ctx)
			res, err := s.Run(ctx, cypher, params)
			if err != nil {
				return err
			}
			_, err = res.Consume(ctx)
			return err
		})
		if err == nil || attempt == 5 || !neo4j.IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// ServerInfo is what Neo4j says about itself.
type ServerInfo struct {
	Name    string
	Version string
	Edition string
}

// ServerInfo asks dbms.components() for the server's version and edition.
func (db *DB) ServerInfo(ctx context.Context) (ServerInfo, error) {
	out, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, "CALL dbms.components() YIELD name, versions, edition RETURN name, versions[0] AS version, edition", nil)
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(ctx)
		if err != nil {
			return nil, err
		}
		return ServerInfo{
			Name:    str(rec, "name"),
			Version: str(rec, "version"),
			Edition: str(rec, "edition"),
		}, nil
	})
	if err != nil {
		return ServerInfo{}, fmt.Errorf("neo4j server info: %w", err)
	}
	return out.(ServerInfo), nil
}

func str(rec *neo4j.Record, key string) string {
	v, _ := rec.Get(key)
	s, _ := v.(string)
	return s
}

// run executes one statement inside tx and discards its records.
func run(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any) error {
	res, err := tx.Run(ctx, cypher, params)
	if err != nil {
		return err
	}
	_, err = res.Consume(ctx)
	return err
}
