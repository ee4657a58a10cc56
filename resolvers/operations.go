package resolvers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/resolvers/model"
)

// AlertBus delivers new alerts and anomalies.
type AlertBus interface {
	SubscribeAlerts(ctx context.Context, twin string) (<-chan events.AlertsRaised, error)
	SubscribeAnomalies(ctx context.Context, twin string) (<-chan events.AnomaliesDetected, error)
}

// opsSource tells the change events of the operations twin: telemetry windows, anomalies and
// playbook actions.
func opsSource(source string) bool {
	return source == "telemetry" || source == "anomaly" || strings.HasPrefix(source, "playbook:")
}

// opsAccess checks that the caller may read the whole twin: live state spans all of it.
func (r *Resolver) opsAccess(ctx context.Context, twin string) error {
	a, err := r.access(ctx, twin, auth.ScopeRead)
	if err != nil {
		return err
	}
	if !a.full {
		return gqlErr(ctx, CodeForbidden, fmt.Sprintf("the operations twin needs access to the whole twin %q; shared subgraphs are not enough", twin))
	}
	return nil
}

// sinceArg defaults a since: argument to the last 24 hours.
func sinceArg(since *time.Time) time.Time {
	if since == nil {
		return time.Now().Add(-24 * time.Hour)
	}
	return *since
}

// twinOf finds the twin argument of the query field an object hangs from.
func (r *Resolver) twinOf(ctx context.Context) string {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if t, ok := fc.Args["twin"].(string); ok {
			return t
		}
	}
	return ""
}

func connectionEnd(n graph.NodeRef, twin string) *model.ConnectionEnd {
	e := &model.ConnectionEnd{Label: n.Label, Name: n.Key}
	if n.Label == graph.LabelHost && twin != "" {
		id := graph.ID(n.Label, twin, n.Key)
		e.ID = &id
	}
	return e
}

// readEach delivers, for every announcement from in, the objects read reads for it, until ctx
// ends; an announcement whose read fails is skipped (the objects stay readable by query).
func readEach[A, T any](ctx context.Context, in <-chan A, read func(A) ([]T, error)) <-chan *T {
	out := make(chan *T, 16)
	go func() {
		defer close(out)
		for a := range in {
			list, err := read(a)
			if err != nil {
				continue
			}
			for i := range list {
				select {
				case out <- &list[i]:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// visibleChanges delivers the changes from in that keep selects, as the caller may see them.
// Access is checked again per event with a fresh cache: grants can be revoked and twins deleted
// while a subscription lives, which ends it.
func (r *Resolver) visibleChanges(ctx context.Context, twin string, in <-chan events.Change, keep func(events.Change) bool) <-chan *model.TwinChange {
	out := make(chan *model.TwinChange, 1)
	go func() {
		defer close(out)
		for c := range in {
			if !keep(c) {
				continue
			}
			a, err := r.access(r.WithRequestState(ctx), twin, auth.ScopeRead)
			if err != nil {
				return
			}
			tc := changeFor(a, c)
			if tc == nil {
				continue
			}
			select {
			case out <- tc:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
