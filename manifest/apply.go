package manifest

import (
	"context"
	"errors"
	"fmt"

	"github.com/sectwin/sectwin/graph"
)

// Options steer Apply.
type Options struct {
	// Prune removes what this manifest wrote before (its source, see Manifest.Source) but no
	// longer declares. Nodes and edges other sources also declared only lose this source.
	Prune bool
	// DryRun validates and writes nothing.
	DryRun bool
}

// Apply validates the manifest, ensures its twin exists (with the manifest's description) and
// writes its batch in one transaction, recording Source() as provenance. Nothing is written when
// validation fails (an *Error or a *graph.ValidationError). DryRun validates only and returns the
// zero result.
func Apply(ctx context.Context, db *graph.DB, m *Manifest, opt Options) (graph.WriteResult, error) {
	if err := m.Validate(); err != nil {
		return graph.WriteResult{}, err
	}
	b := m.Batch()
	if err := b.Validate(); err != nil {
		return graph.WriteResult{}, fmt.Errorf("manifest %s: %w", m.File, err)
	}
	if opt.DryRun {
		return graph.WriteResult{}, nil
	}
	if db == nil {
		return graph.WriteResult{}, errors.New("apply manifest: no database")
	}
	twin := m.TwinName()
	if _, _, err := (graph.Twins{DB: db}).Ensure(ctx, twin, m.Metadata.Description); err != nil {
		return graph.WriteResult{}, fmt.Errorf("apply manifest %s: %w", m.File, err)
	}
	res, err := db.Write(ctx, twin, b, graph.WriteOptions{Source: m.Source(), Prune: opt.Prune})
	if err != nil {
		return graph.WriteResult{}, fmt.Errorf("apply manifest %s: %w", m.File, err)
	}
	return res, nil
}
