package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sectwin/sectwin/internal/bus"
)

const testSubject = "sectwin.ingest.test"

// testSpec is a consumer spec with fast retries.
func testSpec(maxDeliver int) bus.ConsumerSpec {
	return bus.ConsumerSpec{
		Stream:        bus.StreamIngest,
		Durable:       "test",
		FilterSubject: testSubject,
		MaxDeliver:    maxDeliver,
		Backoff:       []time.Duration{10 * time.Millisecond},
	}
}

// publishTest publishes one message with an application header and a message ID.
func publishTest(t *testing.T, b *bus.Bus) {
	t.Helper()
	msg := nats.NewMsg(testSubject)
	msg.Data = []byte("payload")
	msg.Header.Set("X-Trace", "trace-1")
	if _, err := b.JetStream().PublishMsg(t.Context(), msg, jetstream.WithMsgID("msg-1")); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func consumerInfo(t *testing.T, b *bus.Bus, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := b.JetStream().Consumer(t.Context(), bus.StreamIngest, durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func dlqMsg(t *testing.T, b *bus.Bus) *jetstream.RawStreamMsg {
	t.Helper()
	s, err := b.JetStream().Stream(t.Context(), bus.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(t.Context(), bus.DLQSubject(testSubject))
	if err != nil {
		t.Fatalf("DLQ message: %v", err)
	}
	return m
}

func TestConsumeDeliveryRule(t *testing.T) {
	const maxDeliver = 3
	errBoom := errors.New("boom\nsecond line")
	tests := []struct {
		name      string
		handle    func(call int) error
		wantCalls int
		wantDLQ   string // substring of the DLQ error header; "" means no dead letter
	}{
		{"success", func(int) error { return nil }, 1, ""},
		{"fails twice then succeeds", func(call int) error {
			if call <= 2 {
				return errBoom
			}
			return nil
		}, 3, ""},
		{"always fails", func(int) error { return errBoom }, maxDeliver, "boom second line"},
		{"permanent", func(int) error { return fmt.Errorf("bad input: %w", bus.ErrPermanent) }, 1, "bad input: permanent failure"},
		{"panics", func(int) error { panic("kaboom") }, maxDeliver, "handler panic: kaboom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := openBus(t, bus.Config{})
			var calls atomic.Int32
			stop, err := b.Consume(t.Context(), testSpec(maxDeliver), func(_ context.Context, msg jetstream.Msg) error {
				if string(msg.Data()) != "payload" {
					t.Errorf("handler got %q", msg.Data())
				}
				return tc.handle(int(calls.Add(1)))
			})
			if err != nil {
				t.Fatalf("Consume: %v", err)
			}
			defer stop()
			publishTest(t, b)

			eventually(t, "INGEST to be empty", func() bool { return streamMsgs(t, b, bus.StreamIngest) == 0 })
			if tc.wantDLQ != "" {
				eventually(t, "dead letter", func() bool { return streamMsgs(t, b, bus.StreamDLQ) == 1 })
			}
			time.Sleep(50 * time.Millisecond) // room for unwanted redeliveries
			if got := int(calls.Load()); got != tc.wantCalls {
				t.Errorf("handler called %d times, want %d", got, tc.wantCalls)
			}
			if info := consumerInfo(t, b, "test"); info.NumAckPending != 0 || info.NumPending != 0 {
				t.Errorf("consumer has %d ack pending, %d pending", info.NumAckPending, info.NumPending)
			}

			if tc.wantDLQ == "" {
				if n := streamMsgs(t, b, bus.StreamDLQ); n != 0 {
					t.Fatalf("DLQ has %d messages, want 0", n)
				}
				return
			}
			m := dlqMsg(t, b)
			if string(m.Data) != "payload" {
				t.Errorf("DLQ data = %q", m.Data)
			}
			wantHeaders := map[string]string{
				bus.HeaderDLQSubject:    testSubject,
				bus.HeaderDLQStream:     bus.StreamIngest,
				bus.HeaderDLQStreamSeq:  "1",
				bus.HeaderDLQConsumer:   "test",
				bus.HeaderDLQDeliveries: strconv.Itoa(tc.wantCalls),
				bus.HeaderDLQMsgID:      "msg-1",
				"X-Trace":               "trace-1",
			}
			for k, want := range wantHeaders {
				if got := m.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if got := m.Header.Get(bus.HeaderDLQError); !strings.Contains(got, tc.wantDLQ) {
				t.Errorf("header %s = %q, want it to contain %q", bus.HeaderDLQError, got, tc.wantDLQ)
			}
			if got := m.Header.Get(jetstream.MsgIDHeader); got == "msg-1" {
				t.Errorf("original Nats-Msg-Id copied to the dead letter")
			}
		})
	}
}

// TestDeadLetterFailureKeepsMessage removes the DLQ stream so that
// dead-lettering fails: the message must stay in INGEST, without further
// handler calls, and reach the DLQ once the stream is back.
func TestDeadLetterFailureKeepsMessage(t *testing.T) {
	const maxDeliver = 2
	b := openBus(t, bus.Config{})
	if err := b.JetStream().DeleteStream(t.Context(), bus.StreamDLQ); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	stop, err := b.Consume(t.Context(), testSpec(maxDeliver), func(context.Context, jetstream.Msg) error {
		calls.Add(1)
		return errors.New("boom")
	})
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	defer stop()
	publishTest(t, b)

	// maxDeliver handler attempts, then repeated failed dead-letter attempts.
	eventually(t, "failed dead-letter attempts", func() bool {
		return consumerInfo(t, b, "test").Delivered.Consumer >= maxDeliver+2
	})
	if n := streamMsgs(t, b, bus.StreamIngest); n != 1 {
		t.Fatalf("INGEST has %d messages while the DLQ is missing, want 1", n)
	}
	if got := calls.Load(); got != maxDeliver {
		t.Fatalf("handler called %d times, want %d", got, maxDeliver)
	}

	if err := b.EnsureStreams(t.Context()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "INGEST to be empty", func() bool { return streamMsgs(t, b, bus.StreamIngest) == 0 })
	eventually(t, "dead letter", func() bool { return streamMsgs(t, b, bus.StreamDLQ) == 1 })
	m := dlqMsg(t, b)
	if got := m.Header.Get(bus.HeaderDLQError); !strings.Contains(got, "limit is 2") {
		t.Errorf("DLQ error header = %q", got)
	}
	if got := calls.Load(); got != maxDeliver {
		t.Fatalf("handler called %d times, want %d", got, maxDeliver)
	}
}

func TestStopWaitsForInFlightHandler(t *testing.T) {
	b := openBus(t, bus.Config{})
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	stop, err := b.Consume(t.Context(), testSpec(3), func(context.Context, jetstream.Msg) error {
		once.Do(func() { close(started) })
		<-release
		return nil
	})
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	publishTest(t, b)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("handler not called")
	}

	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("stop returned while the handler was running")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not return after the handler finished")
	}
	stop() // idempotent
	eventually(t, "INGEST to be empty", func() bool { return streamMsgs(t, b, bus.StreamIngest) == 0 })
}

// TestInProgressHeartbeat runs a handler for several AckWaits next to an idle
// second worker: without in-progress signals the server would redeliver the
// message to the idle worker.
func TestInProgressHeartbeat(t *testing.T) {
	b := openBus(t, bus.Config{})
	spec := testSpec(3)
	// Long enough that a loaded CI machine (race detector, parallel packages) still sends
	// the in-progress signals, every AckWait/3, in time.
	spec.AckWait = time.Second
	var calls atomic.Int32
	handler := func(context.Context, jetstream.Msg) error {
		calls.Add(1)
		time.Sleep(3 * spec.AckWait)
		return nil
	}
	for range 2 {
		stop, err := b.Consume(t.Context(), spec, handler)
		if err != nil {
			t.Fatalf("Consume: %v", err)
		}
		defer stop()
	}
	publishTest(t, b)
	eventually(t, "INGEST to be empty", func() bool { return streamMsgs(t, b, bus.StreamIngest) == 0 })
	if got := calls.Load(); got != 1 {
		t.Fatalf("handler called %d times, want 1", got)
	}
	if n := consumerInfo(t, b, "test").NumRedelivered; n != 0 {
		t.Fatalf("%d redeliveries, want 0", n)
	}
}

// TestShutdownFailureNotDeadLettered cancels the consumer's context while the
// handler runs its only allowed attempt: the resulting failure must hand the
// message back, not dead-letter it.
func TestShutdownFailureNotDeadLettered(t *testing.T) {
	b := openBus(t, bus.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var calls atomic.Int32
	stop, err := b.Consume(ctx, testSpec(1), func(ctx context.Context, _ jetstream.Msg) error {
		calls.Add(1)
		cancel()
		return ctx.Err()
	})
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	publishTest(t, b)
	eventually(t, "handler call", func() bool { return calls.Load() == 1 })
	stop() // returns after the message was settled: a dead letter would be stored by now
	if n := streamMsgs(t, b, bus.StreamDLQ); n != 0 {
		t.Errorf("DLQ has %d messages, want 0", n)
	}
	if n := streamMsgs(t, b, bus.StreamIngest); n != 1 {
		t.Errorf("INGEST has %d messages, want 1", n)
	}
}

func TestCloseStopsConsumers(t *testing.T) {
	b := openBus(t, bus.Config{})
	if _, err := b.Consume(t.Context(), testSpec(3), func(context.Context, jetstream.Msg) error { return nil }); err != nil {
		t.Fatalf("Consume: %v", err)
	}
	if err := b.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := b.Consume(t.Context(), testSpec(3), func(context.Context, jetstream.Msg) error { return nil }); err == nil {
		t.Fatal("Consume after Close succeeded")
	}
}

func TestConsumeSpecErrors(t *testing.T) {
	b := openBus(t, bus.Config{})
	ok := func(context.Context, jetstream.Msg) error { return nil }
	tests := []struct {
		name    string
		spec    bus.ConsumerSpec
		handler bus.Handler
	}{
		{"nil handler", testSpec(3), nil},
		{"no stream", bus.ConsumerSpec{Durable: "d"}, ok},
		{"no durable", bus.ConsumerSpec{Stream: bus.StreamIngest}, ok},
		{"negative max deliver", bus.ConsumerSpec{Stream: bus.StreamIngest, Durable: "d", MaxDeliver: -1}, ok},
		{"negative backoff", bus.ConsumerSpec{Stream: bus.StreamIngest, Durable: "d", Backoff: []time.Duration{-1}}, ok},
		{"unknown stream", bus.ConsumerSpec{Stream: "NOPE", Durable: "d"}, ok},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if stop, err := b.Consume(t.Context(), tc.spec, tc.handler); err == nil {
				stop()
				t.Fatal("Consume succeeded")
			}
		})
	}
}

func TestDLQSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sectwin.ingest.scan", "sectwin.dlq.sectwin.ingest.scan"},
		{"sectwin.events.asset.changed", "sectwin.dlq.sectwin.events.asset.changed"},
	}
	for _, tc := range tests {
		if got := bus.DLQSubject(tc.in); got != tc.want {
			t.Errorf("DLQSubject(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
