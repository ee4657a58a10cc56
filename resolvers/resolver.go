// Package resolvers holds sectwin's thin GraphQL resolvers: each one validates its input, checks
// the caller's scopes and twins, and delegates to graph/ or analytics/.
package resolvers

import (
	"context"

	"github.com/sectwin/sectwin/graph"
)

// ServerInfoSource says what Neo4j runs.
type ServerInfoSource interface {
	ServerInfo(ctx context.Context) (graph.ServerInfo, error)
}

// MigrationLister lists applied migrations.
type MigrationLister interface {
	Applied(ctx context.Context) ([]graph.AppliedMigration, error)
}

// Resolver carries the resolvers' dependencies.
type Resolver struct {
	Version    string
	Neo4j      ServerInfoSource
	Migrations MigrationLister
}
