package telemetry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// TwinExtension is the CloudEvents extension attribute that names the twin an event belongs to.
// CloudEvents extension names are lower-case letters and digits only.
const TwinExtension = "sectwintwin"

// ContentType is the datacontenttype of every telemetry event.
const ContentType = "application/json"

// typePrefix is EventType without its kind.
const typePrefix = "io.sectwin.telemetry."

// ErrBatchTooLarge: a batch holds more events or bytes than DecodeBatch was allowed. The caller
// should refuse the whole batch (HTTP 413) rather than store part of it.
var ErrBatchTooLarge = errors.New("telemetry batch too large")

// Decode parses one CloudEvents 1.0 event in structured JSON mode: specversion "1.0", id,
// source, type io.sectwin.telemetry.<kind>, time, optional subject, datacontenttype
// application/json (or absent), data holding the kind's payload, and the twin in the
// sectwintwin extension attribute (required here; see DecodeFor). Other extension attributes
// are ignored. The payload's required fields must be present and no unknown field may appear.
// The event is then checked with Validate. Every error matches ErrMalformed and is, or wraps, a
// *FieldError naming the field.
func Decode(data []byte) (Event, error) { return decodeEvent(data, "", "", time.Now()) }

// DecodeFor is Decode for an event received on the subject telemetry.<twin>.<kind>: the
// sectwintwin attribute may be left out (the subject's twin is used), and when present it must
// equal twin; the event's type must be of the subject's kind. An empty twin or kind is not
// checked.
func DecodeFor(twin, kind string, data []byte) (Event, error) {
	return decodeEvent(data, twin, kind, time.Now())
}

// decodeEvent tries the fast path (fastdecode.go), which accepts only what it reads exactly as
// the slow path does, and otherwise runs the slow path, which gives every error.
func decodeEvent(data []byte, twin, kind string, now time.Time) (Event, error) {
	if ev, ok := fastDecode(data, twin, kind, now); ok {
		return ev, nil
	}
	return decodeEventSlow(data, twin, kind, now)
}

// decodeEventSlow is the reference decoder: json.Valid, precheck, the CloudEvents SDK and
// setPayload, then ValidateAt.
func decodeEventSlow(data []byte, twin, kind string, now time.Time) (ev Event, err error) {
	if len(data) > MaxEventBytes {
		return Event{}, fieldErr("event", "%d bytes, larger than %d", len(data), MaxEventBytes)
	}
	trimmed := bytes.TrimSpace(data)
	if !json.Valid(trimmed) {
		return Event{}, fieldErr("event", "not valid JSON")
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Event{}, fieldErr("event", "not a JSON object")
	}
	if err := precheck(trimmed); err != nil {
		return Event{}, err
	}
	var ce event.Event
	if err := json.Unmarshal(trimmed, &ce); err != nil {
		// The SDK's messages quote the input; precheck has named the usual faults already.
		return Event{}, fieldErr("event", "not a CloudEvent")
	}
	if ce.Context == nil {
		return Event{}, fieldErr("specversion", "missing")
	}
	if v := ce.SpecVersion(); v != event.CloudEventsVersionV1 {
		return Event{}, fieldErr("specversion", "want 1.0")
	}
	if err := ce.Validate(); err != nil {
		var ve event.ValidationError
		if errors.As(err, &ve) && len(ve) > 0 {
			return Event{}, fieldErr(slices.Min(slices.Collect(maps.Keys(ve))), "invalid")
		}
		return Event{}, fieldErr("event", "not a valid CloudEvent")
	}
	k, ok := strings.CutPrefix(ce.Type(), typePrefix)
	if !ok || !isKind(k) {
		return Event{}, fieldErr("type", "want io.sectwin.telemetry.<kind> with kind one of %s", strings.Join(Kinds(), ", "))
	}
	if kind != "" && k != kind {
		return Event{}, fieldErr("type", "kind %s does not match the subject's kind %s", k, kind)
	}
	ev = Event{ID: ce.ID(), Source: ce.Source(), Time: ce.Time(), Kind: k, Subject: ce.Subject()}
	if ev.Time.IsZero() {
		return Event{}, fieldErr("time", "missing")
	}
	if ct := ce.DataContentType(); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != ContentType {
			return Event{}, fieldErr("datacontenttype", "want application/json")
		}
	}
	ev.Twin, err = twinOf(ce, twin)
	if err != nil {
		return Event{}, err
	}
	if ce.DataBase64 {
		return Event{}, fieldErr("data_base64", "the payload must be JSON in data")
	}
	if err := ev.setPayload(ce.Data()); err != nil {
		return Event{}, err
	}
	if err := ev.ValidateAt(now); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// precheck reads the context attributes before the SDK does, so that their faults are named
