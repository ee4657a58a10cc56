// Package decode turns edge telemetry into records, one at a time, from an io.Reader.
//
// Each source format has a named decoder (see [Names]): generic JSON lines ("json"), Suricata
// EVE JSON ("suricata"), Zeek logs in JSON or TSV ("zeek"), FIWARE smart-data-models entities in
// NGSI-v2 normalized, key-values or NGSI-LD form ("fiware"), sshd and other auth syslog lines
// ("sshd"), and flow CSVs such as CICFlowMeter and Argus ra output ("flowcsv").
//
// A [Record] is a flat map: nested JSON objects are flattened into dotted keys
// ("alert.signature"), so field names in transform configs are plain strings and an allowlist is
// a set lookup. Values are strings, json.Number (numbers keep their exact text), bool, nil, and
// []any of those (arrays are kept whole; objects inside arrays stay map[string]any).
//
// Decoders never panic on input. A record that cannot be decoded yields an *[Error] that
// matches [ErrMalformed] or [ErrTooLarge] with errors.Is and carries the line number; the
// decoder then carries on with the next record, so a caller can count or dead-letter bad input:
//
//	for rec, err := range decode.Records(ctx, d) {
//		if err != nil {
//			if decode.IsRecordError(err) {
//				deadLetter(err) // and keep going
//				continue
//			}
//			return err // reading failed, or ctx ended
//		}
//		use(rec)
//	}
//
// Error messages never quote the input (it may hold personal data): they give the line, the
// byte offset and a reason. The raw bytes of a malformed record are in Error.Raw for a dead
// letter queue, which must then be protected like the input.
package decode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"time"
)

// DefaultMaxRecordBytes is the default limit on the size of one record (a line, or a
// multi-line JSON value).
const DefaultMaxRecordBytes = 1 << 20

// DefaultMaxDepth is the default limit on the nesting of JSON objects and arrays in a record.
const DefaultMaxDepth = 64

// Decoder reads records one at a time.
//
// Next returns the next record, or an error. An error matching [ErrMalformed] or
// [ErrTooLarge] concerns one record only: call Next again to continue after it. Any other
// error is final and Next returns it again on every later call: io.EOF at the end of the
// input, the context's error once ctx is done, or the reader's error (wrapped).
//
// A Decoder is not safe for concurrent use. Next checks ctx before reading, but a read that
// blocks in the underlying reader is not interrupted by ctx.
type Decoder interface {
	Next(ctx context.Context) (Record, error)
	// Name is the decoder's name, as given to [New].
	Name() string
}

// Options tune a decoder. The zero value is usable.
type Options struct {
	// MaxRecordBytes is the largest record accepted; larger ones fail with ErrTooLarge and are
	// skipped. 0 means DefaultMaxRecordBytes.
	MaxRecordBytes int
	// MaxDepth limits the nesting of JSON values. 0 means DefaultMaxDepth.
	MaxDepth int
	// Location is the time zone of timestamps that carry none (syslog, CSV). nil means UTC.
	Location *time.Location
	// Now gives the current time; syslog timestamps without a year take the year that puts
	// them at most a day in the future. nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Sentinel errors, matched with errors.Is.
var (
	// ErrMalformed: a record could not be decoded. The decoder continues with the next one.
	ErrMalformed = errors.New("malformed record")
	// ErrTooLarge: a record is longer than Options.MaxRecordBytes. It is skipped unread.
	ErrTooLarge = errors.New("record too large")
	// ErrUnknownDecoder: New was given a name that is not in Names.
	ErrUnknownDecoder = errors.New("unknown decoder")
)

// Error describes one record that could not be decoded. It matches ErrMalformed or
// ErrTooLarge with errors.Is.
type Error struct {
	Decoder string // the decoder's name
	Line    int    // 1-based line where the record starts
	Offset  int    // byte offset within the record where decoding failed, or -1
	Reason  string // what is wrong; never quotes the input
	// Raw is a copy of the record's bytes, for a dead letter queue; nil for ErrTooLarge. It
	// is not part of Error(): it may hold personal data.
	Raw []byte
	Err error // ErrMalformed or ErrTooLarge
}

func (e *Error) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("%s: line %d: byte %d: %s", e.Decoder, e.Line, e.Offset+1, e.Reason)
	}
	return fmt.Sprintf("%s: line %d: %s", e.Decoder, e.Line, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// IsRecordError reports whether err concerns a single record (ErrMalformed or ErrTooLarge),
// after which decoding can continue.
func IsRecordError(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge)
}

// Records iterates over d's records until the input ends. It yields (record, nil) for each
// record and (nil, err) for each record error, and carries on after those; a final error
// other than io.EOF is yielded last.
func Records(ctx context.Context, d Decoder) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for {
			rec, err := d.Next(ctx)
			if err != nil {
				if errors.Is(err, io.EOF) {
					return
				}
				if !yield(nil, err) || !IsRecordError(err) {
					return
				}
				continue
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// constructors by name; immutable.
var constructors = map[string]func(io.Reader, Options) Decoder{
	"json":     func(r io.Reader, o Options) Decoder { return NewJSON(r, o) },
	"suricata": func(r io.Reader, o Options) Decoder { return NewSuricata(r, o) },
	"zeek":     func(r io.Reader, o Options) Decoder { return NewZeek(r, o) },
	"fiware":   func(r io.Reader, o Options) Decoder { return NewFIWARE(r, o) },
	"sshd":     func(r io.Reader, o Options) Decoder { return NewSSHD(r, o) },
	"flowcsv":  func(r io.Reader, o Options) Decoder { return NewFlowCSV(r, o) },
}

// Names lists the decoders New knows, sorted.
func Names() []string {
	names := make([]string, 0, len(constructors))
	for n := range constructors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the decoder called name (one of Names) reading r.
func New(name string, r io.Reader, opts Options) (Decoder, error) {
	c, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("%w %q; known: %v", ErrUnknownDecoder, name, Names())
	}
	return c(r, opts), nil
}

// base holds what every decoder shares: its name, options, the line reader and the sticky
// final error.
type base struct {
	name  string
	opts  Options
	lines *lineReader
	final error
}

func newBase(name string, r io.Reader, opts Options) base {
	opts = opts.withDefaults()
	return base{name: name, opts: opts, lines: newLineReader(r, opts.MaxRecordBytes)}
}

func (b *base) Name() string { return b.name }

// check returns the error that stops Next before reading: the sticky one, or ctx's.
func (b *base) check(ctx context.Context) error {
	if b.final != nil {
		return b.final
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}

// fail records a final error from the line reader and returns it.
func (b *base) fail(err error) error {
	if !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%s: read: %w", b.name, err)
	}
	b.final = err
	return err
}

func (b *base) malformed(line, offset int, raw []byte, format string, args ...any) *Error {
	return &Error{Decoder: b.name, Line: line, Offset: offset, Reason: fmt.Sprintf(format, args...), Raw: slices.Clone(raw), Err: ErrMalformed}
}

func (b *base) tooLarge(line int) *Error {
	return &Error{Decoder: b.name, Line: line, Offset: -1, Reason: fmt.Sprintf("record longer than %d bytes", b.opts.MaxRecordBytes), Err: ErrTooLarge}
}
