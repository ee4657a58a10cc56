package secagg

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"slices"
	"testing"
)

// clone deep-copies a message through its encoding.
func clone[M Message](tb testing.TB, m M) M {
	_, c := wire(tb, m)
	return c
}

// TestServerRejects: malformed, duplicate, replayed, unknown-sender and
// out-of-phase messages get typed errors, never panic, and leave the server
// unchanged: the round then completes with the exact sum.
func TestServerRejects(t *testing.T) {
	tr := sharedTranscript(t)
	p := tr.p
	other := p
	other.Round = "netflow/bytes/2026-04-01T10:01Z"
	type msgs = map[ClientID]Message
	tests := []struct {
		name  string
		phase Phase
		bad   func(tr *transcript, cur, prev msgs) any // a Message or raw bytes
		want  []error
	}{
		// Encoding.
		{"garbage bytes", PhaseAdvertise, func(*transcript, msgs, msgs) any { return []byte("\x00{garbage") }, []error{ErrMalformed}},
		{"empty object", PhaseAdvertise, func(*transcript, msgs, msgs) any { return []byte("{}") }, []error{ErrMalformed}},
		{"oversized message", PhaseMaskedInput, func(*transcript, msgs, msgs) any {
			return bytes.Repeat([]byte(" "), p.MaxMessageSize()+1)
		}, []error{ErrMalformed}},
		{"null", PhaseAdvertise, func(*transcript, msgs, msgs) any { return []byte("null") }, []error{ErrMalformed}},
		{"unknown type", PhaseAdvertise, func(*transcript, msgs, msgs) any {
			return []byte(`{"v":1,"type":"gimme_inputs","cohort":"district-7","round":"x"}`)
		}, []error{ErrMalformed}},
		{"unknown field", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			b, _ := Marshal(cur[5])
			return append(b[:len(b)-1], []byte(`,"extra":1}`)...)
		}, []error{ErrMalformed}},
		{"trailing data", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			b, _ := Marshal(cur[5])
			return append(b, []byte(` {}`)...)
		}, []error{ErrMalformed}},
		{"other version", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.Version = 2
			return m
		}, []error{ErrMalformed}},
		{"header type mismatch", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.Type = TypeShareKeys
			return m
		}, []error{ErrMalformed}},
		{"server-to-client message", PhaseShareKeys, func(tr *transcript, _, _ msgs) any { return tr.keyList }, []error{ErrMalformed}},
		{"nil message", PhaseAdvertise, func(*transcript, msgs, msgs) any { return Message(nil) }, []error{ErrMalformed}},
		{"typed nil message", PhaseAdvertise, func(*transcript, msgs, msgs) any { return (*AdvertiseKeys)(nil) }, []error{ErrMalformed}},
		{"negative masked coordinate", PhaseMaskedInput, func(*transcript, msgs, msgs) any {
			return []byte(`{"v":1,"type":"masked_input","cohort":"district-7","round":"netflow/bytes/2026-04-01T10:00Z","from":5,"noised":false,"y":[1,-2,3,4]}`)
		}, []error{ErrMalformed}},

		// Round 0.
		{"advertise for another round", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.Round = other.Round
			return m
		}, []error{ErrWrongRound}},
		{"advertise for another cohort", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.Cohort = "district-8"
			return m
		}, []error{ErrWrongRound}},
		{"duplicate advertise", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any { return cur[1] }, []error{ErrDuplicate}},
		{"advertise from a non-member", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.ID = 99
			return m
		}, []error{ErrUnknownClient}},
		{"advertise from id 0", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.ID = 0
			return m
		}, []error{ErrUnknownClient}},
		{"short key", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.EncKey = m.EncKey[:31]
			return m
		}, []error{ErrMalformed}},
		{"low-order key", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.MaskKey = make([]byte, 32) // u = 0
			return m
		}, []error{ErrMalformed}},
		{"non-canonical key", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.EncKey = bytes.Repeat([]byte{0xff}, 32)
			return m
		}, []error{ErrMalformed}},
		{"key copied from another client", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.MaskKey = cur[2].(*AdvertiseKeys).EncKey
			return m
		}, []error{ErrDuplicate}},
		{"equal key pair", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.MaskKey = m.EncKey
			return m
		}, []error{ErrDuplicate}},
		{"unexpected signature", PhaseAdvertise, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*AdvertiseKeys))
			m.Sig = make([]byte, ed25519.SignatureSize)
			return m
		}, []error{ErrBadSignature}},
		{"share keys before key list", PhaseAdvertise, func(*transcript, msgs, msgs) any {
			return &ShareKeys{Header: Header{Version, TypeShareKeys, p.Cohort, p.Round}, From: 1}
		}, []error{ErrWrongPhase}},

		// Round 1.
		{"late advertise", PhaseShareKeys, func(_ *transcript, _, prev msgs) any { return prev[5] }, []error{ErrWrongPhase}},
		{"duplicate share keys", PhaseShareKeys, func(_ *transcript, cur, _ msgs) any { return cur[2] }, []error{ErrDuplicate}},
		{"share keys from a non-member", PhaseShareKeys, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*ShareKeys))
			m.From = 99
			return m
		}, []error{ErrUnknownClient}},
		{"too few shares", PhaseShareKeys, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*ShareKeys))
			m.Shares = m.Shares[1:]
			return m
		}, []error{ErrMalformed}},
		{"too many shares", PhaseShareKeys, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*ShareKeys))
			m.Shares = append(m.Shares, m.Shares[0])
			return m
		}, []error{ErrMalformed}},
		{"duplicate recipient", PhaseShareKeys, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*ShareKeys))
			m.Shares[1].Peer = m.Shares[0].Peer
			return m
		}, []error{ErrDuplicate}},
		{"share to self", PhaseShareKeys, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*ShareKeys))
			m.Shares[0].Peer = 5
			return m
		}, []error{ErrUnknownClient}},
		{"share to a non-member", PhaseShareKeys, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*ShareKeys))
			m.Shares[0].Peer = 1000
			return m
		}, []error{ErrUnknownClient}},
		{"truncated ciphertext", PhaseShareKeys, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*ShareKeys))
			m.Shares[2].Ciphertext = m.Shares[2].Ciphertext[:50]
			return m
		}, []error{ErrMalformed}},
		{"bad commitment", PhaseShareKeys, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*ShareKeys))
			m.Commitment = nil
			return m
		}, []error{ErrMalformed}},

		// Round 2.
		{"wrong vector length", PhaseMaskedInput, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*MaskedInput))
			m.Masked = m.Masked[:3]
			return m
		}, []error{ErrMalformed}},
		{"duplicate masked input", PhaseMaskedInput, func(_ *transcript, cur, _ msgs) any { return cur[3] }, []error{ErrDuplicate}},
		{"masked input replayed from another round", PhaseMaskedInput, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*MaskedInput))
			m.Round = other.Round
			return m
		}, []error{ErrWrongRound}},
		{"masked input from a non-member", PhaseMaskedInput, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*MaskedInput))
			m.From = 6
			return m
		}, []error{ErrUnknownClient}},
		{"late share keys", PhaseMaskedInput, func(_ *transcript, _, prev msgs) any { return prev[5] }, []error{ErrWrongPhase}},

		// Round 3.
		{"duplicate unmask", PhaseUnmask, func(_ *transcript, cur, _ msgs) any { return cur[4] }, []error{ErrDuplicate}},
		{"missing self-mask share", PhaseUnmask, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*UnmaskShares))
			m.SelfMask = m.SelfMask[:4]
			return m
		}, []error{ErrMalformed}},
		{"mask-key share of a survivor", PhaseUnmask, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*UnmaskShares))
			m.MaskKey = []SecretShare{m.SelfMask[0]} // asking for both secrets of client 1
			return m
		}, []error{ErrMalformed}},
		{"duplicate share owner", PhaseUnmask, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*UnmaskShares))
			m.SelfMask[1].Owner = m.SelfMask[0].Owner
			return m
		}, []error{ErrDuplicate}},
		{"share of a non-member", PhaseUnmask, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*UnmaskShares))
			m.SelfMask[1].Owner = 77
			return m
		}, []error{ErrUnknownClient}},
		{"non-canonical share", PhaseUnmask, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*UnmaskShares))
			m.SelfMask[0].Value = bytes.Repeat([]byte{0xff}, 32)
			return m
		}, []error{ErrMalformed}},
		{"short share", PhaseUnmask, func(_ *transcript, cur, _ msgs) any {
			m := clone(t, cur[5].(*UnmaskShares))
			m.SelfMask[0].Value = m.SelfMask[0].Value[:16]
			return m
		}, []error{ErrMalformed}},
		{"late masked input", PhaseUnmask, func(_ *transcript, _, prev msgs) any { return prev[5] }, []error{ErrWrongPhase}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := tr.replay(t, tc.phase, ids(1, 2, 3, 4))
			decode := func(ph Phase) msgs {
				out := msgs{}
				for _, id := range p.Members {
					out[id] = tr.msg(t, ph, id)
				}
				return out
			}
			var prev msgs
			if tc.phase > PhaseAdvertise {
				prev = decode(tc.phase - 1)
			}
			var err error
			switch bad := tc.bad(tr, decode(tc.phase), prev).(type) {
			case []byte:
				err = srv.ReceiveBytes(bad)
			case Message:
				err = srv.Receive(bad)
			default:
				err = srv.Receive(nil)
			}
			wantErr(t, err, tc.want...)
			var me *MessageError
			if !errors.As(err, &me) {
				t.Fatalf("error %T is not a *MessageError", err)
			}
			if w := srv.Waiting(); !slices.Equal(w, ids(5)) {
				t.Fatalf("rejected message changed the state: waiting for %v", w)
			}
			// The round completes as recorded.
			for ph := tc.phase; ph <= PhaseUnmask; ph++ {
				send := p.Members
				if ph == tc.phase {
					send = ids(5)
				}
				for _, id := range send {
					if err := srv.ReceiveBytes(tr.msgs[ph][id]); err != nil {
						t.Fatalf("%s from %d: %v", ph, id, err)
					}
				}
				if err := closeServer(srv, ph); err != nil {
					t.Fatalf("close %s: %v", ph, err)
				}
			}
			res, _ := srv.Finish()
			if !slices.Equal(res.Sum, tr.sum) {
				t.Fatal("sum changed by a rejected message")
			}
			// Nothing is accepted after the release.
			wantErr(t, srv.ReceiveBytes(tr.msgs[PhaseUnmask][1]), ErrWrongPhase)
			_, err = srv.CloseMaskedInput()
			wantErr(t, err, ErrWrongPhase)
		})
	}
}

