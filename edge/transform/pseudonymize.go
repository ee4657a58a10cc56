package transform

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
)

var rotations = []string{"", "none", "daily", "weekly", "monthly", "quarterly", "yearly"}

// epoch returns the label of the epoch that t falls in and its bounds [from, until) (UTC).
func epoch(rotation string, t time.Time) (label string, from, until time.Time) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch rotation {
	case "daily":
		return t.Format("20060102"), day, day.AddDate(0, 0, 1)
	case "weekly":
		y, w := t.ISOWeek()
		monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		return fmt.Sprintf("%dw%02d", y, w), monday, monday.AddDate(0, 0, 7)
	case "monthly":
		m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return fmt.Sprintf("%dm%02d", t.Year(), int(t.Month())), m, m.AddDate(0, 1, 0)
	case "quarterly":
		q := (int(t.Month()) + 2) / 3
		start := time.Date(t.Year(), time.Month(3*q-2), 1, 0, 0, 0, 0, time.UTC)
		return fmt.Sprintf("%dq%d", t.Year(), q), start, start.AddDate(0, 3, 0)
	case "yearly":
		y := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		return fmt.Sprintf("%d", t.Year()), y, y.AddDate(1, 0, 0)
	}
	return "", time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
}

// hkdfSalt separates these keys from any other use of the same base key.
const hkdfSalt = "sectwin/edge/pseudonymize/v1"

// macBytes is how much of the MAC a pseudonym keeps: 128 bits.
const macBytes = 16

type pseudonymizer struct {
	fields   []string
	sha512   bool
	base     Secret
	keyID    string
	rotation string
	cur      atomic.Pointer[epochKey]
}

// macState is a pooled HMAC with a scratch buffer for its input.
type macState struct {
	h   hash.Hash
	buf []byte
}

// epochKey is one epoch's derived key, with a pool of HMACs keyed by it.
type epochKey struct {
	label  string
	from   time.Time // the epoch's bounds: [from, until)
	until  time.Time
	prefix string // key id + epoch label + ":"
	pool   sync.Pool
}

func (p *pseudonymizer) newHash() func() hash.Hash {
	if p.sha512 {
		return sha512.New
	}
	return sha256.New
}

// key returns the epoch key for time t, deriving it when the epoch changes.
func (p *pseudonymizer) key(t time.Time) *epochKey {
	if k := p.cur.Load(); k != nil && !t.Before(k.from) && t.Before(k.until) {
		return k
	}
	label, from, until := epoch(p.rotation, t)
	h := p.newHash()
	size := h().Size()
	derived, err := hkdf.Key(h, p.base.b, []byte(hkdfSalt), "sectwin/edge/pseudonymize/v1|"+p.keyID+"|"+label, size)
	if err != nil {
		// Only an impossible length makes HKDF fail; never fall back to the base key.
		panic("transform: HKDF: " + err.Error())
	}
	k := &epochKey{label: label, from: from, until: until, prefix: p.keyID + label + ":"}
	k.pool.New = func() any { return &macState{h: hmac.New(h, derived)} }
	p.cur.Store(k)
	return k
}

// apply pseudonymises a value: a scalar, or each element of a list.
func (k *epochKey) apply(v any) any {
	if list, ok := v.([]any); ok {
		for i, e := range list {
			if e != nil {
				list[i] = k.pseudonym(e)
			}
		}
		return list
	}
	return k.pseudonym(v)
}

// pseudonym is "<key id><epoch>:<base64url(HMAC(value)[:16])>" for a scalar, and the mask for
// anything else (an object cannot be pseudonymised as a whole).
func (k *epochKey) pseudonym(v any) any {
	text, ok := decode.ScalarText(v)
	if !ok {
		return mask
	}
	m := k.pool.Get().(*macState)
	m.h.Reset()
	m.buf = append(m.buf[:0], text...)
	m.h.Write(m.buf)
	var sum [sha512.Size]byte
	mac := m.h.Sum(sum[:0])
	if cap(m.buf) > 4096 {
		m.buf = nil
	}
	k.pool.Put(m)
	out := make([]byte, len(k.prefix)+base64.RawURLEncoding.EncodedLen(macBytes))
	copy(out, k.prefix)
	base64.RawURLEncoding.Encode(out[len(k.prefix):], mac[:macBytes])
	return string(out)
}
