package bus

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Subject roots. Stream subjects are these roots followed by ".>".
const (
	SubjectIngest    = "sectwin.ingest" // incoming data, consumed from the INGEST work queue
	SubjectDLQPrefix = "sectwin.dlq"    // dead letters: sectwin.dlq.<original subject>
	SubjectEvents    = "sectwin.events" // change events for subscriptions and telemetry
	// SubjectEdge carries what edge collectors release:
	// sectwin.edge.<twin>.<site>.<pipeline>.<event|aggregate>, consumed from the EDGE work queue.
	SubjectEdge = "sectwin.edge"
	// SubjectTelemetry carries the operations twin's telemetry: telemetry.<twin>.<kind>
	// (ingest/telemetry), kept for replay.
	SubjectTelemetry = "telemetry"
)

// Stream names.
const (
	StreamIngest    = "INGEST"
	StreamDLQ       = "DLQ"
	StreamEvents    = "EVENTS"
	StreamEdge      = "EDGE"
	StreamTelemetry = "TELEMETRY"
)

// Stream limits.
const (
	IngestDedupWindow = 5 * time.Minute
	MaxIngestMsgSize  = 32 << 20 // 32 MiB
	DLQMaxAge         = 30 * 24 * time.Hour
	EventsMaxAge      = 7 * 24 * time.Hour
	EdgeDedupWindow   = 2 * time.Minute
	MaxEdgeMsgSize    = 1 << 20 // 1 MiB: one minimised record or one window's aggregate
	// TelemetryMaxAge is how long raw telemetry stays in JetStream: replaying it rebuilds the
	// operations twin's live state.
	TelemetryMaxAge      = 7 * 24 * time.Hour
	TelemetryDedupWindow = 2 * time.Minute
	MaxTelemetryMsgSize  = 64 << 10 // 64 KiB: one event
)

// Headers set on dead-lettered messages. The original headers are kept,
// except the Nats-* ones that steer JetStream publishing.
const (
	HeaderDLQSubject    = "Sectwin-Dlq-Subject"    // original subject
	HeaderDLQStream     = "Sectwin-Dlq-Stream"     // original stream
	HeaderDLQStreamSeq  = "Sectwin-Dlq-Stream-Seq" // sequence in the original stream
	HeaderDLQConsumer   = "Sectwin-Dlq-Consumer"   // consumer that gave up
	HeaderDLQDeliveries = "Sectwin-Dlq-Deliveries" // number of deliveries so far
	HeaderDLQError      = "Sectwin-Dlq-Error"      // last error text (one line, truncated)
	HeaderDLQMsgID      = "Sectwin-Dlq-Msg-Id"     // original Nats-Msg-Id, if any
)

// DLQSubject returns the subject a message from subject orig is dead-lettered
// to: "sectwin.dlq.<orig>".
func DLQSubject(orig string) string {
	return SubjectDLQPrefix + "." + orig
}

// Streams returns the configuration of every stream sectwin uses. It returns
// a new slice on each call.
func Streams() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name:        StreamIngest,
			Description: "sectwin ingest work queue",
			Subjects:    []string{SubjectIngest + ".>"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Duplicates:  IngestDedupWindow,
			MaxMsgSize:  MaxIngestMsgSize,
		},
		{
			Name:        StreamDLQ,
			Description: "sectwin dead letters",
			Subjects:    []string{SubjectDLQPrefix + ".>"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			MaxAge:      DLQMaxAge,
		},
		{
			Name:        StreamEvents,
			Description: "sectwin change events",
			Subjects:    []string{SubjectEvents + ".>"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			MaxAge:      EventsMaxAge,
		},
		{
			Name:        StreamEdge,
			Description: "sectwin edge collector releases",
			Subjects:    []string{SubjectEdge + ".>"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Duplicates:  EdgeDedupWindow,
			MaxMsgSize:  MaxEdgeMsgSize,
		},
		{
			Name:        StreamTelemetry,
			Description: "sectwin operations telemetry (CloudEvents), kept for replay",
			Subjects:    []string{SubjectTelemetry + ".>"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			MaxAge:      TelemetryMaxAge,
			Duplicates:  TelemetryDedupWindow,
			MaxMsgSize:  MaxTelemetryMsgSize,
		},
	}
}
