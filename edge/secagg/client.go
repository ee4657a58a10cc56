package secagg

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync"
)

// NoiseSource returns one integer noise draw (in the metric's fixed-point
// units). It must use crypto/rand in production (design §2); an error makes the
// client fail closed.
type NoiseSource func() (int64, error)

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithNoise makes the client add one draw of src to every coordinate of its
// input before masking. Calibrate src at full scale (each client's noise alone
// meets the target ε) unless the audit manifest declares otherwise; see the
// package documentation.
func WithNoise(src NoiseSource) ClientOption {
	return func(c *Client) { c.noise = src }
}

// WithSigningKey sets the client's Ed25519 identity key, used to sign its key
// advertisement. Required when Params.IdentityKeys is set, refused otherwise.
func WithSigningKey(k ed25519.PrivateKey) ClientOption {
	return func(c *Client) { c.sign = k }
}

// heldShare is what a client holds of a peer's secrets: its shares of σ_v
// (behind s_v^SK) and of b_v.
type heldShare struct {
	mask, self fe
}

// Client is one collector's side of a round. Create a new Client for every
// round. Methods are safe for concurrent use. A method that returns an error
// leaves the Client unchanged, except for an *AbortError, which is final.
type Client struct {
	mu     sync.Mutex
	p      Params
	rc     roundCtx
	id     ClientID
	member map[ClientID]bool
	rand   io.Reader // crypto/rand.Reader; tests in this package substitute it
	noise  NoiseSource
	sign   ed25519.PrivateKey
	phase  Phase

	// Round 0.
	encKey   *ecdh.PrivateKey // c_u^SK
	sigma    fe               // shared secret behind s_u^SK
	maskKey  *ecdh.PrivateKey // s_u^SK
	own      PublicKeys
	ownShare heldShare

	// Round 1.
	u1       []ClientID
	encPub   map[ClientID]*ecdh.PublicKey
	maskPub  map[ClientID]*ecdh.PublicKey
	selfMask fe // b_u

	// Round 2.
	u2   []ClientID
	held map[ClientID]heldShare
}

// NewClient returns the client id of the round described by p.
func NewClient(p Params, id ClientID, opts ...ClientOption) (*Client, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := &Client{p: p.clone(), id: id, rand: rand.Reader, phase: PhaseAdvertise}
	c.rc = newRoundCtx(&c.p)
	c.member = make(map[ClientID]bool, len(c.p.Members))
	for _, m := range c.p.Members {
		c.member[m] = true
	}
	if !c.member[id] {
		return nil, fmt.Errorf("%w: client %d is not a cohort member", ErrInvalidParams, id)
	}
	for _, o := range opts {
		o(c)
	}
	switch {
	case c.p.IdentityKeys == nil && c.sign != nil:
		return nil, fmt.Errorf("%w: signing key given but Params.IdentityKeys is not set", ErrInvalidParams)
	case c.p.IdentityKeys != nil:
		if len(c.sign) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: Params.IdentityKeys is set but no signing key was given", ErrInvalidParams)
		}
		if !bytes.Equal(c.sign.Public().(ed25519.PublicKey), c.p.IdentityKeys[id]) {
			return nil, fmt.Errorf("%w: signing key does not match the identity key of client %d", ErrInvalidParams, id)
		}
	}
	return c, nil
}

// ID returns the client's id.
func (c *Client) ID() ClientID { return c.id }

// Phase returns the phase whose message the client produces next.
func (c *Client) Phase() Phase {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.phase
}

func (c *Client) checkHeader(h Header, want MsgType, phase Phase) error {
	if h.Version != Version || h.Type != want {
		return msgErr(ErrMalformed, want, 0, "header version %d type %q", h.Version, h.Type)
	}
	if h.Cohort != c.p.Cohort || h.Round != c.p.Round {
		return msgErr(ErrWrongRound, want, 0, "cohort %q round %q", h.Cohort, h.Round)
	}
	return c.checkPhase(want, phase)
}

func (c *Client) checkPhase(t MsgType, phase Phase) error {
	if c.phase == PhaseAborted {
		return msgErr(ErrAborted, t, 0, "client aborted")
	}
	if c.phase != phase {
		return msgErr(ErrWrongPhase, t, 0, "client is in %s, not %s", c.phase, phase)
	}
	return nil
}

