package secagg

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"unicode/utf8"
)

// ClientID identifies a collector within a cohort. It is also the x-coordinate of
// the client's Shamir shares, so it must be non-zero. Ordering between ids
// decides the sign of pairwise masks.
type ClientID uint32

// Limits enforced by [Params.Validate]; they bound the work a malformed message can cause.
const (
	// Version is the protocol version carried in every message header.
	Version = 1
	// MaxMembers bounds the cohort size (the protocol is quadratic in it).
	MaxMembers = 1024
	// MaxLength bounds the vector length.
	MaxLength = 1 << 20
	// MaxIDLength bounds the byte length of the cohort and round ids.
	MaxIDLength = 256
)

// Params are the public parameters of one round. The server and every client of
// a round must be built from identical Params: they are bound into every key
// derivation, so any mismatch makes the round fail rather than mix rounds.
type Params struct {
	// Cohort names the cohort, e.g. "district-7".
	Cohort string
	// Round identifies the round uniquely within the cohort, e.g.
	// "netflow/bytes/2026-04-01T10:00Z". Never reuse a round id.
	Round string
	// Members are the ids of all cohort members (n = len(Members)).
	Members []ClientID
	// Threshold t is the number of clients that must remain at every step and the
	// number of shares needed to rebuild a secret. 2 <= t <= n and 2t > n.
	Threshold int
	// Length is the number of uint64 coordinates of every input vector.
	Length int
	// IdentityKeys, when non-nil, holds the Ed25519 identity key of every member;
	// advertised key pairs must then be signed (see WithSigningKey).
	IdentityKeys map[ClientID]ed25519.PublicKey
}

// Validate checks the parameters. It returns an error wrapping ErrInvalidParams.
func (p *Params) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidParams, fmt.Sprintf(format, args...))
	}
	for name, s := range map[string]string{"cohort": p.Cohort, "round": p.Round} {
		if s == "" || len(s) > MaxIDLength || !utf8.ValidString(s) {
			return bad("%s id must be 1..%d bytes of UTF-8", name, MaxIDLength)
		}
	}
	n := len(p.Members)
	if n < 2 || n > MaxMembers {
		return bad("cohort must have 2..%d members, has %d", MaxMembers, n)
	}
	seen := make(map[ClientID]bool, n)
	for _, id := range p.Members {
		if id == 0 {
			return bad("client id 0 is reserved")
		}
		if seen[id] {
			return bad("duplicate member %d", id)
		}
		seen[id] = true
	}
	if p.Threshold < 2 || p.Threshold > n {
		return bad("threshold %d outside 2..%d", p.Threshold, n)
	}
	if 2*p.Threshold <= n {
		// One-shot unmasking only protects against an equivocating server when
		// honest clients cannot supply t shares of both secrets of one client.
		return bad("threshold %d must exceed half the cohort (%d members)", p.Threshold, n)
	}
	if p.Length < 1 || p.Length > MaxLength {
		return bad("vector length %d outside 1..%d", p.Length, MaxLength)
	}
	if p.IdentityKeys != nil {
		if len(p.IdentityKeys) != n {
			return bad("identity keys given for %d of %d members", len(p.IdentityKeys), n)
		}
		for _, id := range p.Members {
			if len(p.IdentityKeys[id]) != ed25519.PublicKeySize {
				return bad("no valid identity key for member %d", id)
			}
		}
	}
	return nil
}

// MaxMessageSize bounds the JSON size of any message of a round with these
// parameters (compact encoding, as Marshal produces), for transport limits
// such as NATS max_payload. Server.ReceiveBytes rejects larger input unread.
func (p *Params) MaxMessageSize() int {
	// Header with worst-case escaped ids; 21 bytes per decimal uint64; under 512
	// bytes per member for a key entry, an encrypted share or a secret share.
	return 4096 + 24*p.Length + 512*len(p.Members)
}

// clone returns a deep copy with the members sorted.
func (p *Params) clone() Params {
	q := *p
	q.Members = slices.Clone(p.Members)
	slices.Sort(q.Members)
	if p.IdentityKeys != nil {
		q.IdentityKeys = make(map[ClientID]ed25519.PublicKey, len(p.IdentityKeys))
		for id, k := range p.IdentityKeys {
			q.IdentityKeys[id] = slices.Clone(k)
		}
	}
	return q
}

// FromInt64s returns the two's-complement encoding of v as uint64 words, the
// representation in which secure aggregation adds values mod 2^64.
func FromInt64s(v []int64) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = uint64(x)
	}
	return out
}

// ToInt64s reads mod-2^64 words as two's-complement int64. It is the inverse of
// FromInt64s, and the true signed sum as long as that sum fits in an int64.
func ToInt64s(v []uint64) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
