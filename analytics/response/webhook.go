package response

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The headers of a signed webhook: the scheme ingest/webhook verifies.
//
//	X-Sectwin-Timestamp: <unix seconds>
//	X-Sectwin-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>
//	X-Sectwin-Delivery: <the action id, the same on every retry>
const (
	HeaderSignature = "X-Sectwin-Signature"
	HeaderTimestamp = "X-Sectwin-Timestamp"
	HeaderDelivery  = "X-Sectwin-Delivery"
)

// DefaultWebhookTimeout bounds a webhook request when WebhookPoster.Client is nil.
const DefaultWebhookTimeout = 10 * time.Second

// WebhookPoster POSTs webhook actions signed with HMAC-SHA256. It implements Executor's
// Webhook method: the server's Executor can embed it. Redirects are not followed (a signed
// request goes where the playbook says, or nowhere). A 2xx answer succeeds; 408, 429 and 5xx
// answers and transport errors are retried; any other answer is a permanent failure.
type WebhookPoster struct {
	// Client sends the requests (nil: one with DefaultWebhookTimeout). Its CheckRedirect is
	// replaced.
	Client *http.Client
	// Now is the clock of the timestamp header (default time.Now).
	Now func() time.Time
}

// Webhook POSTs w.Body to w.URL, signed.
func (p *WebhookPoster) Webhook(ctx context.Context, w Webhook) error {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	client := http.Client{Timeout: DefaultWebhookTimeout}
	if p.Client != nil {
		client = *p.Client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	target := redactURL(w.URL)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(w.Body))
	if err != nil {
		return fmt.Errorf("webhook %s: cannot build the request: %w", target, ErrPermanent)
	}
	ts, sig := sign(w.Secret.Bytes(), now(), w.Body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sectwin-response")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set(HeaderDelivery, w.ActionID)
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, query and all
		}
		return fmt.Errorf("webhook %s: %w", target, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("webhook %s: answered %s", target, resp.Status)
	default:
		return fmt.Errorf("webhook %s: answered %s: %w", target, resp.Status, ErrPermanent)
	}
}

// sign returns the timestamp and signature headers for body at ts: the scheme of
// ingest/webhook's Sign, repeated here so that this package does not import the ingest server
// (and with it the graph store); a test holds the two together.
func sign(secret []byte, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return timestamp, "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
