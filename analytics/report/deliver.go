package report

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Target kinds.
const (
	KindFolder  = "folder"  // write a file into Path
	KindWebhook = "webhook" // POST to URL, signed with Secret
	KindNATS    = "nats"    // publish the JSON report to Subject
)

// Target is where a report goes.
type Target struct {
	Kind    string `json:"kind"`
	Path    string `json:"path,omitempty"`    // folder
	URL     string `json:"url,omitempty"`     // webhook
	Secret  Secret `json:"secret,omitempty"`  // webhook: the HMAC key
	Subject string `json:"subject,omitempty"` // nats
}

// String describes the target without secrets: a webhook URL loses its user information and
// its query, which often carry tokens.
func (t Target) String() string {
	switch t.Kind {
	case KindFolder:
		return "folder " + t.Path
	case KindWebhook:
		return "webhook " + redactURL(t.URL)
	case KindNATS:
		return "nats " + t.Subject
	}
	return "target of kind " + strconv.Quote(t.Kind)
}

// redactURL returns raw without user information, query or fragment.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.RawQuery != ""
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	if q {
		return u.String() + "?[redacted]"
	}
	return u.String()
}

// Secret is a string that never prints: String, fmt's verbs and JSON show "[redacted]". Store
// or use its value with Reveal.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value; call it where the value is used, never to log it.
func (s Secret) Reveal() string { return string(s) }

// String redacts the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts the value for %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Format redacts the value for every fmt verb.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprint(f, strconv.Quote(s.String()))
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalJSON redacts the value, so a logged or dumped Target shows no secret. A store that
// must keep the secret writes Reveal() itself.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// Publisher publishes one message; the caller adapts its NATS connection to it. Return an error
// wrapping ErrPermanent for failures a retry cannot fix (e.g. a payload over the server's
// limit); every other error is retried.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte, headers map[string]string) error
}

// Webhook headers. The timestamp and signature are those sectwin's ingest webhook verifies:
// HMAC-SHA256 of "<timestamp>." + body, hex, prefixed "sha256=".
const (
	HeaderTimestamp = "X-Sectwin-Timestamp"
	HeaderSignature = "X-Sectwin-Signature"
	HeaderReportID  = "X-Sectwin-Report-Id"
	HeaderTwin      = "X-Sectwin-Twin"
)

// NATS message headers.
const (
	NATSHeaderReportID = "Sectwin-Report-Id"
	NATSHeaderTwin     = "Sectwin-Twin"
	NATSHeaderSchedule = "Sectwin-Schedule"
	// NATSHeaderMsgID lets a JetStream stream that captures the subject drop a retried
	// duplicate; core NATS ignores it.
	NATSHeaderMsgID = "Nats-Msg-Id"
)

// Delivery errors.
var (
	// ErrPermanent marks a failure that retrying cannot fix; Deliver does not retry it.
	ErrPermanent = errors.New("permanent delivery failure")
	// ErrRetriesExhausted is wrapped, with the last failure, once every attempt failed.
	ErrRetriesExhausted = errors.New("retries exhausted")
	// ErrUnsafeName refuses a twin or report id that would escape a folder target.
	ErrUnsafeName = errors.New("unsafe file name")
	// ErrNoPublisher is returned for a NATS target when the Deliverer has no Publisher.
	ErrNoPublisher = errors.New("no NATS publisher configured")
)

// StatusError is a webhook's non-2xx answer.
type StatusError struct {
	StatusCode int
	Status     string
	Body       string // the start of the response body, one line
}

// Error gives the status and the start of the body.
func (e *StatusError) Error() string {
	if e.Body == "" {
		return "answered " + e.Status
	}
	return "answered " + e.Status + ": " + e.Body
}

