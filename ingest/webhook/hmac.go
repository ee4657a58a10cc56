package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HMAC signatures for CI systems that cannot hold a bearer token:
//
//	X-Sectwin-Timestamp: <unix seconds>
//	X-Sectwin-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>
//
// The timestamp must be within ReplayWindow of the server's clock, so a captured request cannot
// be replayed later; within the window, replaying it posts the same document again, which
// ingest deduplicates.
const (
	HeaderSignature = "X-Sectwin-Signature"
	HeaderTimestamp = "X-Sectwin-Timestamp"
	ReplayWindow    = 5 * time.Minute
)

// Signature errors; all answer 401.
var (
	ErrNoSignature  = errors.New("no " + HeaderSignature + " header")
	ErrBadSignature = errors.New("signature does not match: sign \"<timestamp>.<body>\" with HMAC-SHA256 and the shared secret")
	ErrStale        = errors.New("timestamp outside the replay window of " + ReplayWindow.String() + "; check the client's clock")
)

// Sign returns the signature header value for body at ts with secret.
func Sign(secret []byte, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return timestamp, "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a request's signature over body at now.
func Verify(secret []byte, h http.Header, body []byte, now time.Time) error {
	sig := h.Get(HeaderSignature)
	if sig == "" {
		return ErrNoSignature
	}
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q is not unix seconds: %w", HeaderTimestamp, ts, ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > ReplayWindow || d < -ReplayWindow {
		return ErrStale
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return fmt.Errorf("%s must start with sha256=: %w", HeaderSignature, ErrBadSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrBadSignature
	}
	_, want := Sign(secret, time.Unix(sec, 0), body)
	wantRaw, _ := hex.DecodeString(strings.TrimPrefix(want, "sha256="))
	if !hmac.Equal(got, wantRaw) {
		return ErrBadSignature
	}
	return nil
}
