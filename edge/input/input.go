// Package input reads raw telemetry records into the edge collector: lines from standard input
// or a tailed file, lines of HTTP request bodies, and MQTT messages. An input knows nothing of
// formats or privacy: it hands each raw record to the collector, which decodes, transforms and
// releases it.
package input

import (
	"bufio"
	"context"
	"errors"
	"io"
)

// DefaultMaxRecordBytes bounds one raw record unless an input sets its own bound.
const DefaultMaxRecordBytes = 1 << 20

// ErrTooLarge marks a record longer than the input's bound: only its first bytes are kept, and
// the collector dead-letters it.
var ErrTooLarge = errors.New("record too large")

// Record is one raw record: a line of a stream or an HTTP body, or one MQTT message.
type Record struct {
	Input string // the input's name in the config
	// Topic is the MQTT topic, or the HTTP path, the record came from; empty for streams.
	Topic string
	Data  []byte
	// Err is ErrTooLarge for an oversized record, whose Data holds only its first bytes.
	Err error
}

// Emit hands a record to the collector. It blocks while the collector is busy (backpressure)
// and returns an error only when the collector stops; Data may be reused after it returns.
type Emit func(ctx context.Context, r Record) error

// Input is one source of raw records.
type Input interface {
	// Name is the input's name in the config.
	Name() string
	// Run reads until ctx ends or the source does (standard input at EOF), emitting each record.
	Run(ctx context.Context, emit Emit) error
}

// lines splits br into newline-terminated records of at most limit bytes (without the newline;
// a trailing carriage return is dropped but counts); a longer line is emitted once, truncated,
// with ErrTooLarge, and the rest of it skipped. Empty lines are skipped. A last line without a
// newline is emitted at EOF when final is true, else returned as pending, to be passed back in
// by a tail once more bytes arrive.
func lines(ctx context.Context, br *bufio.Reader, limit int, pending []byte, final bool, emit func(data []byte, err error) error) ([]byte, error) {
	buf := pending
	oversized := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk, rerr := br.ReadSlice('\n')
		switch {
		case oversized:
			// skip the rest of an oversized line
		case len(buf)+len(chunk) > limit+1: // +1: the newline does not count
			keep := limit - len(buf)
			buf = append(buf, chunk[:max(keep, 0)]...)
			if err := emit(buf, ErrTooLarge); err != nil {
				return nil, err
			}
			buf, oversized = buf[:0], true
		default:
			buf = append(buf, chunk...)
		}
		switch {
		case rerr == nil: // a whole line
			if !oversized {
				line := trimEOL(buf)
				if len(line) > 0 {
					if err := emit(line, nil); err != nil {
						return nil, err
					}
				}
			}
			buf, oversized = buf[:0], false
		case errors.Is(rerr, bufio.ErrBufferFull):
			continue
		case errors.Is(rerr, io.EOF):
			if oversized || len(buf) == 0 {
				return nil, nil
			}
			if !final {
				return buf, nil
			}
			return nil, emit(trimEOL(buf), nil)
		default:
			return nil, rerr
		}
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
