package dp

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrRandomness reports that a [Source] could not supply random bits. A
// release that needed them is refused.
var ErrRandomness = errors.New("dp: randomness source failed")

// Source supplies independent, uniformly distributed 64-bit words.
// Implementations must be safe for concurrent use if they are shared.
// A non-nil error means no randomness was produced; callers fail closed.
type Source interface {
	Uint64() (uint64, error)
}

// cryptoBufferSize is the size of the buffer in front of crypto/rand.
const cryptoBufferSize = 4096

// NewCryptoSource returns the production [Source]: crypto/rand.Reader
// behind a buffered reader. It is safe for concurrent use. Its errors are
// sticky: after one failed read every later call fails with [ErrRandomness],
// so a source that once failed can never produce a release.
func NewCryptoSource() Source {
	return newReaderSource(rand.Reader)
}

// readerSource reads words from an io.Reader through a buffer.
type readerSource struct {
	base io.Reader // kept so tests can check what the source reads from

	mu  sync.Mutex
	r   *bufio.Reader
	err error
	buf [8]byte
}

func newReaderSource(r io.Reader) *readerSource {
	return &readerSource{base: r, r: bufio.NewReaderSize(r, cryptoBufferSize)}
}

// Uint64 implements [Source].
func (s *readerSource) Uint64() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	if _, err := io.ReadFull(s.r, s.buf[:]); err != nil {
		s.err = fmt.Errorf("%w: %w", ErrRandomness, err)
		return 0, s.err
	}
	return binary.LittleEndian.Uint64(s.buf[:]), nil
}