// TestTooManyDropouts: fewer than t clients at any step aborts the round with
// a typed error and nothing is released afterwards.
func TestTooManyDropouts(t *testing.T) {
	tests := []struct {
		name  string
		drops dropPlan
		phase Phase
		have  int
	}{
		{"advertise", dropPlan{advertise: ids(1, 2, 3)}, PhaseAdvertise, 2},
		{"share keys", dropPlan{advertise: ids(1), shareKeys: ids(2, 3)}, PhaseShareKeys, 2},
		{"masked input", dropPlan{maskedInput: ids(2, 3, 4)}, PhaseMaskedInput, 2},
		{"unmask", dropPlan{maskedInput: ids(1), unmask: ids(2, 3)}, PhaseUnmask, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams(5, 3, 4)
			r := newRound(t, p, randomInputs(t, p, tc.name), roundOpts{})
			res, err := r.run(tc.drops)
			if res != nil {
				t.Fatalf("released %v", res)
			}
			wantErr(t, err, ErrAborted, ErrTooFewSurvivors)
			var ae *AbortError
			if !errors.As(err, &ae) || ae.Phase != tc.phase || ae.Have != tc.have || ae.Need != 3 {
				t.Fatalf("abort error %#v", err)
			}
			if r.srv.Phase() != PhaseAborted {
				t.Fatalf("server phase %s", r.srv.Phase())
			}
			_, err = r.srv.Finish()
			wantErr(t, err, ErrAborted)
			_, err = r.srv.CloseAdvertise()
			wantErr(t, err, ErrAborted)
			adv, _ := NewClient(p, 1)
			m, _ := adv.Advertise()
			wantErr(t, r.srv.Receive(m), ErrAborted)
		})
	}
}