// Retryable reports a status worth retrying: 408, 429 and 5xx.
func (e *StatusError) Retryable() bool {
	return e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// RetryOptions bound the attempts at one delivery. Zero fields take the defaults.
type RetryOptions struct {
	Attempts   int           // in all, first included; default 3
	Backoff    time.Duration // before the 2nd attempt, doubling after; default 1s
	MaxBackoff time.Duration // cap on one wait; default 30s
}

// Retry defaults.
const (
	DefaultAttempts   = 3
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = 30 * time.Second
	// DefaultHTTPTimeout bounds one webhook attempt when NewDeliverer gets no client.
	DefaultHTTPTimeout = 30 * time.Second
)

// DeliveryResult is the outcome of one delivery.
type DeliveryResult struct {
	Target      string    `json:"target"` // Target.String(); for a folder, the file written
	Format      Format    `json:"format"`
	Attempts    int       `json:"attempts"`
	Err         string    `json:"error,omitempty"`
	DeliveredAt time.Time `json:"deliveredAt,omitzero"`
	// Cause is the error behind Err, for errors.Is and errors.As.
	Cause error `json:"-"`
}

// OK reports a successful delivery.
func (r DeliveryResult) OK() bool { return r.Cause == nil && r.Err == "" }

// Deliverer delivers rendered reports to targets. It is safe for concurrent use.
type Deliverer struct {
	client *http.Client
	pub    Publisher
	log    zerolog.Logger
	retry  RetryOptions
	now    func() time.Time
}

// NewDeliverer returns a Deliverer posting webhooks with client (nil: a client with
// DefaultHTTPTimeout) and publishing NATS targets with pub (nil: NATS targets fail).
func NewDeliverer(client *http.Client, pub Publisher, log zerolog.Logger, opts RetryOptions) *Deliverer {
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.Backoff)
	return &Deliverer{client: client, pub: pub, log: log.With().Str("component", "report-delivery").Logger(), retry: opts, now: time.Now}
}

// Deliver sends body, r rendered in format, to t:
//   - folder: writes <twin>-<timestamp>-<id>.<ext> atomically, mode 0644, creating the folder;
//   - webhook: POSTs body, signed, retrying 408, 429, 5xx and transport errors with backoff;
//   - nats: publishes r as JSON whatever format is, retrying the same way.
//
// It never returns early on a failure: the result says what happened.
func (d *Deliverer) Deliver(ctx context.Context, t Target, r *Report, body []byte, format Format) DeliveryResult {
	res := DeliveryResult{Target: t.String(), Format: format}
	var err error
	switch {
	case r == nil:
		err = fmt.Errorf("%w: nil report", ErrPermanent)
	default:
		if err = t.Validate(); err != nil {
			err = fmt.Errorf("%w: %w", ErrPermanent, err)
			break
		}
		switch t.Kind {
		case KindFolder:
			var file string
			res.Attempts = 1
			if file, err = writeReport(t.Path, r, body, format); err == nil {
				res.Target = "folder " + file
			}
		case KindWebhook:
			err = d.withRetry(ctx, &res, func(ctx context.Context) (time.Duration, error) {
				return d.post(ctx, t, r, body, format)
			})
		case KindNATS:
			res.Format = JSON
			err = d.publish(ctx, &res, t, r, body, format)
		}
	}
	if err != nil {
		res.Err, res.Cause = err.Error(), err
		d.log.Error().Err(err).Str("target", res.Target).Str("report", r.safeID()).Int("attempts", res.Attempts).Msg("report not delivered")
		return res
	}
	res.DeliveredAt = d.now().UTC()
	d.log.Info().Str("target", res.Target).Str("report", r.safeID()).Str("format", string(res.Format)).Int("attempts", res.Attempts).Msg("report delivered")
	return res
}

func (r *Report) safeID() string {
	if r == nil {
		return ""
	}
	return r.ID
}

// ErrNoFormats is the result of a folder or webhook target given no format to deliver.
var ErrNoFormats = errors.New("no report format to deliver")

