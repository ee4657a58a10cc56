package input

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Reader reads newline-separated records from a stream, such as standard input, until EOF.
type Reader struct {
	InputName string
	R         io.Reader
	MaxBytes  int // 0 means DefaultMaxRecordBytes
}

// Name implements Input.
func (r *Reader) Name() string { return r.InputName }

// Run implements Input; it returns nil at EOF.
func (r *Reader) Run(ctx context.Context, emit Emit) error {
	br := bufio.NewReaderSize(r.R, 64<<10)
	_, err := lines(ctx, br, limitOr(r.MaxBytes), nil, true, func(data []byte, err error) error {
		return emit(ctx, Record{Input: r.InputName, Data: data, Err: err})
	})
	return err
}

func limitOr(n int) int {
	if n <= 0 {
		return DefaultMaxRecordBytes
	}
	return n
}

// Tail follows a file as it grows, as `tail -F` does: it reopens the file when it is rotated
// (another file under the same path) or truncated, and waits for a file that does not exist yet.
type Tail struct {
	InputName string
	Path      string
	// FromStart reads the file's existing lines first; otherwise only what is appended after
	// the collector starts.
	FromStart bool
	MaxBytes  int           // 0 means DefaultMaxRecordBytes
	Poll      time.Duration // how often to look for more; 0 means 250 ms
	// Ready, when set, is called once the first file is open and positioned (tests use it).
	Ready func()
}

// Name implements Input.
func (t *Tail) Name() string { return t.InputName }

// Run implements Input; it returns only when ctx ends or the file cannot be read.
func (t *Tail) Run(ctx context.Context, emit Emit) error {
	poll := t.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	wait := func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			return nil
		}
	}
	fromStart := t.FromStart
	ready := t.Ready
	for {
		f, err := os.Open(t.Path)
		if errors.Is(err, os.ErrNotExist) {
			fromStart = true // a file created later is read from its start
			if err := wait(); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("tail %s: %w", t.Path, err)
		}
		err = t.follow(ctx, f, fromStart, emit, wait, ready)
		ready = nil
		f.Close()
		if err != nil {
			return err
		}
		fromStart = true // the next file is a new one: read it whole
	}
}

// follow reads f until it is rotated or truncated (then returns nil) or ctx ends.
func (t *Tail) follow(ctx context.Context, f *os.File, fromStart bool, emit Emit, wait func() error, ready func()) error {
	offset := int64(0)
	if !fromStart {
		end, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return fmt.Errorf("tail %s: %w", t.Path, err)
		}
		offset = end
	}
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("tail %s: %w", t.Path, err)
	}
	if ready != nil {
		ready()
	}
	cr := &countingReader{r: f, n: offset}
	br := bufio.NewReaderSize(cr, 64<<10)
	var pending []byte
	for {
		pending, err = lines(ctx, br, limitOr(t.MaxBytes), pending, false, func(data []byte, err error) error {
			return emit(ctx, Record{Input: t.InputName, Data: data, Err: err})
		})
		if err != nil {
			return err
		}
		if err := wait(); err != nil {
			return err
		}
		now, err := os.Stat(t.Path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue // rotated away and not yet replaced: keep reading the old file
		case err != nil:
			return fmt.Errorf("tail %s: %w", t.Path, err)
		case !os.SameFile(st, now):
			// Rotated: finish the old file, then move to the new one.
			_, err := lines(ctx, br, limitOr(t.MaxBytes), pending, true, func(data []byte, err error) error {
				return emit(ctx, Record{Input: t.InputName, Data: data, Err: err})
			})
			return err
		case now.Size() < cr.n:
			// Truncated in place (seen as the file shrinking below what was read): start again
			// from its beginning.
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("tail %s: %w", t.Path, err)
			}
			cr.n, pending = 0, nil
			br.Reset(cr)
		}
	}
}

// countingReader counts the bytes read so that a truncation can be noticed.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