// TestCorruptShareAborts: a share that decodes but is wrong makes the rebuilt
// secret contradict its commitment or public key; the round aborts.
func TestCorruptShareAborts(t *testing.T) {
	for _, which := range []string{"self-mask", "mask-key"} {
		t.Run(which, func(t *testing.T) {
			p := testParams(5, 3, 4)
			r := newRound(t, p, randomInputs(t, p, which), roundOpts{})
			r.advertise(p.Members)
			_ = r.closeAdvertise()
			r.shareKeys(p.Members)
			_ = r.closeShareKeys()
			r.maskInputs(ids(1, 2, 3, 4)) // 5 drops: its mask key gets rebuilt
			_ = r.closeMaskedInput()
			for _, id := range ids(1, 2, 3, 4) {
				m, err := r.clients[id].Unmask(r.request)
				if err != nil {
					t.Fatal(err)
				}
				if id == 1 {
					list := m.SelfMask
					if which == "mask-key" {
						list = m.MaskKey
					}
					list[0].Value[0] ^= 1 // still canonical
				}
				r.mustSend(m)
			}
			res, err := r.srv.Finish()
			if res != nil {
				t.Fatalf("released %v", res)
			}
			wantErr(t, err, ErrAborted, ErrReconstruct)
		})
	}
}

