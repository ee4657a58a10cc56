// Package edge stores what edge collectors release into the operations side of a twin: it
// consumes the EDGE stream (sectwin.edge.<twin>.<site>.<pipeline>.<event|aggregate>), checks each
// message's privacy manifest, and writes it as an EdgeEvent or EdgeAggregate node linked to the
// Zone, Service, Host or DataStore it describes. A message is acknowledged only after Neo4j has
// committed it; one without a complete manifest, or for a twin that does not exist, is
// dead-lettered at once.
package edge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/bus"
)

// Store is what the worker needs from Neo4j.
type Store interface {
	WriteEdgeReleases(ctx context.Context, twin string, rs []graph.EdgeRelease) (graph.EdgeWriteResult, error)
}

// Worker handles EDGE messages.
type Worker struct {
	Graph Store
	Log   zerolog.Logger
	Now   func() time.Time
}

// Aggregate is the JSON document of an aggregate release.
type Aggregate struct {
	Metric      string            `json:"metric"`
	Partition   map[string]string `json:"partition"`
	WindowStart time.Time         `json:"window_start"`
	WindowEnd   time.Time         `json:"window_end"`
	Value       float64           `json:"value"`
	Suppressed  bool              `json:"suppressed,omitempty"`
}

// PartitionKey is an aggregate partition as one stable string: its fields sorted, k=v joined by
// commas.
func PartitionKey(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + p[k])
	}
	return b.String()
}

// Handle implements bus.Handler.
func (w *Worker) Handle(ctx context.Context, msg jetstream.Msg) error {
	twin, r, err := w.Decode(msg.Subject(), msg.Headers(), msg.Data())
	if err != nil {
		return fmt.Errorf("%w: %w", bus.ErrPermanent, err)
	}
	res, err := w.Graph.WriteEdgeReleases(ctx, twin, []graph.EdgeRelease{r})
	if errors.Is(err, graph.ErrTwinNotFound) || errors.Is(err, graph.ErrBadEdgeRelease) {
		return fmt.Errorf("%w: %w", bus.ErrPermanent, err)
	}
	if err != nil {
		return err
	}
	if res.Unlinked > 0 {
		w.Log.Warn().Str("twin", twin).Str("site", r.Site).Str("pipeline", r.Pipeline).
			Str("link", r.Link.String()).Msg("edge release names an element the twin does not have; stored unlinked")
	}
	return nil
}

// Decode turns one EDGE message into the twin it belongs to and the release to store.
func (w *Worker) Decode(subject string, h map[string][]string, data []byte) (string, graph.EdgeRelease, error) {
	parts := strings.Split(subject, ".")
	if len(parts) != 6 || parts[0]+"."+parts[1] != bus.SubjectEdge {
		return "", graph.EdgeRelease{}, fmt.Errorf("subject %q is not %s.<twin>.<site>.<pipeline>.<kind>", subject, bus.SubjectEdge)
	}
	twin, site, pipeline, kind := parts[2], parts[3], parts[4], parts[5]
	m, err := audit.FromHeader(h)
	if err != nil {
		return "", graph.EdgeRelease{}, err
	}
	if m.Site != site || m.Pipeline != pipeline || m.Kind != kind {
		return "", graph.EdgeRelease{}, fmt.Errorf("privacy manifest (site %q, pipeline %q, kind %q) does not match subject %s", m.Site, m.Pipeline, m.Kind, subject)
	}
	if !json.Valid(data) {
		return "", graph.EdgeRelease{}, errors.New("the released document is not JSON")
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	r := graph.EdgeRelease{Kind: kind, Site: site, Pipeline: pipeline, ReceivedAt: now().UTC(), Data: string(data),
		Manifest: map[string]string{"configHash": m.ConfigHash, "keyId": m.KeyID, "mechanism": m.Mechanism,
			"epsilon": m.Epsilon, "delta": m.Delta, "guarantee": m.Guarantee, "ledgerEntry": m.LedgerEntry}}
	if label := first(h, audit.HeaderLinkLabel); label != "" {
		r.Link = &graph.NodeRef{Label: label, Key: first(h, audit.HeaderLinkKey)}
		if r.Link.Key == "" {
			return "", graph.EdgeRelease{}, fmt.Errorf("header %s without %s", audit.HeaderLinkLabel, audit.HeaderLinkKey)
		}
	}
	sum := sha256.New()
	switch kind {
	case audit.KindAggregate:
		var a Aggregate
		if err := json.Unmarshal(data, &a); err != nil {
			return "", graph.EdgeRelease{}, fmt.Errorf("aggregate: %w", err)
		}
		if a.Metric == "" || a.WindowStart.IsZero() || !a.WindowEnd.After(a.WindowStart) {
			return "", graph.EdgeRelease{}, errors.New("aggregate: metric, window_start and a later window_end are required")
		}
		r.Metric, r.Partition, r.WindowStart, r.WindowEnd, r.Value, r.Suppressed = a.Metric, PartitionKey(a.Partition), a.WindowStart, a.WindowEnd, a.Value, a.Suppressed
		// One release per site, pipeline, metric, partition and window: the natural key.
		fmt.Fprintf(sum, "%s\x00%s\x00%s\x00%s\x00%s", site, pipeline, r.Metric, r.Partition, r.WindowStart.UTC().Format(time.RFC3339Nano))
	default:
		// Events have no natural key: two equal minimised events are two events. The collector's
		// message id (its run and sequence) tells a redelivery from a second event.
		fmt.Fprintf(sum, "%s\x00%s\x00%s\x00", site, pipeline, first(h, "Nats-Msg-Id"))
		sum.Write(data)
	}
	r.ID = hex.EncodeToString(sum.Sum(nil)[:16])
	return twin, r, nil
}

func first(h map[string][]string, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}
