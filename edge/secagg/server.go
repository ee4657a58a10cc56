package secagg

import (
	"bytes"
	"crypto/ecdh"
	"crypto/subtle"
	"slices"
	"strconv"
	"sync"
)

// Result is the released aggregate of a round.
type Result struct {
	Cohort string
	Round  string
	// Sum is Σ_{u∈Included} (x_u + noise_u) mod 2^64; read it with ToInt64s.
	Sum []uint64
	// Included is U3: the clients whose masked input is in Sum (sorted).
	Included []ClientID
	// Dropped is U2 \ U3: clients that shared keys but sent no masked input; the
	// survivors' pairwise masks towards them were removed (sorted).
	Dropped []ClientID
	// Responders is U5: the survivors that answered the unmask request (sorted).
	Responders []ClientID
	// NoiseContributors counts the clients of Included that declared noise.
	NoiseContributors int
}

// Server is the aggregator's side of one round. Feed it client messages with
// Receive or ReceiveBytes and end each round with CloseAdvertise,
// CloseShareKeys, CloseMaskedInput and Finish, in that order, when all expected
// messages arrived (Waiting is empty) or the caller's deadline passed. Methods
// are safe for concurrent use. A rejected message never changes the state.
type Server struct {
	mu     sync.Mutex
	p      Params
	rc     roundCtx
	member map[ClientID]bool
	phase  Phase
	abort  *AbortError

	keys   map[ClientID]*PublicKeys // U1
	shares map[ClientID]*ShareKeys  // U2
	u1, u2 []ClientID

	sum    []uint64          // running Σ y_u
	masked map[ClientID]bool // U3 -> noised
	u3     []ClientID

	unmask map[ClientID]*unmaskShares // U5
	result *Result
}

type unmaskShares struct {
	self map[ClientID]fe // b_v shares, v ∈ U3
	mask map[ClientID]fe // σ_v shares, v ∈ U2 \ U3
}

// NewServer returns the aggregator of the round described by p.
func NewServer(p Params) (*Server, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	s := &Server{p: p.clone(), phase: PhaseAdvertise}
	s.rc = newRoundCtx(&s.p)
	s.member = make(map[ClientID]bool, len(s.p.Members))
	for _, m := range s.p.Members {
		s.member[m] = true
	}
	s.keys = make(map[ClientID]*PublicKeys)
	s.shares = make(map[ClientID]*ShareKeys)
	s.masked = make(map[ClientID]bool)
	s.unmask = make(map[ClientID]*unmaskShares)
	return s, nil
}

// Phase returns the phase whose messages the server is collecting.
func (s *Server) Phase() Phase {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phase
}

// Waiting returns the clients eligible in the current phase whose message has
// not arrived yet (sorted); the caller may close the phase once it is empty.
func (s *Server) Waiting() []ClientID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var eligible []ClientID
	var got func(ClientID) bool
	switch s.phase {
	case PhaseAdvertise:
		eligible, got = s.p.Members, func(id ClientID) bool { return s.keys[id] != nil }
	case PhaseShareKeys:
		eligible, got = s.u1, func(id ClientID) bool { return s.shares[id] != nil }
	case PhaseMaskedInput:
		eligible, got = s.u2, func(id ClientID) bool { _, ok := s.masked[id]; return ok }
	case PhaseUnmask:
		eligible, got = s.u3, func(id ClientID) bool { return s.unmask[id] != nil }
	default:
		return nil
	}
	var out []ClientID
	for _, id := range eligible {
		if !got(id) {
			out = append(out, id)
		}
	}
	return out
}

// ReceiveBytes decodes a client message and passes it to Receive. Input longer
// than Params.MaxMessageSize is rejected before decoding.
func (s *Server) ReceiveBytes(data []byte) error {
	if limit := s.p.MaxMessageSize(); len(data) > limit {
		return msgErr(ErrMalformed, "", 0, "%d bytes, limit %d", len(data), limit)
	}
	m, err := Unmarshal(data)
	if err != nil {
		return err
	}
	return s.Receive(m)
}

