package secagg

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"

	"github.com/cloudflare/circl/math/fp25519"
)

// Shamir secret sharing over GF(p), p = 2^255 − 19, using circl's constant-time
// field arithmetic. See the package documentation for why this is not
// circl/secretsharing. Share x-coordinates are the (non-zero, distinct) client ids.

// fe is a field element, 32 bytes little-endian; canonical (< p) whenever it
// leaves this file.
type fe = fp25519.Elt

const feSize = fp25519.Size

func feFromID(id ClientID) fe {
	var e fe
	binary.LittleEndian.PutUint32(e[:4], uint32(id))
	return e
}

// feCanonical reports whether e is the canonical encoding of an element (< p).
func feCanonical(e *fe) bool {
	r := *e
	fp25519.Modp(&r)
	return subtle.ConstantTimeCompare(r[:], e[:]) == 1
}

// feDecode parses a canonical 32-byte encoding.
func feDecode(b []byte) (fe, bool) {
	var e fe
	if len(b) != feSize {
		return e, false
	}
	copy(e[:], b)
	return e, feCanonical(&e)
}

// feRandom draws a uniform element by rejection sampling (a rejection has
// probability 19/2^255).
func feRandom(r io.Reader) (fe, error) {
	for range 128 {
		var e fe
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return fe{}, err
		}
		e[31] &= 0x7f
		if feCanonical(&e) {
			return e, nil
		}
	}
	return fe{}, errors.New("secagg: random source is not random")
}

// shamirSplit returns f(id) for every id, where f is a uniformly random
// polynomial of degree t−1 with f(0) = secret; any t shares determine the
// secret and t−1 reveal nothing about it.
func shamirSplit(secret fe, t int, ids []ClientID, r io.Reader) ([]fe, error) {
	coeffs := make([]fe, t)
	defer clear(coeffs)
	coeffs[0] = secret
	for i := 1; i < t; i++ {
		c, err := feRandom(r)
		if err != nil {
			return nil, err
		}
		coeffs[i] = c
	}
	out := make([]fe, len(ids))
	for j, id := range ids {
		x := feFromID(id)
		acc := coeffs[t-1]
		for i := t - 2; i >= 0; i-- {
			var tmp fe
			fp25519.Mul(&tmp, &acc, &x)
			fp25519.Add(&acc, &tmp, &coeffs[i])
		}
		fp25519.Modp(&acc)
		out[j] = acc
	}
	return out, nil
}

// lagrangeAtZero returns λ_j = Π_{m≠j} x_m / (x_m − x_j), so that
// f(0) = Σ_j λ_j f(x_j) for any polynomial of degree < len(ids). The ids must be
// distinct and non-zero (callers guarantee it; otherwise the result is garbage,
// never a panic).
func lagrangeAtZero(ids []ClientID) []fe {
	xs := make([]fe, len(ids))
	for i, id := range ids {
		xs[i] = feFromID(id)
	}
	out := make([]fe, len(ids))
	for j := range xs {
		var num, den, tmp fe
		fp25519.SetOne(&num)
		fp25519.SetOne(&den)
		for m := range xs {
			if m == j {
				continue
			}
			fp25519.Mul(&num, &num, &xs[m])
			fp25519.Sub(&tmp, &xs[m], &xs[j])
			fp25519.Mul(&den, &den, &tmp)
		}
		fp25519.Inv(&tmp, &den)
		fp25519.Mul(&out[j], &num, &tmp)
	}
	return out
}

// shamirCombine returns Σ_j λ_j y_j.
func shamirCombine(lambda, ys []fe) fe {
	var acc, tmp fe
	for j := range lambda {
		fp25519.Mul(&tmp, &lambda[j], &ys[j])
		fp25519.Add(&acc, &acc, &tmp)
	}
	fp25519.Modp(&acc)
	return acc
}
