// Package resolvers holds sectwin's thin GraphQL resolvers: each one validates its input, checks
// the caller's scopes and twins, and delegates to graph/ or analytics/.
package resolvers

import (
	"context"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/events"
)

// ServerInfoSource says what Neo4j runs.
type ServerInfoSource interface {
	ServerInfo(ctx context.Context) (graph.ServerInfo, error)
}

// MigrationLister lists applied migrations.
type MigrationLister interface {
	Applied(ctx context.Context) ([]graph.AppliedMigration, error)
}

// ChangeBus carries twin change events between replicas.
type ChangeBus interface {
	Publish(ctx context.Context, c events.Change) error
	Subscribe(ctx context.Context, twin string) (<-chan events.Change, error)
}

// Resolver carries the resolvers' dependencies.
type Resolver struct {
	Version    string
	Neo4j      ServerInfoSource
	Migrations MigrationLister
	Graph      *graph.DB
	Changes    ChangeBus
}

func (r *Resolver) twins() graph.Twins { return graph.Twins{DB: r.Graph} }