// TestClientRejects: the client checks what the server sends it.
func TestClientRejects(t *testing.T) {
	tr := sharedTranscript(t)
	p := tr.p
	// Every case runs against client 1 of the transcript, rebuilt and walked
	// to the case's phase.
	type env struct {
		c  *Client
		tr *transcript
	}
	keyList := func(f func(*KeyList)) func(*testing.T, env) error {
		return func(t *testing.T, e env) error {
			kl := clone(t, e.tr.keyList)
			f(kl)
			_, err := e.c.ShareKeys(kl)
			return err
		}
	}
	bundle := func(f func(*ShareBundle)) func(*testing.T, env) error {
		return func(t *testing.T, e env) error {
			b := clone(t, e.tr.bundles[1])
			f(b)
			_, err := e.c.MaskInput(b, e.tr.inputs[1])
			return err
		}
	}
	request := func(survivors ...ClientID) func(*testing.T, env) error {
		return func(t *testing.T, e env) error {
			req := clone(t, e.tr.request)
			req.Survivors = survivors
			_, err := e.c.Unmask(req)
			return err
		}
	}
	tests := []struct {
		name  string
		phase Phase
		do    func(*testing.T, env) error
		want  []error
	}{
		{"key list for another round", PhaseShareKeys, keyList(func(k *KeyList) { k.Round = "old" }), []error{ErrWrongRound}},
		{"key list without this client", PhaseShareKeys, keyList(func(k *KeyList) { k.Keys = k.Keys[1:] }), []error{ErrMalformed}},
		{"key list alters this client's key", PhaseShareKeys, keyList(func(k *KeyList) { k.Keys[0].MaskKey = k.Keys[2].MaskKey }), []error{ErrMalformed}},
		{"key list with a key used twice", PhaseShareKeys, keyList(func(k *KeyList) { k.Keys[3].MaskKey = k.Keys[2].EncKey }), []error{ErrDuplicate}},
		{"key list replaces this client's keys", PhaseShareKeys, keyList(func(k *KeyList) {
			c, _ := NewClient(p, 1)
			m, _ := c.Advertise()
			k.Keys[0] = m.PublicKeys
		}), []error{ErrMalformed}},
		{"key list with a duplicate entry", PhaseShareKeys, keyList(func(k *KeyList) { k.Keys = append(k.Keys, k.Keys[3]) }), []error{ErrMalformed}},
		{"key list with two entries for one id", PhaseShareKeys, keyList(func(k *KeyList) { k.Keys[3].ID = 3 }), []error{ErrDuplicate}},
		{"key list with a non-member", PhaseShareKeys, keyList(func(k *KeyList) { k.Keys[3].ID = 42 }), []error{ErrUnknownClient}},
		{"key list with a low-order key", PhaseShareKeys, keyList(func(k *KeyList) { k.Keys[2].EncKey = make([]byte, 32) }), []error{ErrMalformed}},
		{"key list with too few clients", PhaseShareKeys, keyList(func(k *KeyList) { k.Keys = k.Keys[:2] }), []error{ErrAborted, ErrTooFewSurvivors}},
		{"nil key list", PhaseShareKeys, func(t *testing.T, e env) error { _, err := e.c.ShareKeys(nil); return err }, []error{ErrMalformed}},
		{"unmask before masking", PhaseShareKeys, func(t *testing.T, e env) error {
			_, err := e.c.Unmask(&UnmaskRequest{Header: Header{Version, TypeUnmaskRequest, p.Cohort, p.Round}})
			return err
		}, []error{ErrWrongPhase}},
		{"advertise twice", PhaseShareKeys, func(t *testing.T, e env) error { _, err := e.c.Advertise(); return err }, []error{ErrWrongPhase}},

		{"tampered ciphertext", PhaseMaskedInput, bundle(func(b *ShareBundle) { b.Shares[0].Ciphertext[20] ^= 1 }), []error{ErrDecrypt}},
		{"ciphertext relabelled to another sender", PhaseMaskedInput, bundle(func(b *ShareBundle) {
			b.Shares[0].Peer, b.Shares[1].Peer = b.Shares[1].Peer, b.Shares[0].Peer
		}), []error{ErrDecrypt}},
		{"bundle for another client", PhaseMaskedInput, bundle(func(b *ShareBundle) { b.To = 2 }), []error{ErrMalformed}},
		{"bundle for another round", PhaseMaskedInput, bundle(func(b *ShareBundle) { b.Round = "old" }), []error{ErrWrongRound}},
		{"bundle with a share from self", PhaseMaskedInput, bundle(func(b *ShareBundle) { b.Shares[0].Peer = 1 }), []error{ErrUnknownClient}},
		{"bundle with duplicate senders", PhaseMaskedInput, bundle(func(b *ShareBundle) { b.Shares[1] = b.Shares[0] }), []error{ErrDuplicate}},
		{"bundle with a short ciphertext", PhaseMaskedInput, bundle(func(b *ShareBundle) { b.Shares[1].Ciphertext = nil }), []error{ErrMalformed}},
		{"bundle with too many shares", PhaseMaskedInput, bundle(func(b *ShareBundle) { b.Shares = append(b.Shares, b.Shares[0]) }), []error{ErrMalformed}},
		{"bundle with too few shares", PhaseMaskedInput, bundle(func(b *ShareBundle) { b.Shares = b.Shares[:1] }), []error{ErrAborted, ErrTooFewSurvivors}},
		{"input of wrong length", PhaseMaskedInput, func(t *testing.T, e env) error {
			_, err := e.c.MaskInput(e.tr.bundles[1], []uint64{1})
			return err
		}, []error{ErrBadInput}},

		{"survivor outside U2", PhaseUnmask, request(1, 2, 3, 9), []error{ErrUnknownClient}},
		{"survivors without this client", PhaseUnmask, request(2, 3, 4), []error{ErrUnknownClient}},
		{"duplicate survivor", PhaseUnmask, request(1, 2, 2, 3), []error{ErrDuplicate}},
		{"too few survivors", PhaseUnmask, request(1, 2), []error{ErrAborted, ErrTooFewSurvivors}},
		{"mask input twice", PhaseUnmask, func(t *testing.T, e env) error {
			_, err := e.c.MaskInput(e.tr.bundles[1], e.tr.inputs[1])
			return err
		}, []error{ErrWrongPhase}},
		{
			// An equivocating server asks twice with different survivor sets to
			// obtain both the b share and the s^SK share of client 5.
			"second unmask request", PhaseUnmask, func(t *testing.T, e env) error {
				if err := request(1, 2, 3, 4, 5)(t, e); err != nil {
					t.Fatal(err)
				}
				return request(1, 2, 3, 4)(t, e)
			}, []error{ErrWrongPhase},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := env{c: tr.client(t, 1, tc.phase), tr: tr}
			before := e.c.Phase()
			err := tc.do(t, e)
			wantErr(t, err, tc.want...)
			var ae *AbortError
			switch after := e.c.Phase(); {
			case errors.As(err, &ae):
				if after != PhaseAborted {
					t.Fatalf("client in %s after abort", after)
				}
			case after != before && tc.name != "second unmask request":
				t.Fatalf("rejected message moved the client from %s to %s", before, after)
			}
		})
	}
}