// DeliverAll renders r once per format needed and delivers it to every target: folders and
// webhooks get one delivery per format, NATS subjects one JSON message. Targets are served
// concurrently, each target's formats in order; the results follow targets, then formats. A
// nil rd uses a fresh Renderer.
func (d *Deliverer) DeliverAll(ctx context.Context, rd *Renderer, r *Report, formats []Format, targets []Target) []DeliveryResult {
	type job struct {
		t      Target
		format Format
	}
	var jobs [][]job
	for _, t := range targets {
		var js []job
		if t.Kind == KindNATS {
			js = append(js, job{t, JSON})
		} else {
			for _, f := range formats {
				js = append(js, job{t, f})
			}
			if len(formats) == 0 {
				js = append(js, job{t, ""}) // reported as ErrNoFormats
			}
		}
		jobs = append(jobs, js)
	}
	bodies := map[Format][]byte{}
	renderErr := map[Format]error{"": fmt.Errorf("%w: %w", ErrPermanent, ErrNoFormats)}
	if rd == nil {
		var err error
		if rd, err = NewRenderer(); err != nil {
			for _, f := range Formats() {
				renderErr[f] = fmt.Errorf("%w: %w", ErrPermanent, err)
			}
		}
	}
	for _, js := range jobs {
		for _, j := range js {
			if _, done := bodies[j.format]; done || renderErr[j.format] != nil {
				continue
			}
			b, err := rd.Bytes(r, j.format)
			if err != nil {
				renderErr[j.format] = fmt.Errorf("%w: %w", ErrPermanent, err)
				continue
			}
			bodies[j.format] = b
		}
	}
	results := make([][]DeliveryResult, len(jobs))
	var wg sync.WaitGroup
	for i, js := range jobs {
		wg.Go(func() {
			for _, j := range js {
				if err := renderErr[j.format]; err != nil {
					results[i] = append(results[i], DeliveryResult{Target: j.t.String(), Format: j.format, Err: err.Error(), Cause: err})
					continue
				}
				results[i] = append(results[i], d.Deliver(ctx, j.t, r, bodies[j.format], j.format))
			}
		})
	}
	wg.Wait()
	var out []DeliveryResult
	for _, rs := range results {
		out = append(out, rs...)
	}
	return out
}

// withRetry runs attempt until it succeeds, fails permanently, ctx ends or the attempts run
// out, waiting an exponential backoff (or longer, if the server asked with Retry-After)
// between attempts.
func (d *Deliverer) withRetry(ctx context.Context, res *DeliveryResult, attempt func(context.Context) (time.Duration, error)) error {
	var last error
	for i := 1; i <= d.retry.Attempts; i++ {
		res.Attempts = i
		retryAfter, err := attempt(ctx)
		if err == nil {
			return nil
		}
		last = err
		if errors.Is(err, ErrPermanent) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (after %d attempts; last: %w)", context.Cause(ctx), i, err)
		}
		if i == d.retry.Attempts {
			break
		}
		wait := min(max(d.backoff(i), retryAfter), d.retry.MaxBackoff)
		d.log.Warn().Err(err).Str("target", res.Target).Int("attempt", i).Dur("retry_in", wait).Msg("report delivery failed; retrying")
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %d attempts; last: %w)", context.Cause(ctx), i, err)
		case <-t.C:
		}
	}
	return fmt.Errorf("%w after %d attempts: %w", ErrRetriesExhausted, res.Attempts, last)
}

// backoff is the wait after attempt i (from 1): Backoff doubled i-1 times, capped.
func (d *Deliverer) backoff(i int) time.Duration {
	b := d.retry.Backoff
	for range i - 1 {
		if b >= d.retry.MaxBackoff {
			return d.retry.MaxBackoff
		}
		b *= 2
	}
	return min(b, d.retry.MaxBackoff)
}

