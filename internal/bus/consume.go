package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// ErrPermanent marks a handler error that retrying cannot fix. A handler
// returning an error that wraps it (errors.Is) has its message dead-lettered
// at once.
var ErrPermanent = errors.New("permanent failure")

// ErrClosed is returned by [Bus.Consume] after [Bus.Close] was called.
var ErrClosed = errors.New("bus closed")

// Handler processes one message. Returning nil acknowledges it; an error
// retries or dead-letters it (see the package documentation). Handlers must
// not ack, nak or term the message themselves.
type Handler func(ctx context.Context, msg jetstream.Msg) error

// Consumer defaults, applied to zero fields of [ConsumerSpec].
const (
	DefaultAckWait    = 2 * time.Minute
	DefaultMaxDeliver = 5
)

// DefaultBackoff returns the default retry delays, one per failed attempt.
func DefaultBackoff() []time.Duration {
	return []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute}
}

const (
	dlqPublishTimeout = 10 * time.Second
	maxErrorHeaderLen = 1024
	fetchRetryDelay   = time.Second
)

// ConsumerSpec describes a durable pull consumer and its retry policy.
type ConsumerSpec struct {
	Stream        string // stream name, e.g. StreamIngest; required
	Durable       string // durable consumer name; required
	FilterSubject string // optional subject filter
	// AckWait is how long the server waits for an ack before redelivering.
	// Running handlers extend it with in-progress signals every AckWait/3.
	// Default DefaultAckWait.
	AckWait time.Duration
	// MaxDeliver is the number of handler attempts before a message is
	// dead-lettered. Default DefaultMaxDeliver.
	MaxDeliver int
	// Backoff holds the delay before retry n (n = 1, 2, ...); the last entry
	// is used for all later retries. Default DefaultBackoff().
	Backoff []time.Duration
	// MaxAckPending limits unacknowledged messages across all workers of the
	// consumer. 0 uses the server default.
	MaxAckPending int
}

func (s ConsumerSpec) withDefaults() (ConsumerSpec, error) {
	switch {
	case s.Stream == "":
		return s, errors.New("consumer spec: stream is required")
	case s.Durable == "":
		return s, errors.New("consumer spec: durable name is required")
	case s.AckWait < 0 || s.MaxDeliver < 0 || s.MaxAckPending < 0:
		return s, errors.New("consumer spec: AckWait, MaxDeliver and MaxAckPending must not be negative")
	}
	if s.AckWait == 0 {
		s.AckWait = DefaultAckWait
	}
	if s.MaxDeliver == 0 {
		s.MaxDeliver = DefaultMaxDeliver
	}
	if len(s.Backoff) == 0 {
		s.Backoff = DefaultBackoff()
	}
	s.Backoff = slices.Clone(s.Backoff)
	for _, d := range s.Backoff {
		if d < 0 {
			return s, errors.New("consumer spec: backoff delays must not be negative")
		}
	}
	return s, nil
}

// backoff returns the delay after failed attempt n (1-based).
func (s ConsumerSpec) backoff(n uint64) time.Duration {
	i := min(max(n, 1), uint64(len(s.Backoff))) - 1
	return s.Backoff[i]
}