// Receive validates and records one client message (AdvertiseKeys, ShareKeys,
// MaskedInput or UnmaskShares). Errors are *MessageError (or the round's
// *AbortError once aborted) and leave the state unchanged.
func (s *Server) Receive(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m := m.(type) {
	case *AdvertiseKeys:
		return s.onAdvertise(m)
	case *ShareKeys:
		return s.onShareKeys(m)
	case *MaskedInput:
		return s.onMaskedInput(m)
	case *UnmaskShares:
		return s.onUnmask(m)
	case nil:
		return msgErr(ErrMalformed, "", 0, "nil message")
	default:
		return msgErr(ErrMalformed, m.MessageHeader().Type, 0, "not a client-to-server message")
	}
}

// check validates the header, the phase, the sender's eligibility and duplicates.
func (s *Server) check(h Header, want MsgType, phase Phase, from ClientID, eligible func(ClientID) bool, seen func(ClientID) bool) error {
	if h.Version != Version || h.Type != want {
		return msgErr(ErrMalformed, want, from, "header version %d type %q", h.Version, h.Type)
	}
	if h.Cohort != s.p.Cohort || h.Round != s.p.Round {
		return msgErr(ErrWrongRound, want, from, "cohort %q round %q", h.Cohort, h.Round)
	}
	if s.phase == PhaseAborted {
		return s.abort
	}
	if s.phase != phase {
		return msgErr(ErrWrongPhase, want, from, "server is in %s", s.phase)
	}
	if !eligible(from) {
		return msgErr(ErrUnknownClient, want, from, "sender is not eligible in %s", phase)
	}
	if seen(from) {
		return msgErr(ErrDuplicate, want, from, "second message in %s", phase)
	}
	return nil
}

func (s *Server) onAdvertise(m *AdvertiseKeys) error {
	const typ = TypeAdvertiseKeys
	if m == nil {
		return msgErr(ErrMalformed, typ, 0, "nil message")
	}
	k := &m.PublicKeys
	if err := s.check(m.Header, typ, PhaseAdvertise, k.ID,
		func(id ClientID) bool { return s.member[id] },
		func(id ClientID) bool { return s.keys[id] != nil }); err != nil {
		return err
	}
	if _, err := parsePublicKey(k.EncKey); err != nil {
		return msgErr(ErrMalformed, typ, k.ID, "encryption key: %v", err)
	}
	if _, err := parsePublicKey(k.MaskKey); err != nil {
		return msgErr(ErrMalformed, typ, k.ID, "mask key: %v", err)
	}
	if bytes.Equal(k.EncKey, k.MaskKey) {
		return msgErr(ErrDuplicate, typ, k.ID, "encryption and mask keys are equal")
	}
	for _, other := range s.keys {
		for _, b := range [][]byte{other.EncKey, other.MaskKey} {
			if bytes.Equal(b, k.EncKey) || bytes.Equal(b, k.MaskKey) {
				return msgErr(ErrDuplicate, typ, k.ID, "public key already advertised by client %d", other.ID)
			}
		}
	}
	if !s.rc.verifyKeys(&s.p, k) {
		return msgErr(ErrBadSignature, typ, k.ID, "advertised keys")
	}
	s.keys[k.ID] = &PublicKeys{ID: k.ID, EncKey: slices.Clone(k.EncKey),
		MaskKey: slices.Clone(k.MaskKey), Sig: slices.Clone(k.Sig)}
	return nil
}

