package decode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
)

// NewJSON decodes JSON lines: one object per line. A line holding only "{" or "[" starts a
// pretty-printed value that runs until its brackets balance. A top-level array yields one
// record per element, each of which must be an object.
func NewJSON(r io.Reader, opts Options) Decoder {
	return newJSONReader("json", r, opts, nil)
}

// NewSuricata decodes Suricata EVE JSON (eve.json), one event per line or pretty-printed. Every
// record must have string "event_type" and "timestamp" fields; other fields are kept as they
// are, flattened ("alert.signature", "http.hostname").
func NewSuricata(r io.Reader, opts Options) Decoder {
	return newJSONReader("suricata", r, opts, checkSuricata)
}

func checkSuricata(rec Record) string {
	if _, ok := rec["event_type"].(string); !ok {
		return "no string event_type: not a Suricata EVE event"
	}
	if _, ok := rec["timestamp"].(string); !ok {
		return "no string timestamp: not a Suricata EVE event"
	}
	return ""
}

// jsonReader frames JSON values out of lines and parses them into flat records.
type jsonReader struct {
	base
	p        jsonParser
	validate func(Record) string // extra validation; "" when the record is fine
	tree     func(v any, out []Record) ([]Record, string)
	multi    []byte
	pending  []Record
	hint     int
	stash    []byte // a line given back by a caller that peeked at it
	stashN   int
	stashOK  bool
}

func newJSONReader(name string, r io.Reader, opts Options, check func(Record) string) *jsonReader {
	j := &jsonReader{base: newBase(name, r, opts), validate: check, hint: 16}
	j.p.maxDepth = j.opts.MaxDepth
	return j
}

// unread gives a line back, to be framed first.
func (j *jsonReader) unread(line []byte, num int) {
	j.stash = append(j.stash[:0], line...)
	j.stashN, j.stashOK = num, true
}

func (j *jsonReader) line() ([]byte, int, bool, error) {
	if j.stashOK {
		j.stashOK = false
		return j.stash, j.stashN, false, nil
	}
	return j.lines.next()
}

// frame returns the next JSON text and the line it starts on, or an error: a *Error for one
// bad record, or a final error.
func (j *jsonReader) frame() ([]byte, int, error) {
	for {
		line, num, tooLarge, err := j.line()
		if err != nil {
			return nil, 0, j.fail(err)
		}
		if tooLarge {
			return nil, num, j.tooLarge(num)
		}
		if isBlank(line) {
			continue
		}
		if t := bytes.TrimSpace(line); len(t) == 1 && (t[0] == '{' || t[0] == '[') {
			return j.accumulate(line, num)
		}
		return line, num, nil
	}
}

// accumulate gathers the lines of a pretty-printed value that starts with first.
func (j *jsonReader) accumulate(first []byte, start int) ([]byte, int, error) {
	var sc depthScanner
	sc.feed(first)
	buf := append(j.multi[:0], first...)
	over := false
	for sc.depth > 0 && !sc.bad {
		line, _, tooLarge, err := j.lines.next()
		if errors.Is(err, io.EOF) {
			j.multi = buf
			if over {
				return nil, start, j.tooLarge(start)
			}
			return nil, start, j.malformed(start, -1, buf, "input ends inside a multi-line JSON value")
		}
		if err != nil {
			return nil, 0, j.fail(err)
		}
		if tooLarge {
			// The line's brackets are unknown: give up on this value.
			return nil, start, j.tooLarge(start)
		}
		sc.feed(line)
		if !over && len(buf)+1+len(line) > j.opts.MaxRecordBytes {
			over = true
		}
		if !over {
			buf = append(buf, '\n')
			buf = append(buf, line...)
		}
	}
	j.multi = buf
	if over {
		return nil, start, j.tooLarge(start)
	}
	return buf, start, nil
}

// depthScanner tracks bracket depth outside strings across lines.
type depthScanner struct {
	depth            int
	inString, escape bool
	bad              bool
}

func (s *depthScanner) feed(b []byte) {
	for _, c := range b {
		switch {
		case s.inString:
			switch {
			case s.escape:
				s.escape = false
			case c == '\\':
				s.escape = true
			case c == '"':
				s.inString = false
			}
		case c == '"':
			s.inString = true
		case c == '{' || c == '[':
			s.depth++
		case c == '}' || c == ']':
			s.depth--
			if s.depth < 0 {
				s.bad = true
			}
		}
	}
}

func (j *jsonReader) Next(ctx context.Context) (Record, error) {
	for {
		if len(j.pending) > 0 {
			rec := j.pending[0]
			j.pending[0] = nil
			j.pending = j.pending[1:]
			return rec, nil
		}
		if err := j.check(ctx); err != nil {
			return nil, err
		}
		data, line, err := j.frame()
		if err != nil {
			return nil, err
		}
		recs, perr := j.parse(data)
		if perr != nil {
			return nil, j.malformed(line, perr.off, data, "%s", perr.msg)
		}
		for i, rec := range recs {
			if j.validate != nil {
				if reason := j.validate(rec); reason != "" {
					if len(recs) > 1 {
						reason = "array element " + strconv.Itoa(i+1) + ": " + reason
					}
					return nil, j.malformed(line, -1, data, "%s", reason)
				}
			}
		}
		switch len(recs) {
		case 0:
			continue // an empty array
		case 1:
			return recs[0], nil
		default:
			j.pending = append(j.pending[:0], recs[1:]...)
			return recs[0], nil
		}
	}
}

// parse turns one JSON text into records.
func (j *jsonReader) parse(data []byte) ([]Record, *syntaxError) {
	p := &j.p
	p.reset(data)
	if j.tree != nil {
		v, err := p.value(1)
		if err == nil && !p.atEnd() {
			err = p.fail("unexpected data after the value")
		}
		if err != nil {
			return nil, asSyntax(err)
		}
		recs, reason := j.tree(v, nil)
		if reason != "" {
			return nil, &syntaxError{off: -1, msg: reason}
		}
		return recs, nil
	}
	var recs []Record
	switch p.peek() {
	case '{':
		rec := make(Record, j.hint)
		if err := p.object(rec, 1, false); err != nil {
			return nil, asSyntax(err)
		}
		j.hint = max(len(rec), 8)
		recs = []Record{rec}
	case '[':
		p.pos++
		if p.peek() == ']' {
			p.pos++
			break
		}
		for n := 1; ; n++ {
			if p.peek() != '{' {
				return nil, asSyntax(p.fail("array element " + strconv.Itoa(n) + " is not an object"))
			}
			rec := make(Record, j.hint)
			if err := p.object(rec, 2, false); err != nil {
				return nil, asSyntax(err)
			}
			recs = append(recs, rec)
			if c := p.peek(); c == ',' {
				p.pos++
				continue
			} else if c == ']' {
				p.pos++
				break
			}
			return nil, asSyntax(p.fail("want ',' or ']' after an array element"))
		}
	default:
		return nil, asSyntax(p.fail("a record is a JSON object"))
	}
	if !p.atEnd() {
		return nil, asSyntax(p.fail("unexpected data after the value"))
	}
	return recs, nil
}

func asSyntax(err error) *syntaxError {
	var se *syntaxError
	if errors.As(err, &se) {
		return se
	}
	return &syntaxError{off: -1, msg: err.Error()}
}
