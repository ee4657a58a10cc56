package secagg

import (
	"math/big"
	"slices"
	"testing"

	"github.com/cloudflare/circl/math/fp25519"
)

var bigP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

func feToBig(e fe) *big.Int {
	b := slices.Clone(e[:])
	slices.Reverse(b)
	return new(big.Int).SetBytes(b)
}

func bigToFE(x *big.Int) fe {
	var e fe
	b := x.FillBytes(make([]byte, feSize))
	slices.Reverse(b)
	copy(e[:], b)
	return e
}

// TestShamir checks split and combine against math/big: every t-subset of the
// shares rebuilds the secret, the shares lie on one polynomial of degree t−1,
// and Lagrange coefficients match a big.Int computation.
func TestShamir(t *testing.T) {
	rd := newDetReader("shamir")
	for _, tc := range []struct{ n, t int }{{2, 2}, {3, 2}, {5, 3}, {10, 6}, {10, 10}} {
		members := make([]ClientID, tc.n)
		for i := range members {
			members[i] = ClientID(3*i + 7) // not 1..n
		}
		secret, err := feRandom(rd)
		if err != nil {
			t.Fatal(err)
		}
		shares, err := shamirSplit(secret, tc.t, members, rd)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range shares {
			if !feCanonical(&s) {
				t.Fatal("non-canonical share")
			}
		}
		// Sliding windows of t shares, plus the last t.
		for start := 0; start+tc.t <= tc.n; start++ {
			sub, ys := members[start:start+tc.t], shares[start:start+tc.t]
			lambda := lagrangeAtZero(sub)
			if got := shamirCombine(lambda, ys); got != secret {
				t.Fatalf("n=%d t=%d subset %v: got %v want %v", tc.n, tc.t, sub, got, secret)
			}
			for j := range sub {
				want := big.NewInt(1)
				for m := range sub {
					if m == j {
						continue
					}
					xm, xj := big.NewInt(int64(sub[m])), big.NewInt(int64(sub[j]))
					d := new(big.Int).Sub(xm, xj)
					d.Mod(d, bigP).ModInverse(d, bigP)
					want.Mul(want, xm).Mul(want, d).Mod(want, bigP)
				}
				l := lambda[j]
				fp25519.Modp(&l)
				if feToBig(l).Cmp(want) != 0 {
					t.Fatalf("lambda %d mismatch", j)
				}
			}
		}
		// t−1 shares interpolate (at 0) to something else, with overwhelming probability.
		if tc.t > 2 {
			sub := members[:tc.t-1]
			if got := shamirCombine(lagrangeAtZero(sub), shares[:tc.t-1]); got == secret {
				t.Fatal("t-1 shares rebuilt the secret")
			}
		}
	}
}

func TestFieldEncoding(t *testing.T) {
	one := big.NewInt(1)
	for _, tc := range []struct {
		name string
		x    *big.Int
		ok   bool
	}{
		{"zero", big.NewInt(0), true},
		{"p-1", new(big.Int).Sub(bigP, one), true},
		{"p", bigP, false},
		{"p+1", new(big.Int).Add(bigP, one), false},
		{"2^255-1", new(big.Int).Sub(new(big.Int).Lsh(one, 255), one), false},
		{"2^256-1", new(big.Int).Sub(new(big.Int).Lsh(one, 256), one), false},
	} {
		e := bigToFE(tc.x)
		if _, ok := feDecode(e[:]); ok != tc.ok {
			t.Errorf("%s: canonical = %v, want %v", tc.name, ok, tc.ok)
		}
	}
	if _, ok := feDecode(make([]byte, 31)); ok {
		t.Error("31 bytes accepted")
	}
	// feRandom is uniform below p: its top bit is always clear.
	rd := newDetReader("field")
	for range 1000 {
		e, err := feRandom(rd)
		if err != nil || e[31]&0x80 != 0 || !feCanonical(&e) {
			t.Fatalf("feRandom = %v, %v", e, err)
		}
	}
}
