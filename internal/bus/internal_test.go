package bus

import (
	"strings"
	"testing"
	"time"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://s3cret@host:4222", "nats://redacted@host:4222"},
		{"nats://user:pa@ss@host:4222", "nats://redacted@host:4222"},
		{"s3cret@host:4222", "redacted@host:4222"},
		{"nats://a:1, nats://tok@b:2", "nats://a:1,nats://redacted@b:2"},
	}
	for _, tc := range tests {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	spec, err := ConsumerSpec{Stream: "S", Durable: "d"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		attempt uint64
		want    time.Duration
	}{
		{0, time.Second},
		{1, time.Second},
		{2, 5 * time.Second},
		{4, 2 * time.Minute},
		{9, 2 * time.Minute},
	}
	for _, tc := range tests {
		if got := spec.backoff(tc.attempt); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
	if spec.AckWait != DefaultAckWait || spec.MaxDeliver != DefaultMaxDeliver {
		t.Errorf("defaults not applied: %+v", spec)
	}
}

func TestHeaderValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\nb\r\nc", "a b c"},
		{strings.Repeat("x", 2000), strings.Repeat("x", maxErrorHeaderLen) + "..."},
		{strings.Repeat("x", maxErrorHeaderLen-1) + "é", strings.Repeat("x", maxErrorHeaderLen-1) + "..."},
	}
	for _, tc := range tests {
		if got := headerValue(tc.in); got != tc.want {
			t.Errorf("headerValue(%.20q...) = %.20q..., want %.20q...", tc.in, got, tc.want)
		}
	}
}