func (c *Client) abort(phase Phase, have int) error {
	c.phase = PhaseAborted
	c.zeroize()
	return &AbortError{Phase: phase, Reason: ErrTooFewSurvivors, Have: have, Need: c.p.Threshold}
}

func (c *Client) zeroize() {
	clear(c.sigma[:])
	clear(c.selfMask[:])
	c.ownShare = heldShare{}
	clear(c.held)
	c.encKey, c.maskKey = nil, nil
}

// Advertise starts round 0: it generates the client's two X25519 key pairs and
// returns their advertisement.
func (c *Client) Advertise() (*AdvertiseKeys, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkPhase(TypeAdvertiseKeys, PhaseAdvertise); err != nil {
		return nil, err
	}
	raw, err := readKey(c.rand)
	if err != nil {
		return nil, err
	}
	encKey, err := ecdh.X25519().NewPrivateKey(raw)
	clear(raw)
	if err != nil {
		return nil, err
	}
	sigma, err := feRandom(c.rand)
	if err != nil {
		return nil, err
	}
	maskKey, err := c.rc.maskKey(c.id, &sigma)
	if err != nil {
		return nil, err
	}
	own := PublicKeys{ID: c.id, EncKey: encKey.PublicKey().Bytes(), MaskKey: maskKey.PublicKey().Bytes()}
	if c.sign != nil {
		own.Sig = ed25519.Sign(c.sign, c.rc.signedKeys(&own))
	}
	c.encKey, c.sigma, c.maskKey, c.own = encKey, sigma, maskKey, own
	c.phase = PhaseShareKeys
	return &AdvertiseKeys{
		Header: c.rc.header(TypeAdvertiseKeys),
		PublicKeys: PublicKeys{ID: own.ID, EncKey: slices.Clone(own.EncKey),
			MaskKey: slices.Clone(own.MaskKey), Sig: slices.Clone(own.Sig)},
	}, nil
}

// ShareKeys runs round 1 on the server's KeyList: it checks U1 (members only, no
// duplicates, distinct valid keys, signatures, its own keys unchanged, at least
// t entries), draws b_u and returns its shares of b_u and s_u^SK encrypted to
// every other member of U1.
func (c *Client) ShareKeys(kl *KeyList) (*ShareKeys, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	const typ = TypeKeyList
	if kl == nil {
		return nil, msgErr(ErrMalformed, typ, 0, "nil message")
	}
	if err := c.checkHeader(kl.Header, typ, PhaseShareKeys); err != nil {
		return nil, err
	}
	if len(kl.Keys) > len(c.p.Members) {
		return nil, msgErr(ErrMalformed, typ, 0, "%d entries for %d members", len(kl.Keys), len(c.p.Members))
	}
	encPub := make(map[ClientID]*ecdh.PublicKey, len(kl.Keys))
	maskPub := make(map[ClientID]*ecdh.PublicKey, len(kl.Keys))
	keys := make(map[string]ClientID, 2*len(kl.Keys))
	var sawSelf bool
	for i := range kl.Keys {
		k := &kl.Keys[i]
		if !c.member[k.ID] {
			return nil, msgErr(ErrUnknownClient, typ, 0, "entry for client %d", k.ID)
		}
		if encPub[k.ID] != nil {
			return nil, msgErr(ErrDuplicate, typ, 0, "two entries for client %d", k.ID)
		}
		ep, err := parsePublicKey(k.EncKey)
		if err != nil {
			return nil, msgErr(ErrMalformed, typ, 0, "encryption key of client %d: %v", k.ID, err)
		}
		mp, err := parsePublicKey(k.MaskKey)
		if err != nil {
			return nil, msgErr(ErrMalformed, typ, 0, "mask key of client %d: %v", k.ID, err)
		}
		if !c.rc.verifyKeys(&c.p, k) {
			return nil, msgErr(ErrBadSignature, typ, 0, "keys of client %d", k.ID)
		}
		for _, b := range [][]byte{k.EncKey, k.MaskKey} {
			if prev, ok := keys[string(b)]; ok {
				return nil, msgErr(ErrDuplicate, typ, 0, "clients %d and %d advertise the same public key", prev, k.ID)
			}
			keys[string(b)] = k.ID
		}
		if k.ID == c.id {
			if !bytes.Equal(k.EncKey, c.own.EncKey) || !bytes.Equal(k.MaskKey, c.own.MaskKey) {
				return nil, msgErr(ErrMalformed, typ, 0, "this client's own keys were altered")
			}
			sawSelf = true
		}
		encPub[k.ID], maskPub[k.ID] = ep, mp
	}
	if !sawSelf {
		return nil, msgErr(ErrMalformed, typ, 0, "this client's keys are missing")
	}
	if len(encPub) < c.p.Threshold {
		return nil, c.abort(PhaseShareKeys, len(encPub))
	}
	u1 := sortedIDs(encPub)

	b, err := feRandom(c.rand)
	if err != nil {
		return nil, err
	}
	maskShares, err := shamirSplit(c.sigma, c.p.Threshold, u1, c.rand)
	if err != nil {
		return nil, err
	}
	selfShares, err := shamirSplit(b, c.p.Threshold, u1, c.rand)
	if err != nil {
		return nil, err
	}
	out := &ShareKeys{Header: c.rc.header(TypeShareKeys), From: c.id, Commitment: c.rc.commit(c.id, &b)}
	var own heldShare
	pt := make([]byte, sharePlainSize)
	defer clear(pt)
	for i, v := range u1 {
		if v == c.id {
			own = heldShare{mask: maskShares[i], self: selfShares[i]}
			continue
		}
		aead, ad, err := c.rc.shareAEAD(c.encKey, encPub[v], c.id, v)
		if err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(pt[0:], uint32(c.id))
		binary.BigEndian.PutUint32(pt[4:], uint32(v))
		copy(pt[8:], maskShares[i][:])
		copy(pt[8+feSize:], selfShares[i][:])
		nonce := make([]byte, shareNonceSize, shareCipherSize)
		if _, err := io.ReadFull(c.rand, nonce); err != nil {
			return nil, err
		}
		out.Shares = append(out.Shares, EncryptedShare{Peer: v, Ciphertext: aead.Seal(nonce, nonce, pt, ad)})
	}
	clear(maskShares)
	clear(selfShares)
	c.u1, c.encPub, c.maskPub, c.selfMask, c.ownShare = u1, encPub, maskPub, b, own
	clear(c.sigma[:]) // only its shares are needed from now on
	c.phase = PhaseMaskedInput
	return out, nil
}