func (s *Server) onShareKeys(m *ShareKeys) error {
	const typ = TypeShareKeys
	if m == nil {
		return msgErr(ErrMalformed, typ, 0, "nil message")
	}
	if err := s.check(m.Header, typ, PhaseShareKeys, m.From,
		func(id ClientID) bool { return s.keys[id] != nil },
		func(id ClientID) bool { return s.shares[id] != nil }); err != nil {
		return err
	}
	if len(m.Commitment) != 32 {
		return msgErr(ErrMalformed, typ, m.From, "commitment of %d bytes", len(m.Commitment))
	}
	if len(m.Shares) > len(s.u1)-1 {
		return msgErr(ErrMalformed, typ, m.From, "%d shares for %d peers", len(m.Shares), len(s.u1)-1)
	}
	seen := make(map[ClientID]bool, len(m.Shares))
	for _, e := range m.Shares {
		if e.Peer == m.From || s.keys[e.Peer] == nil {
			return msgErr(ErrUnknownClient, typ, m.From, "share for client %d, not a peer in U1", e.Peer)
		}
		if seen[e.Peer] {
			return msgErr(ErrDuplicate, typ, m.From, "two shares for client %d", e.Peer)
		}
		seen[e.Peer] = true
		if len(e.Ciphertext) != shareCipherSize {
			return msgErr(ErrMalformed, typ, m.From, "share for client %d: %d bytes", e.Peer, len(e.Ciphertext))
		}
	}
	if len(seen) != len(s.u1)-1 {
		return msgErr(ErrMalformed, typ, m.From, "too few shares: %d for %d peers", len(seen), len(s.u1)-1)
	}
	c := &ShareKeys{Header: m.Header, From: m.From, Commitment: slices.Clone(m.Commitment)}
	for _, e := range m.Shares {
		c.Shares = append(c.Shares, EncryptedShare{Peer: e.Peer, Ciphertext: slices.Clone(e.Ciphertext)})
	}
	s.shares[m.From] = c
	return nil
}

func (s *Server) onMaskedInput(m *MaskedInput) error {
	const typ = TypeMaskedInput
	if m == nil {
		return msgErr(ErrMalformed, typ, 0, "nil message")
	}
	if err := s.check(m.Header, typ, PhaseMaskedInput, m.From,
		func(id ClientID) bool { return s.shares[id] != nil },
		func(id ClientID) bool { _, ok := s.masked[id]; return ok }); err != nil {
		return err
	}
	if len(m.Masked) != s.p.Length {
		return msgErr(ErrMalformed, typ, m.From, "%d coordinates, want %d", len(m.Masked), s.p.Length)
	}
	for i, y := range m.Masked {
		s.sum[i] += y
	}
	s.masked[m.From] = m.Noised
	return nil
}

func (s *Server) onUnmask(m *UnmaskShares) error {
	const typ = TypeUnmaskShares
	if m == nil {
		return msgErr(ErrMalformed, typ, 0, "nil message")
	}
	if err := s.check(m.Header, typ, PhaseUnmask, m.From,
		func(id ClientID) bool { _, ok := s.masked[id]; return ok },
		func(id ClientID) bool { return s.unmask[id] != nil }); err != nil {
		return err
	}
	// Exactly one b share per member of U3 and one s^SK share per member of U2 \ U3.
	parse := func(list []SecretShare, want func(ClientID) bool, n int, what string) (map[ClientID]fe, error) {
		if len(list) != n {
			return nil, msgErr(ErrMalformed, typ, m.From, "%d %s shares, want %d", len(list), what, n)
		}
		out := make(map[ClientID]fe, n)
		for _, sh := range list {
			if !want(sh.Owner) {
				return nil, msgErr(ErrUnknownClient, typ, m.From, "%s share of client %d", what, sh.Owner)
			}
			if _, dup := out[sh.Owner]; dup {
				return nil, msgErr(ErrDuplicate, typ, m.From, "two %s shares of client %d", what, sh.Owner)
			}
			v, ok := feDecode(sh.Value)
			if !ok {
				return nil, msgErr(ErrMalformed, typ, m.From, "%s share of client %d is not a field element", what, sh.Owner)
			}
			out[sh.Owner] = v
		}
		return out, nil
	}
	self, err := parse(m.SelfMask, func(id ClientID) bool { _, ok := s.masked[id]; return ok }, len(s.u3), "self-mask")
	if err != nil {
		return err
	}
	mask, err := parse(m.MaskKey, func(id ClientID) bool { _, ok := s.masked[id]; return s.shares[id] != nil && !ok },
		len(s.u2)-len(s.u3), "mask-key")
	if err != nil {
		return err
	}
	s.unmask[m.From] = &unmaskShares{self: self, mask: mask}
	return nil
}