// sign returns the webhook headers' timestamp and signature of body at ts: the scheme of
// ingest/webhook.Sign, repeated here so that this package does not link the ingest server
// (and the graph store behind it); TestSignMatchesIngest keeps the two equal.
func sign(secret []byte, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return timestamp, "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// post makes one webhook attempt; it returns how long the server asked to wait, if it did.
func (d *Deliverer) post(ctx context.Context, t Target, r *Report, body []byte, format Format) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: cannot post to %s", ErrPermanent, redactURL(t.URL))
	}
	ts, sig := sign([]byte(t.Secret.Reveal()), d.now(), body)
	req.Header.Set("Content-Type", format.ContentType())
	req.Header.Set("User-Agent", "sectwin-report")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set(HeaderReportID, r.ID)
	req.Header.Set(HeaderTwin, r.Twin)
	resp, err := d.client.Do(req)
	if err != nil {
		// url.Error prints the whole URL, query included: keep its cause, not the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = &url.Error{Op: ue.Op, URL: redactURL(t.URL), Err: ue.Err}
		}
		return 0, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
		resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	se := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(oneLine(string(snippet)))}
	if !se.Retryable() {
		return 0, fmt.Errorf("%w: %w", ErrPermanent, se)
	}
	return retryAfter(resp.Header.Get("Retry-After"), d.now()), se
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// publish sends r as JSON to t.Subject, re-encoding it unless body already is JSON.
func (d *Deliverer) publish(ctx context.Context, res *DeliveryResult, t Target, r *Report, body []byte, format Format) error {
	if d.pub == nil {
		return fmt.Errorf("%w: %w", ErrPermanent, ErrNoPublisher)
	}
	if format != JSON {
		var err error
		if body, err = encodeJSON(r); err != nil {
			return fmt.Errorf("%w: %w", ErrPermanent, err)
		}
	}
	headers := map[string]string{
		NATSHeaderReportID: r.ID,
		NATSHeaderTwin:     r.Twin,
		NATSHeaderSchedule: r.Schedule,
		NATSHeaderMsgID:    r.ID + ":" + t.Subject,
		"Content-Type":     JSON.ContentType(),
	}
	return d.withRetry(ctx, res, func(ctx context.Context) (time.Duration, error) {
		return 0, d.pub.Publish(ctx, t.Subject, body, headers)
	})
}

// writeReport writes body into dir as FileName(...), atomically: a temporary file in dir,
// synced, renamed over the name, then the folder synced. It returns the file's path.
func writeReport(dir string, r *Report, body []byte, format Format) (path string, err error) {
	name, err := FileName(r.Twin, r.ID, r.GeneratedAt, format)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create report folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", fmt.Errorf("open report folder: %w", err)
	}
	defer root.Close()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := "." + name + "." + hex.EncodeToString(rnd[:]) + ".tmp"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Join(dir, tmp), err)
	}
	defer func() {
		if err != nil {
			_ = root.Remove(tmp)
		}
	}()
	if _, err = f.Write(body); err == nil {
		if err = f.Chmod(0o644); err == nil { // whatever the umask
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", filepath.Join(dir, tmp), err)
	}
	if err = root.Rename(tmp, name); err != nil {
		return "", fmt.Errorf("rename report into %s: %w", filepath.Join(dir, name), err)
	}
	if df, derr := root.Open("."); derr == nil { // make the rename durable; best effort
		_ = df.Sync()
		_ = df.Close()
	}
	return filepath.Join(dir, name), nil
}

// maxNamePart bounds the twin and id parts of a file name, in bytes.
const maxNamePart = 64

// FileName returns the file name of a report: <twin>-<timestamp>-<id>.<ext>, the timestamp in
// UTC as 20060102T150405Z. A twin or id that is empty, "." or "..", or holds a path separator,
// ".." or a NUL is refused with ErrUnsafeName; other characters outside [A-Za-z0-9._-] become
// "_", and each part is cut to 64 bytes.
func FileName(twin, id string, at time.Time, format Format) (string, error) {
	if !format.valid() {
		return "", fmt.Errorf("file name: format %q: %w", format, ErrUnknownFormat)
	}
	t, err := namePart("twin", twin)
	if err != nil {
		return "", err
	}
	i, err := namePart("report id", id)
	if err != nil {
		return "", err
	}
	name := t + "-" + at.UTC().Format("20060102T150405Z") + "-" + i + "." + format.Ext()
	if !filepath.IsLocal(name) || filepath.Base(name) != name || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("file name %q: %w", name, ErrUnsafeName)
	}
	return name, nil
}

func namePart(what, s string) (string, error) {
	if s == "" || s == "." || strings.Contains(s, "..") || strings.ContainsAny(s, "/\\\x00") {
		return "", fmt.Errorf("%s %q: %w", what, s, ErrUnsafeName)
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > maxNamePart {
		b = b[:maxNamePart]
	}
	return string(b), nil
}