// MaskInput runs round 2 on the client's ShareBundle: it decrypts the shares of
// every other member of U2 and returns y_u = x + noise + PRG(b_u) ± pairwise
// masks with U2. x must have Params.Length coordinates (two's-complement int64
// values, see FromInt64s). It is one-shot: after success, further calls fail
// with ErrWrongPhase.
func (c *Client) MaskInput(sb *ShareBundle, x []uint64) (*MaskedInput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	const typ = TypeShareBundle
	if sb == nil {
		return nil, msgErr(ErrMalformed, typ, 0, "nil message")
	}
	if err := c.checkHeader(sb.Header, typ, PhaseMaskedInput); err != nil {
		return nil, err
	}
	if sb.To != c.id {
		return nil, msgErr(ErrMalformed, typ, 0, "bundle addressed to client %d", sb.To)
	}
	if len(x) != c.p.Length {
		return nil, fmt.Errorf("%w: %d coordinates, want %d", ErrBadInput, len(x), c.p.Length)
	}
	if len(sb.Shares) >= len(c.u1) {
		return nil, msgErr(ErrMalformed, typ, 0, "%d shares for %d peers", len(sb.Shares), len(c.u1)-1)
	}
	held := make(map[ClientID]heldShare, len(sb.Shares)+1)
	held[c.id] = c.ownShare
	for _, s := range sb.Shares {
		if s.Peer == c.id || c.encPub[s.Peer] == nil {
			return nil, msgErr(ErrUnknownClient, typ, 0, "share from client %d, not a peer in U1", s.Peer)
		}
		if _, dup := held[s.Peer]; dup {
			return nil, msgErr(ErrDuplicate, typ, 0, "two shares from client %d", s.Peer)
		}
		if len(s.Ciphertext) != shareCipherSize {
			return nil, msgErr(ErrMalformed, typ, 0, "share from client %d: %d bytes", s.Peer, len(s.Ciphertext))
		}
		aead, ad, err := c.rc.shareAEAD(c.encKey, c.encPub[s.Peer], s.Peer, c.id)
		if err != nil {
			return nil, err
		}
		pt, err := aead.Open(nil, s.Ciphertext[:shareNonceSize], s.Ciphertext[shareNonceSize:], ad)
		if err != nil {
			return nil, msgErr(ErrDecrypt, typ, 0, "share from client %d", s.Peer)
		}
		from, to := ClientID(binary.BigEndian.Uint32(pt)), ClientID(binary.BigEndian.Uint32(pt[4:]))
		mask, ok1 := feDecode(pt[8 : 8+feSize])
		self, ok2 := feDecode(pt[8+feSize:])
		clear(pt)
		if from != s.Peer || to != c.id || !ok1 || !ok2 {
			return nil, msgErr(ErrMalformed, typ, 0, "share from client %d has a bad plaintext", s.Peer)
		}
		held[s.Peer] = heldShare{mask: mask, self: self}
	}
	if have := len(held); have < c.p.Threshold {
		clear(held)
		return nil, c.abort(PhaseMaskedInput, have)
	}
	u2 := sortedIDs(held)

	y := slices.Clone(x)
	if c.noise != nil {
		for i := range y {
			n, err := c.noise()
			if err != nil {
				clear(y)
				return nil, fmt.Errorf("%w: %w", ErrNoise, err)
			}
			y[i] += uint64(n)
		}
	}
	seed, err := c.rc.selfMaskSeed(c.id, &c.selfMask)
	if err != nil {
		return nil, err
	}
	if err := addPRG(y, seed, false); err != nil {
		return nil, err
	}
	for _, v := range u2 {
		if v == c.id {
			continue
		}
		seed, err := c.rc.pairSeed(c.maskKey, c.maskPub[v], c.id, v)
		if err != nil {
			return nil, err
		}
		// + PRG(s_uv) for v > u, − PRG(s_uv) for v < u.
		if err := addPRG(y, seed, v < c.id); err != nil {
			return nil, err
		}
	}
	c.u2, c.held = u2, held
	clear(c.selfMask[:])
	c.maskKey = nil
	c.phase = PhaseUnmask
	return &MaskedInput{Header: c.rc.header(TypeMaskedInput), From: c.id, Noised: c.noise != nil, Masked: y}, nil
}