func (s *Server) closing(phase Phase) error {
	if s.phase == PhaseAborted {
		return s.abort
	}
	if s.phase != phase {
		return &MessageError{Err: ErrWrongPhase, Detail: "server is in " + s.phase.String() + ", not " + phase.String()}
	}
	return nil
}

func (s *Server) fail(phase Phase, reason error, have int, detail string) error {
	s.phase = PhaseAborted
	s.abort = &AbortError{Phase: phase, Reason: reason, Have: have, Need: s.p.Threshold, Detail: detail}
	s.shares, s.unmask, s.sum = nil, nil, nil
	return s.abort
}

// CloseAdvertise ends round 0 and returns the KeyList to send to every member
// of U1 (its Keys). It aborts the round if fewer than t clients advertised.
func (s *Server) CloseAdvertise() (*KeyList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.closing(PhaseAdvertise); err != nil {
		return nil, err
	}
	if len(s.keys) < s.p.Threshold {
		return nil, s.fail(PhaseAdvertise, ErrTooFewSurvivors, len(s.keys), "")
	}
	s.u1 = sortedIDs(s.keys)
	kl := &KeyList{Header: s.rc.header(TypeKeyList)}
	for _, id := range s.u1 {
		k := s.keys[id]
		kl.Keys = append(kl.Keys, PublicKeys{ID: id, EncKey: slices.Clone(k.EncKey),
			MaskKey: slices.Clone(k.MaskKey), Sig: slices.Clone(k.Sig)})
	}
	s.phase = PhaseShareKeys
	return kl, nil
}

// CloseShareKeys ends round 1 and returns one ShareBundle per member of U2
// (sorted by recipient), to be delivered to its To. It aborts the round if
// fewer than t clients shared keys.
func (s *Server) CloseShareKeys() ([]*ShareBundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.closing(PhaseShareKeys); err != nil {
		return nil, err
	}
	if len(s.shares) < s.p.Threshold {
		return nil, s.fail(PhaseShareKeys, ErrTooFewSurvivors, len(s.shares), "")
	}
	s.u2 = sortedIDs(s.shares)
	out := make([]*ShareBundle, 0, len(s.u2))
	for _, v := range s.u2 {
		b := &ShareBundle{Header: s.rc.header(TypeShareBundle), To: v}
		for _, u := range s.u2 {
			if u == v {
				continue
			}
			for _, e := range s.shares[u].Shares {
				if e.Peer == v {
					b.Shares = append(b.Shares, EncryptedShare{Peer: u, Ciphertext: slices.Clone(e.Ciphertext)})
				}
			}
		}
		out = append(out, b)
	}
	s.sum = make([]uint64, s.p.Length)
	s.phase = PhaseMaskedInput
	return out, nil
}

// CloseMaskedInput ends round 2 and returns the UnmaskRequest listing U3, to be
// sent to every member of U3. It aborts the round if fewer than t masked inputs
// arrived. Every client of U3 is in the sum, even if it drops later.
func (s *Server) CloseMaskedInput() (*UnmaskRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.closing(PhaseMaskedInput); err != nil {
		return nil, err
	}
	if len(s.masked) < s.p.Threshold {
		return nil, s.fail(PhaseMaskedInput, ErrTooFewSurvivors, len(s.masked), "")
	}
	s.u3 = sortedIDs(s.masked)
	s.phase = PhaseUnmask
	return &UnmaskRequest{Header: s.rc.header(TypeUnmaskRequest), Survivors: slices.Clone(s.u3)}, nil
}

