package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sectwin/sectwin/edge/audit"
	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/ingest/telemetry"
)

// Telemetry sends releases to the operations twin as telemetry events (ingest/telemetry's
// CloudEvents on telemetry.<twin>.<kind>, the TELEMETRY stream the live-state worker consumes)
// instead of as EDGE releases. Each release is mapped by ToTelemetry from the released document
// alone, the same bytes an EDGE release carries, so nothing the transforms removed can come back;
// pseudonymised values stay the entity names. Every message carries the release's privacy
// manifest in headers, and its source and id as Nats-Msg-Id, so a retry is stored once.
type Telemetry struct {
	nats       *NATS
	twin, site string
	skipped    atomic.Int64
	published  atomic.Int64
}

// DialTelemetry connects a telemetry output for a collector's twin and site. cfg.Stream should
// be the TELEMETRY stream, which must exist (sectwin serve creates it).
func DialTelemetry(ctx context.Context, cfg NATSConfig, twin, site string) (*Telemetry, error) {
	n, err := DialNATS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Telemetry{nats: n, twin: twin, site: site}, nil
}

// Name implements Output.
func (t *Telemetry) Name() string { return t.nats.Name() }

// Send implements Output: it maps m to telemetry events and publishes each one. A release the
// contract has no kind for (a record of unknown shape, a suppressed aggregate) is taken and
// counted as skipped; one that cannot be mapped (a required field the pipeline dropped) is
// refused with an error matching telemetry.ErrMalformed.
func (t *Telemetry) Send(ctx context.Context, m Message) error {
	evs, err := ToTelemetry(m, t.twin, t.site, t.nats.nextID(), time.Now())
	if errors.Is(err, telemetry.ErrSkipped) {
		t.skipped.Add(1)
		return nil
	}
	if err != nil {
		return fmt.Errorf("telemetry output %s: %w", t.Name(), err)
	}
	for _, ev := range evs {
		data, err := telemetry.Encode(ev)
		if err != nil {
			return fmt.Errorf("telemetry output %s: %w", t.Name(), err)
		}
		msg := &nats.Msg{Subject: telemetry.Subject(ev.Twin, ev.Kind), Data: data, Header: m.Manifest.Header()}
		if err := t.nats.publish(ctx, msg, ev.Source+"/"+ev.ID); err != nil {
			return fmt.Errorf("telemetry output %s: %w", t.Name(), err)
		}
		t.published.Add(1)
	}
	return nil
}

// Counts returns the events published and the releases skipped so far.
func (t *Telemetry) Counts() (published, skipped int64) {
	return t.published.Load(), t.skipped.Load()
}

// Close implements Output: it drains the connection.
func (t *Telemetry) Close(ctx context.Context) error { return t.nats.Close(ctx) }

// TelemetrySource is the CloudEvents source of the events a site's pipeline sends:
// urn:sectwin:edge:<site>:<pipeline>.
func TelemetrySource(site, pipeline string) string {
	return "urn:sectwin:edge:" + site + ":" + pipeline
}

// ToTelemetry maps one release to telemetry events of twin. It reads only m.Data, the released
// document (decoded as edge/decode's json decoder reads it, nested objects flattened), with the
// adapter of the decoder that read the record (m.Decoder; telemetry's json adapter, which
// recognises every shape, for json and for aggregates):
//
//   - events keep every released string as it is: a pseudonym (k1:…), a prefix
//     (198.51.100.0/24) or a generalised time is what the event carries;
//   - an aggregate becomes a metric: name the DP metric, value the noisy release, entity the
//     partition as sorted k=v pairs, time the window's end; a suppressed one is skipped.
//
// Each event's source is TelemetrySource(site, pipeline) and its id is release and the event's
// index within it ("<release>-<i>"): two equal minimised records are two events, and a retried
// release keeps its ids. The events are validated at now. A release the contract has no kind
// for gives an error matching telemetry.ErrSkipped; one that cannot be mapped, an error
// matching telemetry.ErrMalformed.
func ToTelemetry(m Message, twin, site, release string, now time.Time) ([]telemetry.Event, error) {
	rec, err := decode.NewJSON(bytes.NewReader(m.Data), decode.Options{Now: func() time.Time { return now }}).Next(context.Background())
	if err != nil {
		return nil, &telemetry.FieldError{Field: "release", Reason: "not one JSON object"}
	}
	source := telemetry.SourceJSON
	if m.Manifest.Kind != audit.KindAggregate {
		if _, ok := telemetry.AdapterFor(m.Decoder); ok {
			source = m.Decoder
		}
	}
	ad, _ := telemetry.AdapterFor(source)
	evs, err := ad.Adapt(rec)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, &telemetry.SkipError{Reason: "no event"}
	}
	for i := range evs {
		evs[i].Twin, evs[i].Source, evs[i].ID = twin, TelemetrySource(site, m.Manifest.Pipeline), fmt.Sprintf("%s-%d", release, i)
		if err := evs[i].ValidateAt(now); err != nil {
			return nil, err
		}
	}
	return evs, nil
}