// Unmask runs round 3 on the UnmaskRequest: for every v in U2 it reveals its
// share of b_v if v is listed as a survivor and its share of s_v^SK otherwise —
// never both, and only once (further calls fail with ErrWrongPhase). The
// survivors must be a subset of U2 that contains this client and has at least t
// members.
func (c *Client) Unmask(r *UnmaskRequest) (*UnmaskShares, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	const typ = TypeUnmaskRequest
	if r == nil {
		return nil, msgErr(ErrMalformed, typ, 0, "nil message")
	}
	if err := c.checkHeader(r.Header, typ, PhaseUnmask); err != nil {
		return nil, err
	}
	if len(r.Survivors) > len(c.u2) {
		return nil, msgErr(ErrMalformed, typ, 0, "%d survivors of %d", len(r.Survivors), len(c.u2))
	}
	surv := make(map[ClientID]bool, len(r.Survivors))
	for _, v := range r.Survivors {
		if _, ok := c.held[v]; !ok {
			return nil, msgErr(ErrUnknownClient, typ, 0, "survivor %d is not in U2", v)
		}
		if surv[v] {
			return nil, msgErr(ErrDuplicate, typ, 0, "survivor %d listed twice", v)
		}
		surv[v] = true
	}
	if !surv[c.id] {
		return nil, msgErr(ErrUnknownClient, typ, 0, "this client is not listed as a survivor")
	}
	if len(surv) < c.p.Threshold {
		return nil, c.abort(PhaseUnmask, len(surv))
	}
	out := &UnmaskShares{Header: c.rc.header(TypeUnmaskShares), From: c.id}
	for _, v := range c.u2 {
		h := c.held[v]
		if surv[v] {
			out.SelfMask = append(out.SelfMask, SecretShare{Owner: v, Value: slices.Clone(h.self[:])})
		} else {
			out.MaskKey = append(out.MaskKey, SecretShare{Owner: v, Value: slices.Clone(h.mask[:])})
		}
	}
	c.zeroize()
	c.phase = PhaseDone
	return out, nil
}

func sortedIDs[V any](m map[ClientID]V) []ClientID {
	ids := make([]ClientID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