// Finish ends round 3: from the shares of the first t responders (by id) it
// rebuilds b_u for u ∈ U3 and s_u^SK for u ∈ U2 \ U3, removes the masks and
// returns the sum over U3. It aborts the round if fewer than t survivors
// answered (ErrTooFewSurvivors) or a rebuilt secret contradicts its commitment
// or public key (ErrReconstruct). After success it returns the same Result again.
func (s *Server) Finish() (*Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase == PhaseDone {
		return s.result.clone(), nil
	}
	if err := s.closing(PhaseUnmask); err != nil {
		return nil, err
	}
	if len(s.unmask) < s.p.Threshold {
		return nil, s.fail(PhaseUnmask, ErrTooFewSurvivors, len(s.unmask), "")
	}
	resp := sortedIDs(s.unmask)
	use := resp[:s.p.Threshold]
	lambda := lagrangeAtZero(use)
	ys := make([]fe, len(use))
	rebuild := func(owner ClientID, pick func(*unmaskShares) map[ClientID]fe) fe {
		for i, r := range use {
			ys[i] = pick(s.unmask[r])[owner]
		}
		return shamirCombine(lambda, ys)
	}
	sum := slices.Clone(s.sum)
	// Self masks of the included clients.
	for _, u := range s.u3 {
		b := rebuild(u, func(x *unmaskShares) map[ClientID]fe { return x.self })
		if subtle.ConstantTimeCompare(s.rc.commit(u, &b), s.shares[u].Commitment) != 1 {
			return nil, s.fail(PhaseUnmask, ErrReconstruct, len(resp), "self-mask seed of client "+idString(u))
		}
		seed, err := s.rc.selfMaskSeed(u, &b)
		if err != nil {
			return nil, err
		}
		if err := addPRG(sum, seed, true); err != nil {
			return nil, err
		}
	}
	// Pairwise masks between included clients and clients that dropped after sharing keys.
	included := make(map[ClientID]*ecdh.PublicKey, len(s.u3))
	for _, u := range s.u3 {
		pk, err := parsePublicKey(s.keys[u].MaskKey)
		if err != nil {
			return nil, err
		}
		included[u] = pk
	}
	var dropped []ClientID
	for _, d := range s.u2 {
		if _, ok := s.masked[d]; ok {
			continue
		}
		dropped = append(dropped, d)
		sigma := rebuild(d, func(x *unmaskShares) map[ClientID]fe { return x.mask })
		sk, err := s.rc.maskKey(d, &sigma)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(sk.PublicKey().Bytes(), s.keys[d].MaskKey) {
			return nil, s.fail(PhaseUnmask, ErrReconstruct, len(resp), "mask key of client "+idString(d))
		}
		for _, u := range s.u3 {
			seed, err := s.rc.pairSeed(sk, included[u], d, u)
			if err != nil {
				return nil, err
			}
			// y_u holds +PRG(s_ud) if d > u and −PRG(s_ud) if d < u: undo it.
			if err := addPRG(sum, seed, d > u); err != nil {
				return nil, err
			}
		}
	}
	noised := 0
	for _, u := range s.u3 {
		if s.masked[u] {
			noised++
		}
	}
	s.result = &Result{
		Cohort: s.p.Cohort, Round: s.p.Round, Sum: sum,
		Included: slices.Clone(s.u3), Dropped: dropped, Responders: resp,
		NoiseContributors: noised,
	}
	s.shares, s.unmask, s.sum = nil, nil, nil
	s.phase = PhaseDone
	return s.result.clone(), nil
}

func (r *Result) clone() *Result {
	c := *r
	c.Sum = slices.Clone(r.Sum)
	c.Included = slices.Clone(r.Included)
	c.Dropped = slices.Clone(r.Dropped)
	c.Responders = slices.Clone(r.Responders)
	return &c
}

func idString(id ClientID) string { return strconv.FormatUint(uint64(id), 10) }
