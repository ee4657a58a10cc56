package resolvers

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/resolvers/model"
)

// maxRows bounds the rows of one write mutation; bigger loads go through ingest.
const maxRows = 10000

// write applies a batch for the caller, then announces it on the change bus.
func (r *Resolver) write(ctx context.Context, twin string, b graph.Batch, op string) (*model.WriteResult, error) {
	p, err := principal(ctx, auth.ScopeWrite)
	if err != nil {
		return nil, err
	}
	if _, err := r.access(ctx, twin, auth.ScopeWrite); err != nil {
		return nil, err
	}
	if n := len(b.Nodes) + len(b.Edges) + len(b.DeleteEdges) + len(b.DeleteNodes); n > maxRows {
		return nil, gqlErr(ctx, CodeBadInput, fmt.Sprintf("%d rows in one mutation; at most %d (post bigger loads to the ingest webhook)", n, maxRows))
	}
	source := "graphql:" + p.TokenID
	res, err := r.Graph.Write(ctx, twin, b, graph.WriteOptions{Source: source})
	if err != nil {
		return nil, writeErr(ctx, twin, err)
	}
	r.announce(ctx, events.FromWrite(twin, op, source, res))
	return writeResult(twin, source, res, false), nil
}

// announce publishes a committed change. The write has happened either way, so a failure is
// logged, not returned: subscribers miss a live event, and the EVENTS stream is the record.
func (r *Resolver) announce(ctx context.Context, c events.Change) {
	if r.Changes == nil {
		return
	}
	if err := r.Changes.Publish(ctx, c); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("twin", c.Twin).Str("op", c.Op).Msg("change event not published")
	}
}

func writeResult(twin, source string, res graph.WriteResult, dry bool) *model.WriteResult {
	return &model.WriteResult{
		Twin: twin, Source: source, DryRun: dry,
		NodesCreated: res.NodesCreated, NodesUpdated: res.NodesUpdated, NodesDeleted: res.NodesDeleted,
		EdgesCreated: res.EdgesCreated, EdgesUpdated: res.EdgesUpdated, EdgesDeleted: res.EdgesDeleted,
	}
}

// upsert writes GraphQL input objects of one label: the key field becomes the key, every other
// field given becomes a property (null removes it).
func (r *Resolver) upsert(ctx context.Context, twin, label string, input []map[string]any) (*model.WriteResult, error) {
	k, _ := graph.KindOf(label)
	rows := make([]graph.NodeRow, len(input))
	for i, in := range input {
		props := make(map[string]any, len(in))
		key := ""
		for name, v := range in {
			if name == k.Key {
				key, _ = v.(string)
				continue
			}
			props[name] = v
		}
		rows[i] = graph.NodeRow{Label: label, Key: key, Props: props}
	}
	return r.write(ctx, twin, graph.Batch{Nodes: rows}, events.OpUpsert)
}

// labelOf maps a NodeType to its label: DATA_STORE → DataStore.
func labelOf(t model.NodeType) string {
	for _, l := range graph.Labels() {
		if strings.ReplaceAll(strings.ToUpper(l), "_", "") == strings.ReplaceAll(string(t), "_", "") {
			return l
		}
	}
	return string(t)
}

func refOf(in *model.NodeRefInput) graph.NodeRef {
	if in == nil {
		return graph.NodeRef{}
	}
	return graph.NodeRef{Label: labelOf(in.Type), Key: in.Key}
}

func edgeRows(edges []*model.EdgeInput) []graph.EdgeRow {
	rows := make([]graph.EdgeRow, len(edges))
	for i, e := range edges {
		rows[i] = graph.EdgeRow{Type: string(e.Type), From: refOf(e.From), To: refOf(e.To), Props: e.Properties}
	}
	return rows
}
