package collector

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// deadLetter appends malformed records to a local JSON-lines file (mode 0600). Raw bytes are
// kept only when the config asks for them: they may hold the personal data the collector exists
// to keep in.
type deadLetter struct {
	mu   sync.Mutex
	f    *os.File
	raw  bool
	fail bool
}

const maxDeadLetterRaw = 64 << 10

func openDeadLetter(path string, raw bool) (*deadLetter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dead-letter file: %w (set dead_letter to a writable local file)", err)
	}
	return &deadLetter{f: f, raw: raw}, nil
}

type deadRecord struct {
	At     time.Time `json:"at"`
	Input  string    `json:"input"`
	Line   int       `json:"line,omitempty"`
	Reason string    `json:"reason"`
	Bytes  int       `json:"bytes"`
	Raw    string    `json:"raw,omitempty"`
}

// write records one dead letter; a failing file is reported once on stderr and then skipped,
// so that a full disk never stops the collector.
func (d *deadLetter) write(inputName string, line int, reason string, raw []byte) {
	r := deadRecord{At: time.Now().UTC(), Input: inputName, Line: line, Reason: reason, Bytes: len(raw)}
	if d.raw && raw != nil {
		r.Raw = string(raw[:min(len(raw), maxDeadLetterRaw)])
	}
	b, _ := json.Marshal(r)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.f.Write(append(b, '\n')); err != nil && !d.fail {
		d.fail = true
		fmt.Fprintf(os.Stderr, "sectwin edge: dead-letter file %s: %v (dead letters are now only counted)\n", d.f.Name(), err)
	}
}

func (d *deadLetter) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f.Close()
}
