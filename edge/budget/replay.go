package budget

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrCorrupt reports a ledger file that fails verification. The concrete
// error is a *CorruptError naming the first broken line.
var ErrCorrupt = errors.New("budget: ledger corrupt")

// CorruptError describes the first broken entry of a ledger file.
type CorruptError struct {
	// Line is the 1-based line number of the broken entry.
	Line int
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("budget: ledger corrupt at line %d: %s", e.Line, e.Reason)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// replay decodes and verifies a ledger file's content. It returns the
// state of the verified prefix, the length of that prefix in bytes, the
// torn final line (nil if the data ends with a newline) and, on the first
// broken entry, a *CorruptError.
func replay(data []byte) (st *state, good int64, torn []byte, err error) {
	st = newState()
	line := 0
	for len(data[good:]) > 0 {
		rest := data[good:]
		n := bytes.IndexByte(rest, '\n')
		if n < 0 {
			return st, good, rest, nil
		}
		line++
		e, reason := decodeEntry(rest[:n])
		if reason == "" {
			reason = st.link(&e)
		}
		if reason == "" {
			if err := st.apply(e); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			return st, good, nil, &CorruptError{Line: line, Reason: reason}
		}
		good += int64(n) + 1
	}
	return st, good, nil, nil
}

// decodeEntry strictly decodes one line: no unknown fields, nothing after
// the object.
func decodeEntry(line []byte) (Entry, string) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Sprintf("undecodable entry: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return e, "trailing data after the entry"
	}
	return e, ""
}

// link checks e's position in the chain: its sequence number, its link to
// the previous entry and its own hash.
func (s *state) link(e *Entry) string {
	want := uint64(len(s.entries)) + 1
	switch {
	case e.Seq != want:
		return fmt.Sprintf("seq %d, want %d (entry missing, duplicated or reordered)", e.Seq, want)
	case e.PrevHash != s.head:
		return fmt.Sprintf("seq %d: prevHash %.16s… does not link to the previous entry %.16s…", e.Seq, e.PrevHash, s.head)
	case e.Hash != e.computeHash():
		return fmt.Sprintf("seq %d: hash mismatch (entry modified)", e.Seq)
	}
	return ""
}
