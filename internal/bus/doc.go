// Package bus owns sectwin's messaging: the NATS connection, the JetStream
// streams and consumers, and the subject names. No other package creates NATS
// connections or JetStream resources.
//
// # Connection
//
// [Open] either connects to an external NATS server ([Config.URL] set) or runs
// an embedded nats-server with JetStream in the process. The embedded server
// listens on 127.0.0.1 only, or not at all (Port 0, in-process connection
// only), and always requires an auth token. When no token is configured, a
// random one is generated on first start and kept in <StoreDir>/token with
// mode 0600, so that it survives restarts and local tools can read it. Tokens
// are never logged.
//
// # Streams and subjects
//
// [Streams] returns the stream configurations that [Open] creates or updates:
//
//   - INGEST (sectwin.ingest.>): work queue of incoming data. Each message is
//     removed once a consumer acknowledges or dead-letters it. Publishes are
//     deduplicated by their Nats-Msg-Id header within a 5 minute window, and
//     messages may be up to 32 MiB (the embedded server's max payload is raised
//     accordingly; an external server must allow it too).
//   - DLQ (sectwin.dlq.>): dead letters, kept 30 days. A message that failed on
//     subject S is stored on [DLQSubject](S), that is "sectwin.dlq.S", with
//     headers describing the failure (see [HeaderDLQSubject] and the other
//     HeaderDLQ constants).
//   - EVENTS (sectwin.events.>): change events for GraphQL subscriptions and
//     telemetry fan-out, kept 7 days.
//
// # Delivery rules
//
// [Bus.Consume] runs a worker on a durable pull consumer with explicit acks and
// applies one delivery rule, so that no message is ever acknowledged and then
// dropped:
//
//  1. A message is acknowledged only after the handler returns nil.
//  2. While the handler runs, the worker sends an in-progress signal every
//     AckWait/3, so long handlers are not redelivered to another worker.
//  3. When the handler fails, the message is negatively acknowledged with a
//     delay taken from [ConsumerSpec.Backoff] (one entry per attempt, the last
//     entry repeating) and is retried.
//  4. When attempt MaxDeliver fails, or the handler returns an error wrapping
//     [ErrPermanent], the message is published to the DLQ stream. Only after
//     that publish is confirmed is the original terminated. If the DLQ publish
//     fails, the message is left for redelivery and dead-lettering is tried
//     again on the next delivery.
//  5. A message delivered more than MaxDeliver times (an earlier attempt crashed
//     or could not be dead-lettered) is dead-lettered without calling the
//     handler again.
//  6. When the context given to Consume is cancelled and the handler fails
//     with a non-permanent error, the message is handed back at once (Nak)
//     rather than retried with delay or dead-lettered.
//
// The attempt limit is enforced by the worker: the server-side consumer has no
// MaxDeliver limit, because a server that stops delivering a message after
// MaxDeliver would leave it stuck when dead-lettering failed. Delivery is at
// least once; handlers must be idempotent and must not ack, nak or term the
// message themselves. A panic in a handler is recovered and treated as a
// failure.
package bus