// without quoting the input.
func precheck(data []byte) error {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(data, &attrs); err != nil {
		return fieldErr("event", "not a JSON object")
	}
	str := func(name string, required bool) (string, error) {
		raw, ok := attrs[name]
		if !ok || bytes.Equal(raw, []byte("null")) {
			if required {
				return "", fieldErr(name, "missing")
			}
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fieldErr(name, "not a string")
		}
		return s, nil
	}
	v, err := str("specversion", true)
	if err != nil {
		return err
	}
	if v != event.CloudEventsVersionV1 {
		return fieldErr("specversion", "want 1.0")
	}
	for _, name := range []string{"id", "source", "type"} {
		if _, err := str(name, true); err != nil {
			return err
		}
	}
	if _, err := str("subject", false); err != nil {
		return err
	}
	if _, ok := attrs["data_base64"]; ok {
		return fieldErr("data_base64", "the payload must be JSON in data")
	}
	ct, err := str("datacontenttype", false)
	if err != nil {
		return err
	}
	if _, ok := attrs["datacontenttype"]; ok {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != ContentType {
			return fieldErr("datacontenttype", "want application/json")
		}
	}
	ts, err := str("time", true)
	if err != nil {
		return err
	}
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		return fieldErr("time", "not an RFC 3339 timestamp")
	}
	if raw, ok := attrs["data"]; !ok || bytes.Equal(raw, []byte("null")) {
		return fieldErr("data", "missing")
	}
	return nil
}

func isKind(k string) bool {
	for _, x := range Kinds() {
		if x == k {
			return true
		}
	}
	return false
}

// twinOf reads the twin extension and checks it against the subject's twin.
func twinOf(ce event.Event, subjectTwin string) (string, error) {
	v, ok := ce.Extensions()[TwinExtension]
	if !ok {
		if subjectTwin == "" {
			return "", fieldErr(TwinExtension, "missing (and no subject names the twin)")
		}
		return subjectTwin, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fieldErr(TwinExtension, "not a string")
	}
	if subjectTwin != "" && s != subjectTwin {
		return "", fieldErr(TwinExtension, "does not match the subject's twin")
	}
	return s, nil
}

// setPayload decodes data into the payload e.Kind names: an object with every required field
// (those without omitempty) present and not null, and no unknown field.
func (e *Event) setPayload(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return fieldErr("data", "missing")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fieldErr("data", "not a JSON object")
	}
	var p any
	switch e.Kind {
	case KindFlow:
		e.Flow = &Flow{}
		p = e.Flow
	case KindAuth:
		e.Auth = &Auth{}
		p = e.Auth
	case KindAlert:
		e.Alert = &Alert{}
		p = e.Alert
	case KindMetric:
		e.Metric = &Metric{}
		p = e.Metric
	case KindDeploy:
		e.Deploy = &Deploy{}
		p = e.Deploy
	}
	known := map[string]bool{}
	for _, f := range payloadFields(reflect.TypeOf(p).Elem()) {
		known[f.Name] = true
		raw, ok := fields[f.Name]
		if f.Required && (!ok || bytes.Equal(raw, []byte("null"))) {
			return fieldErr("data."+f.Name, "missing")
		}
	}
	for name := range fields {
		if !known[name] {
			return fieldErr("data", "unknown field (want only the %s fields of the contract)", e.Kind)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fieldErr("data."+te.Field, "want a JSON %s", jsonKind(te.Type))
		}
		return fieldErr("data", "cannot decode the %s payload", e.Kind)
	}
	return nil
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Float64:
		return "number"
	}
	return t.String()
}

// PayloadField describes one JSON field of a payload struct.
type PayloadField struct {
	Name     string // the JSON name
	Required bool   // no omitempty in its tag
	Kind     reflect.Kind
}

// PayloadFields lists the JSON fields of a kind's payload, in struct order, as its json tags
// declare them: what the JSON Schemas in docs/telemetry must list. It returns nil for an
// unknown kind.
func PayloadFields(kind string) []PayloadField {
	var t reflect.Type
	switch kind {
	case KindFlow:
		t = reflect.TypeFor[Flow]()
	case KindAuth:
		t = reflect.TypeFor[Auth]()
	case KindAlert:
		t = reflect.TypeFor[Alert]()
	case KindMetric:
		t = reflect.TypeFor[Metric]()
	case KindDeploy:
		t = reflect.TypeFor[Deploy]()
	default:
		return nil
	}
	return payloadFields(t)
}

func payloadFields(t reflect.Type) []PayloadField {
	var out []PayloadField
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, PayloadField{Name: name, Required: opts != "omitempty", Kind: f.Type.Kind()})
	}
	return out
}

// Encode writes e as a CloudEvents 1.0 structured JSON event: the envelope attributes, the
// twin in the sectwintwin extension, datacontenttype application/json and the payload as
// data. It validates (a normalised copy of) e first, so what it writes Decode accepts.
func Encode(e Event) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	ce := event.New(event.CloudEventsVersionV1)
	ce.SetID(e.ID)
	ce.SetSource(e.Source)
	ce.SetType(EventType(e.Kind))
	ce.SetTime(e.Time)
	if e.Subject != "" {
		ce.SetSubject(e.Subject)
	}
	ce.SetExtension(TwinExtension, e.Twin)
	if err := ce.SetData(ContentType, e.payload()); err != nil {
		return nil, fmt.Errorf("telemetry: encode %s payload: %w", e.Kind, err)
	}
	if err := ce.Validate(); err != nil {
		return nil, fmt.Errorf("telemetry: encode: %w", err)
	}
	b, err := json.Marshal(ce)
	if err != nil {
		return nil, fmt.Errorf("telemetry: encode: %w", err)
	}
	return b, nil
}

