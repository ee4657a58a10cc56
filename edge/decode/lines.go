package decode

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader splits input into lines without ever holding more than max bytes of one line.
type lineReader struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	num  int // number of the last line returned
	done error
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its terminator (\n or \r\n; a lone final \r is also
// dropped) and its 1-based number. tooLarge reports a line longer than max, whose content is
// skipped (line is then nil). The line is valid until the following call. err is io.EOF at the
// end of the input, or the reader's error.
func (l *lineReader) next() (line []byte, num int, tooLarge bool, err error) {
	if l.done != nil {
		return nil, l.num, false, l.done
	}
	l.buf = l.buf[:0]
	var got bool // any bytes of this line seen
	var direct []byte
	for {
		chunk, rerr := l.r.ReadSlice('\n')
		if len(chunk) > 0 {
			got = true
		}
		switch {
		case tooLarge:
		case rerr == nil && len(l.buf) == 0 && direct == nil:
			// The common case: the whole line is in bufio's buffer; no copy.
			direct = chunk
		default:
			if direct != nil {
				l.buf = append(l.buf, direct...)
				direct = nil
			}
			if len(l.buf)+len(chunk) > l.max+2 { // +2: the terminator is not counted
				tooLarge = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		if errors.Is(rerr, bufio.ErrBufferFull) {
			continue
		}
		if rerr != nil {
			l.done = rerr
			if !got {
				return nil, l.num, false, rerr
			}
			if !errors.Is(rerr, io.EOF) {
				// A read error mid-line: the partial line is not a record.
				return nil, l.num, false, rerr
			}
		}
		break
	}
	l.num++
	if tooLarge {
		return nil, l.num, true, nil
	}
	line = l.buf
	if direct != nil {
		line = direct
	}
	line = trimEOL(line)
	if l.num == 1 {
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
	}
	if len(line) > l.max {
		return nil, l.num, true, nil
	}
	return line, l.num, false, nil
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// isBlank reports whether b holds only spaces, tabs and carriage returns.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
