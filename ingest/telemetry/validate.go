package telemetry

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sectwin/sectwin/internal/auth"
)

// ErrMalformed is matched (errors.Is) by every error about a bad event or record: a worker
// dead-letters the input with the error's text as the reason and carries on.
var ErrMalformed = errors.New("malformed telemetry event")

// FieldError says which field of an event is wrong and why. It matches ErrMalformed. Field is
// a CloudEvents attribute ("id", "time", "sectwintwin"), a payload field ("data.port"), or, for
// an adapter, a field of the source record ("record.dest_port"). Reason never quotes a string
// value of the input, which may hold personal data.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return ErrMalformed.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns ErrMalformed.
func (e *FieldError) Unwrap() error { return ErrMalformed }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits on events.
const (
	// MaxEventBytes is the largest encoded event Decode accepts.
	MaxEventBytes = 64 << 10
	// MaxFieldBytes bounds every string attribute and payload field except Alert.Message.
	MaxFieldBytes = 1 << 10
	// MaxMessageBytes bounds Alert.Message.
	MaxMessageBytes = 4 << 10
	// MaxProtoBytes bounds Flow.Proto.
	MaxProtoBytes = 32
	// MaxPort is the largest Flow.Port.
	MaxPort = 65535
	// MaxFutureSkew is how far in the future an event's time may lie (clock skew).
	MaxFutureSkew = 24 * time.Hour
)

// Outcomes of an authentication attempt.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Severities of an alert, lowest first.
const (
	SeverityLow      = "LOW"
	SeverityMedium   = "MEDIUM"
	SeverityHigh     = "HIGH"
	SeverityCritical = "CRITICAL"
)

// Outcomes lists the outcomes of an Auth, in their canonical (lower) case.
func Outcomes() []string { return []string{OutcomeSuccess, OutcomeFailure} }

// Severities lists the severities of an Alert, lowest first, in their canonical (upper) case.
func Severities() []string {
	return []string{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
}

// Patterns the JSON Schemas in docs/telemetry share with Validate (a test keeps them equal).
const (
	// DigestPattern is a Deploy digest: sha256 or sha512, lower-case hex.
	DigestPattern = `^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`
	// TechniquePattern is a MITRE ATT&CK technique or sub-technique id.
	TechniquePattern = `^T[0-9]{4}(\.[0-9]{3})?$`
	// ProtoPattern is a Flow protocol in canonical (lower) case.
	ProtoPattern = `^[a-z0-9][a-z0-9._+-]*$`
	// LocationPattern is an Auth location, "lat,lon" in decimal degrees.
	LocationPattern = `^-?[0-9]{1,3}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?$`
	// TwinPattern is a twin name (the sectwintwin extension and the subject token).
	TwinPattern = `^[a-z0-9][a-z0-9_-]{0,62}$`
)

// Validate checks e with the current time as the clock; see ValidateAt.
func (e *Event) Validate() error { return e.ValidateAt(time.Now()) }

// ValidateAt checks e against the contract and normalises it in place: Alert.Severity to upper
// case, Auth.Outcome and Flow.Proto to lower case. now bounds Time: it must be after the Unix
// epoch and at most MaxFutureSkew after now. Every string must be valid UTF-8 without control
// characters (Alert.Message may hold tabs and newlines) and at most MaxFieldBytes long
// (MaxMessageBytes for Alert.Message); ID, Source and Subject may not start or end with white
// space, and Source must be a URI reference as Go's net/url writes it back. The error is a
// *FieldError naming the first bad field.
func (e *Event) ValidateAt(now time.Time) error {
	if err := checkAttr("id", e.ID, true); err != nil {
		return err
	}
	if err := checkSource(e.Source); err != nil {
		return err
	}
	if !auth.ValidTwinName(e.Twin) {
		return fieldErr("sectwintwin", "not a twin name (lower-case letters, digits, '-' and '_', at most 63)")
	}
	if err := checkAttr("subject", e.Subject, false); err != nil {
		return err
	}
	if e.Time.IsZero() {
		return fieldErr("time", "missing")
	}
	if !e.Time.After(time.Unix(0, 0)) {
		return fieldErr("time", "not after 1970-01-01")
	}
	if e.Time.After(now.Add(MaxFutureSkew)) {
		return fieldErr("time", "more than %v in the future", MaxFutureSkew)
	}
	if n := e.payloads(); n != 1 {
		return fieldErr("data", "%d payloads, want exactly one", n)
	}
	switch e.Kind {
	case KindFlow:
		if e.Flow == nil {
			return fieldErr("data", "kind flow without a flow payload")
		}
		return e.Flow.validate()
	case KindAuth:
		if e.Auth == nil {
			return fieldErr("data", "kind auth without an auth payload")
		}
		return e.Auth.validate()
	case KindAlert:
		if e.Alert == nil {
			return fieldErr("data", "kind alert without an alert payload")
		}
		return e.Alert.validate()
	case KindMetric:
		if e.Metric == nil {
			return fieldErr("data", "kind metric without a metric payload")
		}
		return e.Metric.validate()
	case KindDeploy:
		if e.Deploy == nil {
			return fieldErr("data", "kind deploy without a deploy payload")
		}
		return e.Deploy.validate()
	}
	return fieldErr("type", "unknown kind (want one of %s)", strings.Join(Kinds(), ", "))
}

// payloads counts the non-nil payloads.
func (e *Event) payloads() int {
	n := 0
	for _, p := range []bool{e.Flow != nil, e.Auth != nil, e.Alert != nil, e.Metric != nil, e.Deploy != nil} {
		if p {
			n++
		}
	}
	return n
}

// payload returns the payload its Kind names, or nil.
func (e *Event) payload() any {
	switch e.Kind {
	case KindFlow:
		return e.Flow
	case KindAuth:
		return e.Auth
	case KindAlert:
		return e.Alert
	case KindMetric:
		return e.Metric
	case KindDeploy:
		return e.Deploy
	}
	return nil
}

var (
	digestRE    = regexp.MustCompile(DigestPattern)
	techniqueRE = regexp.MustCompile(TechniquePattern)
	protoRE     = regexp.MustCompile(ProtoPattern)
	locationRE  = regexp.MustCompile(LocationPattern)
)

func (f *Flow) validate() error {
	if err := checkString("data.src", f.Src, MaxFieldBytes, true); err != nil {
		return err
	}
	if err := checkString("data.dst", f.Dst, MaxFieldBytes, true); err != nil {
		return err
	}
	if f.Port < 0 || f.Port > MaxPort {
		return fieldErr("data.port", "%d is out of range 0..%d", f.Port, MaxPort)
	}
	f.Proto = strings.ToLower(f.Proto)
	if err := checkString("data.proto", f.Proto, MaxProtoBytes, true); err != nil {
		return err
	}
	if !protoRE.MatchString(f.Proto) {
		return fieldErr("data.proto", "not a protocol name or number")
	}
	if f.Bytes < 0 {
		return fieldErr("data.bytes", "%d is negative", f.Bytes)
	}
	if f.Packets < 0 {
		return fieldErr("data.packets", "%d is negative", f.Packets)
	}
	if f.Count < 0 {
		return fieldErr("data.count", "%d is negative", f.Count)
	}
	return nil
}

func (a *Auth) validate() error {
	if err := checkString("data.principal", a.Principal, MaxFieldBytes, true); err != nil {
		return err
	}
	a.Outcome = strings.ToLower(a.Outcome)
	if a.Outcome != OutcomeSuccess && a.Outcome != OutcomeFailure {
		return fieldErr("data.outcome", "want success or failure")
	}
	for _, f := range []struct{ name, v string }{
		{"data.src", a.Src}, {"data.target", a.Target}, {"data.method", a.Method}, {"data.location", a.Location},
	} {
		if err := checkString(f.name, f.v, MaxFieldBytes, false); err != nil {
			return err
		}
	}
	if a.Location != "" {
		if !locationRE.MatchString(a.Location) {
			return fieldErr("data.location", `want "lat,lon" in decimal degrees`)
		}
		lat, lon, _ := strings.Cut(a.Location, ",")
		la, _ := strconv.ParseFloat(lat, 64)
		lo, _ := strconv.ParseFloat(lon, 64)
		if la < -90 || la > 90 || lo < -180 || lo > 180 {
			return fieldErr("data.location", "latitude or longitude out of range")
		}
	}
	return nil
}

func (a *Alert) validate() error {
	for _, f := range []struct{ name, v string }{
		{"data.source", a.Source}, {"data.rule", a.Rule}, {"data.entity", a.Entity},
	} {
		if err := checkString(f.name, f.v, MaxFieldBytes, true); err != nil {
			return err
		}
	}
	a.Severity = strings.ToUpper(a.Severity)
	switch a.Severity {
	case SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
	default:
		return fieldErr("data.severity", "want one of %s (any case)", strings.Join(Severities(), ", "))
	}
	if err := checkText("data.message", a.Message, MaxMessageBytes); err != nil {
		return err
	}
	if a.Technique != "" && !techniqueRE.MatchString(a.Technique) {
		return fieldErr("data.technique", "not an ATT&CK technique id (T1234 or T1234.001)")
	}
	return nil
}

func (m *Metric) validate() error {
	if err := checkString("data.entity", m.Entity, MaxFieldBytes, true); err != nil {
		return err
	}
	if err := checkString("data.name", m.Name, MaxFieldBytes, true); err != nil {
		return err
	}
	if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
		return fieldErr("data.value", "not a finite number")
	}
	return checkString("data.unit", m.Unit, MaxFieldBytes, false)
}

