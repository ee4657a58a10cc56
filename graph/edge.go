package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// Labels of what edge collectors release into a twin's operations side.
const (
	LabelEdgeEvent     = "EdgeEvent"     // one minimised, pseudonymised record
	LabelEdgeAggregate = "EdgeAggregate" // one DP release of a window and partition
)

// ErrBadEdgeRelease marks a release the twin cannot store as it is.
var ErrBadEdgeRelease = errors.New("bad edge release")

// EdgeLinkLabels are the twin elements a release may describe.
var EdgeLinkLabels = []string{LabelZone, LabelService, LabelHost, LabelDataStore}

// EdgeRelease is one message an edge collector released, as the twin keeps it: a node keyed by
// the content hash of the message, carrying its privacy manifest, linked (DESCRIBES) to the twin
// element it is about when that element exists.
type EdgeRelease struct {
	ID         string // content hash: the same release stored twice is one node
	Kind       string // event or aggregate
	Site       string
	Pipeline   string
	ReceivedAt time.Time
	Data       string // the released JSON document, as it arrived
	// Aggregates: the window and partition released, the metric, its noisy value, whether the
	// partition was suppressed.
	Metric      string
	Partition   string
	WindowStart time.Time
	WindowEnd   time.Time
	Value       float64
	Suppressed  bool
	Manifest    map[string]string // privacy manifest: configHash, keyId, mechanism, epsilon, delta, guarantee, ledgerEntry
	Link        *NodeRef          // the element described, if any
}

// EdgeWriteResult counts what WriteEdgeReleases did.
type EdgeWriteResult struct {
	Created, Linked, Unlinked int // Unlinked: a link named an element the twin does not have
}

// WriteEdgeReleases stores releases of one twin in one transaction (UNWIND batches per label).
// Storing a release again changes nothing.
func (db *DB) WriteEdgeReleases(ctx context.Context, twin string, rs []EdgeRelease) (EdgeWriteResult, error) {
	byLabel := map[string][]map[string]any{}
	for _, r := range rs {
		label := LabelEdgeEvent
		if r.Kind == "aggregate" {
			label = LabelEdgeAggregate
		}
		row := map[string]any{"id": r.ID, "props": map[string]any{
			"site": r.Site, "pipeline": r.Pipeline, "receivedAt": r.ReceivedAt.UTC(), "data": r.Data,
			"configHash": r.Manifest["configHash"], "keyId": r.Manifest["keyId"], "mechanism": r.Manifest["mechanism"],
			"epsilon": r.Manifest["epsilon"], "delta": r.Manifest["delta"], "guarantee": r.Manifest["guarantee"],
			"ledgerEntry": r.Manifest["ledgerEntry"],
		}}
		if label == LabelEdgeAggregate {
			props := row["props"].(map[string]any)
			props["metric"], props["partition"], props["value"], props["suppressed"] = r.Metric, r.Partition, r.Value, r.Suppressed
			props["windowStart"], props["windowEnd"] = r.WindowStart.UTC(), r.WindowEnd.UTC()
		}
		if r.Link != nil {
			if !slices.Contains(EdgeLinkLabels, r.Link.Label) {
				return EdgeWriteResult{}, fmt.Errorf("%w: an edge release cannot describe a %s", ErrBadEdgeRelease, r.Link.Label)
			}
			row["linkLabel"], row["linkKey"] = r.Link.Label, r.Link.Key
		}
		byLabel[label] = append(byLabel[label], row)
	}
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		var res EdgeWriteResult
		rec, err := single(ctx, tx, `OPTIONAL MATCH (t:Twin {name: $twin}) RETURN t IS NOT NULL`, map[string]any{"twin": twin})
		if err != nil {
			return nil, err
		}
		if rec.Values[0] != true {
			return nil, fmt.Errorf("%w: %s", ErrTwinNotFound, twin)
		}
		for label, rows := range byLabel {
			for chunk := range slices.Chunk(rows, chunkSize) {
				cypher := fmt.Sprintf(`UNWIND $rows AS row
MERGE (n:%s {twin: $twin, id: row.id})
ON CREATE SET n += row.props, n.created = true
WITH n, row, coalesce(n.created, false) AS created
REMOVE n.created
RETURN count(CASE WHEN created THEN 1 END)`, label)
				rec, err := single(ctx, tx, cypher, map[string]any{"twin": twin, "rows": chunk})
				if err != nil {
					return nil, err
				}
				res.Created += int(rec.Values[0].(int64))
				for _, target := range EdgeLinkLabels {
					k, _ := KindOf(target)
					var links []map[string]any
					for _, r := range chunk {
						if r["linkLabel"] == target {
							links = append(links, map[string]any{"id": r["id"], "key": r["linkKey"]})
						}
					}
					if len(links) == 0 {
						continue
					}
					rec, err := single(ctx, tx, fmt.Sprintf(`UNWIND $links AS l
MATCH (n:%s {twin: $twin, id: l.id})
OPTIONAL MATCH (t:%s {twin: $twin, %s: l.key})
FOREACH (_ IN CASE WHEN t IS NULL THEN [] ELSE [1] END | MERGE (n)-[:DESCRIBES]->(t))
RETURN count(t), count(*) - count(t)`, label, target, k.Key), map[string]any{"twin": twin, "links": links})
					if err != nil {
						return nil, err
					}
					res.Linked += int(rec.Values[0].(int64))
					res.Unlinked += int(rec.Values[1].(int64))
				}
			}
		}
		return res, nil
	})
	if err != nil {
		return EdgeWriteResult{}, fmt.Errorf("write edge releases of twin %s: %w", twin, err)
	}
	return out.(EdgeWriteResult), nil
}

func single(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any) (*neo4j.Record, error) {
	res, err := tx.Run(ctx, cypher, params)
	if err != nil {
		return nil, err
	}
	return res.Single(ctx)
}