// BatchError is the error of one event in a batch. It wraps the event's error (which matches
// ErrMalformed).
type BatchError struct {
	// Index is the event's 0-based position: in a JSON array its element index, in JSON lines
	// its index among the non-blank lines.
	Index int
	Err   error
}

// Error implements error.
func (e *BatchError) Error() string { return fmt.Sprintf("event %d: %v", e.Index, e.Err) }

// Unwrap returns the event's error.
func (e *BatchError) Unwrap() error { return e.Err }

// DecodeBatch reads a batch of events as an HTTP endpoint receives it: a JSON array of events,
// or JSON lines (one event per line), told apart by the first non-blank byte. At most max
// events (and max·(MaxEventBytes+1) bytes) are read; a longer batch ends with
// ErrBatchTooLarge. Each event is decoded with Decode; a bad one gives a *BatchError with its
// index and reading goes on, so the good events and every bad one's reason come back
// together. The final error is ErrBatchTooLarge, a JSON array whose structure is broken (it
// matches ErrMalformed: the elements after the break cannot be found), or the reader's error.
func DecodeBatch(r io.Reader, max int) ([]Event, []*BatchError, error) {
	return decodeBatch(r, max, "", time.Now())
}

// DecodeBatchFor is DecodeBatch for an endpoint that serves one twin (named by its URL or its
// credentials): events may leave sectwintwin out, and one that names another twin is refused.
func DecodeBatchFor(twin string, r io.Reader, max int) ([]Event, []*BatchError, error) {
	return decodeBatch(r, max, twin, time.Now())
}

func decodeBatch(r io.Reader, max int, twin string, now time.Time) ([]Event, []*BatchError, error) {
	if max <= 0 {
		return nil, nil, fmt.Errorf("telemetry: batch bound %d: %w", max, ErrBatchTooLarge)
	}
	limit := int64(max) * (MaxEventBytes + 1)
	lr := &io.LimitedReader{R: r, N: limit + 1}
	br := bufio.NewReaderSize(lr, 64<<10)
	b := batch{max: max, twin: twin, now: now}
	first, err := firstByte(br)
	switch {
	case err == io.EOF:
		err = nil
	case err != nil:
		err = fmt.Errorf("telemetry: read batch: %w", err)
	case first == '[':
		err = b.array(br)
	default:
		err = b.lines(br)
	}
	if lr.N <= 0 && (err == nil || errors.Is(err, ErrMalformed)) {
		err = fmt.Errorf("telemetry: batch longer than %d bytes: %w", limit, ErrBatchTooLarge)
	}
	return b.events, b.errs, err
}

type batch struct {
	max    int
	twin   string
	now    time.Time
	n      int
	events []Event
	errs   []*BatchError
}

func (b *batch) add(data []byte) error {
	if b.n >= b.max {
		return fmt.Errorf("telemetry: more than %d events: %w", b.max, ErrBatchTooLarge)
	}
	ev, err := decodeEvent(data, b.twin, "", b.now)
	if err != nil {
		b.errs = append(b.errs, &BatchError{Index: b.n, Err: err})
	} else {
		b.events = append(b.events, ev)
	}
	b.n++
	return nil
}

func (b *batch) array(br *bufio.Reader) error {
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil { // the '['
		return b.broken(err)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return b.broken(err)
		}
		if err := b.add(raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the ']'
		return b.broken(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: batch: data after the array", ErrMalformed)
	}
	return nil
}

// broken reports a JSON array that cannot be read on: a reader error as it is, a syntax error
// as malformed.
func (b *batch) broken(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: batch: element %d: invalid JSON array", ErrMalformed, b.n)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%w: batch: element %d: invalid JSON array", ErrMalformed, b.n)
	}
	return fmt.Errorf("telemetry: read batch: %w", err)
}

func (b *batch) lines(br *bufio.Reader) error {
	for {
		line, tooLong, err := readLine(br, MaxEventBytes)
		if len(bytes.TrimSpace(line)) > 0 || tooLong {
			if tooLong {
				if b.n >= b.max {
					return fmt.Errorf("telemetry: more than %d events: %w", b.max, ErrBatchTooLarge)
				}
				b.errs = append(b.errs, &BatchError{Index: b.n, Err: fieldErr("event", "line longer than %d bytes", MaxEventBytes)})
				b.n++
			} else if aerr := b.add(line); aerr != nil {
				return aerr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("telemetry: read batch: %w", err)
		}
	}
}

// readLine reads one line (without its end) of at most max bytes; a longer line is consumed
// and reported as tooLong.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+2 { // room for "\r\n"
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), tooLong, err
	}
}

// firstByte skips blanks (and a UTF-8 byte order mark) and peeks at the first other byte.
func firstByte(br *bufio.Reader) (byte, error) {
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c, br.UnreadByte()
	}
}