func TestParamsValidate(t *testing.T) {
	good := testParams(5, 3, 4)
	tests := []struct {
		name string
		edit func(*Params)
	}{
		{"empty cohort", func(p *Params) { p.Cohort = "" }},
		{"empty round", func(p *Params) { p.Round = "" }},
		{"invalid UTF-8 round", func(p *Params) { p.Round = "\xff" }},
		{"long round", func(p *Params) { p.Round = string(bytes.Repeat([]byte("r"), MaxIDLength+1)) }},
		{"one member", func(p *Params) { p.Members = ids(1); p.Threshold = 1 }},
		{"member 0", func(p *Params) { p.Members[0] = 0 }},
		{"duplicate member", func(p *Params) { p.Members[1] = p.Members[0] }},
		{"threshold 1", func(p *Params) { p.Threshold = 1 }},
		{"threshold above n", func(p *Params) { p.Threshold = 6 }},
		{"threshold not a majority", func(p *Params) { p.Members = append(p.Members, 6); p.Threshold = 3 }},
		{"zero length", func(p *Params) { p.Length = 0 }},
		{"huge length", func(p *Params) { p.Length = MaxLength + 1 }},
		{"partial identity keys", func(p *Params) {
			p.IdentityKeys = map[ClientID]ed25519.PublicKey{1: make(ed25519.PublicKey, 32)}
		}},
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := good.clone()
			tc.edit(&p)
			if err := p.Validate(); !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Validate = %v", err)
			}
			if _, err := NewServer(p); !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("NewServer = %v", err)
			}
		})
	}
	if _, err := NewClient(good, 6); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("non-member client: %v", err)
	}
}

// TestParamsMismatch: a client built with other parameters than its peers
// derives other keys, so its shares fail to decrypt instead of mixing rounds.
func TestParamsMismatch(t *testing.T) {
	p := testParams(5, 3, 4)
	r := newRound(t, p, randomInputs(t, p, "mismatch"), roundOpts{})
	q := p.clone()
	q.Threshold = 4
	odd, err := NewClient(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	r.clients[1] = odd
	r.advertise(p.Members)
	if err := r.closeAdvertise(); err != nil {
		t.Fatal(err)
	}
	r.shareKeys(p.Members)
	if err := r.closeShareKeys(); err != nil {
		t.Fatal(err)
	}
	_, err = r.clients[2].MaskInput(r.bundles[2], r.inputs[2])
	wantErr(t, err, ErrDecrypt)
}