func (d *Deploy) validate() error {
	if err := checkString("data.service", d.Service, MaxFieldBytes, true); err != nil {
		return err
	}
	if !digestRE.MatchString(d.Digest) {
		return fieldErr("data.digest", "want sha256:<64 hex> or sha512:<128 hex>, lower case")
	}
	return checkString("data.host", d.Host, MaxFieldBytes, false)
}

// checkSource checks the source attribute: a URI reference that reads back as written.
func checkSource(s string) error {
	if err := checkAttr("source", s, true); err != nil {
		return err
	}
	if u, err := url.Parse(s); err != nil || u.String() != s {
		return fieldErr("source", "not a URI reference in canonical form")
	}
	return nil
}

// checkAttr checks a CloudEvents attribute: a string as checkString checks it, without leading
// or trailing white space (the CloudEvents SDK trims it, so it would not survive encoding).
func checkAttr(field, s string, required bool) error {
	if err := checkString(field, s, MaxFieldBytes, required); err != nil {
		return err
	}
	if strings.TrimSpace(s) != s {
		return fieldErr(field, "has leading or trailing white space")
	}
	return nil
}

// checkString checks an identifier-like string: valid UTF-8, no control characters, at most max
// bytes, and present when required.
func checkString(field, s string, max int, required bool) error {
	if s == "" {
		if required {
			return fieldErr(field, "missing or empty")
		}
		return nil
	}
	if len(s) > max {
		return fieldErr(field, "%d bytes, longer than %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return fieldErr(field, "not valid UTF-8")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fieldErr(field, "holds a control character")
	}
	return nil
}

// checkText checks free text: like checkString, optional, but tabs and newlines are allowed.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return fieldErr(field, "%d bytes, longer than %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return fieldErr(field, "not valid UTF-8")
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }) >= 0 {
		return fieldErr(field, "holds a control character")
	}
	return nil
}
