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

// epochLabel names the epoch that t falls in (UTC).
func epochLabel(rotation string, t time.Time) string {
	t = t.UTC()
	switch rotation {
	case "daily":
		return t.Format("20060102")
	case "weekly":
		y, w := t.ISOWeek()
		return fmt.Sprintf("%dw%02d", y, w)
	case "monthly":
		return fmt.Sprintf("%dm%02d", t.Year(), int(t.Month()))
	case "quarterly":
		return fmt.Sprintf("%dq%d", t.Year(), (int(t.Month())+2)/3)
	case "yearly":
		return fmt.Sprintf("%d", t.Year())
	}
	return ""
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
	label := epochLabel(p.rotation, t)
	if k := p.cur.Load(); k != nil && k.label == label {
		return k
	}
	h := p.newHash()
	size := h().Size()
	derived, err := hkdf.Key(h, p.base.b, []byte(hkdfSalt), "sectwin/edge/pseudonymize/v1|"+p.keyID+"|"+label, size)
	if err != nil {
		// Only an impossible length makes HKDF fail; never fall back to the base key.
		panic("transform: HKDF: " + err.Error())
	}
	k := &epochKey{label: label, prefix: p.keyID + label + ":"}
	k.pool.New = func() any { return &macState{h: hmac.New(h, derived)} }
	p.cur.Store(k)
	return k
}

func (p *pseudonymizer) apply(rec decode.Record, now time.Time, t *tally) {
	var k *epochKey
	for _, f := range p.fields {
		v, ok := rec[f]
		if !ok || v == nil {
			continue
		}
		if k == nil {
			k = p.key(now)
		}
		if list, ok := v.([]any); ok {
			for i, e := range list {
				if e == nil {
					continue
				}
				list[i] = k.pseudonym(e)
			}
			t.pseudonymized++
			continue
		}
		rec[f] = k.pseudonym(v)
		t.pseudonymized++
	}
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