// Consume creates or updates the durable pull consumer spec describes and
// starts a worker that passes its messages to h one at a time, following the
// delivery rules in the package documentation. h receives ctx; cancelling ctx
// also stops the worker.
//
// The returned stop function stops fetching and waits for the in-flight
// handler to finish; it does not cancel the handler's context. It is safe to
// call more than once. [Bus.Close] stops all workers.
func (b *Bus) Consume(ctx context.Context, spec ConsumerSpec, h Handler) (stop func(), err error) {
	if h == nil {
		return nil, errors.New("consume: nil handler")
	}
	if spec, err = spec.withDefaults(); err != nil {
		return nil, err
	}
	cons, err := b.js.CreateOrUpdateConsumer(ctx, spec.Stream, jetstream.ConsumerConfig{
		Durable:       spec.Durable,
		FilterSubject: spec.FilterSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       spec.AckWait,
		// The worker enforces spec.MaxDeliver itself, so that a message whose
		// dead-lettering failed is delivered again instead of being stranded.
		MaxDeliver:    -1,
		MaxAckPending: spec.MaxAckPending,
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s on stream %s: %w", spec.Durable, spec.Stream, err)
	}
	// One message at a time: nothing is prefetched while a handler runs. A short pull expiry
	// bounds how long a redelivery can wait when a pull request and a delayed nak cross: under
	// load (go test -race on 2 cores) the default 30 s expiry was seen to stall a retry for >10 s.
	iter, err := cons.Messages(jetstream.PullMaxMessages(1), jetstream.PullExpiry(2*time.Second))
	if err != nil {
		return nil, fmt.Errorf("consume %s on stream %s: %w", spec.Durable, spec.Stream, err)
	}

	loopCtx, cancel := context.WithCancel(ctx)
	w := &worker{
		bus:    b,
		spec:   spec,
		h:      h,
		iter:   iter,
		cancel: cancel,
		done:   make(chan struct{}),
		log: b.log.With().
			Str("stream", spec.Stream).
			Str("consumer", spec.Durable).
			Logger(),
	}
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		cancel()
		iter.Stop()
		return nil, ErrClosed
	}
	b.workers[w] = struct{}{}
	b.mu.Unlock()

	go w.run(ctx, loopCtx)
	return w.stop, nil
}

// worker processes the messages of one consumer sequentially.
type worker struct {
	bus    *Bus
	spec   ConsumerSpec
	h      Handler
	iter   jetstream.MessagesContext
	cancel context.CancelFunc // ends the fetch loop
	done   chan struct{}      // closed when run returns
	log    zerolog.Logger
}

func (w *worker) stop() {
	w.cancel()
	<-w.done
}

func (w *worker) run(ctx, loopCtx context.Context) {
	defer func() {
		w.iter.Stop()
		w.bus.mu.Lock()
		delete(w.bus.workers, w)
		w.bus.mu.Unlock()
		close(w.done)
	}()
	for loopCtx.Err() == nil {
		msg, err := w.iter.Next(jetstream.NextContext(loopCtx))
		switch {
		case loopCtx.Err() != nil:
			if msg != nil {
				_ = msg.Nak() // stopping: hand it to another worker now
			}
			return
		case errors.Is(err, jetstream.ErrMsgIteratorClosed):
			w.log.Warn().Err(err).Msg("consumer stopped: message iterator closed")
			return
		case err != nil:
			w.log.Warn().Err(err).Msg("fetch next message")
			select {
			case <-loopCtx.Done():
			case <-time.After(fetchRetryDelay):
			}
			continue
		}
		w.process(ctx, msg)
	}
}

// process applies the delivery rule to one message.
func (w *worker) process(ctx context.Context, msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		w.log.Error().Err(err).Str("subject", msg.Subject()).Msg("message without JetStream metadata; left for redelivery")
		return
	}
	log := w.log.With().
		Str("subject", msg.Subject()).
		Uint64("stream_seq", md.Sequence.Stream).
		Uint64("delivery", md.NumDelivered).
		Logger()

	limit := uint64(w.spec.MaxDeliver)
	var herr error
	if md.NumDelivered > limit {
		herr = fmt.Errorf("%w: delivered %d times, limit is %d (an earlier attempt did not finish or could not be dead-lettered)",
			ErrPermanent, md.NumDelivered, limit)
	} else {
		herr = w.handle(ctx, msg)
	}

	switch {
	case herr == nil:
		if err := msg.Ack(); err != nil {
			log.Warn().Err(err).Msg("ack failed; message will be redelivered")
		}

	case ctx.Err() != nil && !errors.Is(herr, ErrPermanent):
		// Shutting down: the failure is likely the cancellation itself, so
		// hand the message back at once instead of dead-lettering it.
		_ = msg.Nak()
		log.Info().Err(herr).Msg("handler interrupted by shutdown; message returned")

	case errors.Is(herr, ErrPermanent) || md.NumDelivered >= limit:
		if err := w.deadLetter(ctx, msg, md, herr); err != nil {
			delay := w.spec.backoff(md.NumDelivered)
			log.Error().Err(err).AnErr("handler_error", herr).Dur("retry_in", delay).
				Msg("dead-lettering failed; message kept for redelivery")
			_ = msg.NakWithDelay(delay)
			return
		}
		if err := msg.TermWithReason("dead-lettered"); err != nil {
			// The DLQ copy is deduplicated if the message comes back.
			log.Warn().Err(err).Msg("term after dead-lettering failed")
		}
		log.Warn().Err(herr).Str("dlq_subject", DLQSubject(msg.Subject())).Msg("message dead-lettered")

	default:
		delay := w.spec.backoff(md.NumDelivered)
		log.Warn().Err(herr).Dur("retry_in", delay).Msg("handler failed; will retry")
		_ = msg.NakWithDelay(delay)
	}
}

