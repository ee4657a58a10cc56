package webhook_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sectwin/sectwin/ingest/webhook"
)

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"bomFormat":"CycloneDX"}`)
	ts, sig := webhook.Sign(secret, now, body)
	h := func(ts, sig string) http.Header {
		x := http.Header{}
		if ts != "" {
			x.Set(webhook.HeaderTimestamp, ts)
		}
		if sig != "" {
			x.Set(webhook.HeaderSignature, sig)
		}
		return x
	}
	oldTS, oldSig := webhook.Sign(secret, now.Add(-6*time.Minute), body)
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		secret []byte
		want   error
	}{
		{"valid", h(ts, sig), body, secret, nil},
		{"valid near the window's edge", h(webhook.Sign(secret, now.Add(-4*time.Minute), body)), body, secret, nil},
		{"no signature", h(ts, ""), body, secret, webhook.ErrNoSignature},
		{"other body", h(ts, sig), []byte(`{}`), secret, webhook.ErrBadSignature},
		{"other secret", h(ts, sig), body, []byte("guess"), webhook.ErrBadSignature},
		{"stale", h(oldTS, oldSig), body, secret, webhook.ErrStale},
		{"future", h(webhook.Sign(secret, now.Add(10*time.Minute), body)), body, secret, webhook.ErrStale},
		{"timestamp moved", h("1800000001", sig), body, secret, webhook.ErrBadSignature},
		{"bad timestamp", h("yesterday", sig), body, secret, webhook.ErrBadSignature},
		{"no prefix", h(ts, sig[len("sha256="):]), body, secret, webhook.ErrBadSignature},
		{"not hex", h(ts, "sha256=zz"), body, secret, webhook.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.header, tt.body, now)
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}