// handle runs the handler, sending in-progress signals while it runs and
// turning a panic into an error.
func (w *worker) handle(ctx context.Context, msg jetstream.Msg) (err error) {
	stopBeat, beatDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(beatDone)
		t := time.NewTicker(max(w.spec.AckWait/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stopBeat:
				return
			case <-t.C:
				if err := msg.InProgress(); err != nil {
					w.log.Debug().Err(err).Msg("in-progress signal failed")
				}
			}
		}
	}()
	defer func() {
		close(stopBeat)
		<-beatDone
	}()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return w.h(ctx, msg)
}

// deadLetter publishes msg to its DLQ subject (see Bus.DeadLetter).
func (w *worker) deadLetter(ctx context.Context, msg jetstream.Msg, md *jetstream.MsgMetadata, cause error) error {
	return w.bus.deadLetter(ctx, msg, md, cause)
}

// DeadLetter publishes a message a consumer gives up on to its DLQ subject, with the reason and
// where it came from in headers, and waits for the DLQ stream to store it. For consumers that
// do not use Consume (batch consumers); the caller acknowledges the message afterwards.
func (b *Bus) DeadLetter(ctx context.Context, msg jetstream.Msg, cause error) error {
	md, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("dead-letter: %w", err)
	}
	return b.deadLetter(ctx, msg, md, cause)
}

// deadLetter publishes msg to its DLQ subject and waits for the DLQ stream to
// store it. The message ID makes a repeated dead-lettering of the same
// delivery (e.g. after a lost term) a duplicate.
func (b *Bus) deadLetter(ctx context.Context, msg jetstream.Msg, md *jetstream.MsgMetadata, cause error) error {
	out := nats.NewMsg(DLQSubject(msg.Subject()))
	out.Data = msg.Data()
	for k, v := range msg.Headers() {
		if !strings.HasPrefix(strings.ToLower(k), "nats-") {
			out.Header[k] = slices.Clone(v)
		}
	}
	if id := msg.Headers().Get(jetstream.MsgIDHeader); id != "" {
		out.Header.Set(HeaderDLQMsgID, id)
	}
	out.Header.Set(HeaderDLQSubject, msg.Subject())
	out.Header.Set(HeaderDLQStream, md.Stream)
	out.Header.Set(HeaderDLQStreamSeq, strconv.FormatUint(md.Sequence.Stream, 10))
	out.Header.Set(HeaderDLQConsumer, md.Consumer)
	out.Header.Set(HeaderDLQDeliveries, strconv.FormatUint(md.NumDelivered, 10))
	out.Header.Set(HeaderDLQError, headerValue(cause.Error()))

	// Dead-letter even while shutting down.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dlqPublishTimeout)
	defer cancel()
	_, err := b.js.PublishMsg(ctx, out,
		jetstream.WithMsgID(fmt.Sprintf("%s.%s.%d", md.Stream, md.Consumer, md.Sequence.Stream)),
		jetstream.WithExpectStream(StreamDLQ))
	if err != nil {
		return fmt.Errorf("publish to %s: %w", out.Subject, err)
	}
	return nil
}

// headerValue makes s a single-line header value of bounded length.
func headerValue(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	if len(s) > maxErrorHeaderLen {
		s = strings.ToValidUTF8(s[:maxErrorHeaderLen], "") + "..."
	}
	return s
}
