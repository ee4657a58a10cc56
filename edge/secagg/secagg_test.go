package secagg

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
)

func ids(v ...ClientID) []ClientID { return v }

// TestRoundSums: the released total is exactly the sum of the inputs of U3, the
// clients whose masked input the server accepted, whoever drops when.
func TestRoundSums(t *testing.T) {
	tests := []struct {
		name          string
		n, t, length  int
		drops         dropPlan
		included      []ClientID // U3; nil means all members
		wantDropped   []ClientID
		wantResponder int
	}{
		{name: "no dropouts", n: 10, t: 6, length: 16, wantResponder: 10},
		{
			// 10 clients, t = 7: three drop after sending their shares and
			// before sending masked inputs.
			name: "3 of 10 drop after sharing keys", n: 10, t: 7, length: 64,
			drops:         dropPlan{maskedInput: ids(2, 5, 9)},
			included:      ids(1, 3, 4, 6, 7, 8, 10),
			wantDropped:   ids(2, 5, 9),
			wantResponder: 7,
		},
		{
			// One drop per phase: 10 -> U1 9 -> U2 8 -> U3 7 -> U5 6 = t.
			// Client 4 drops after its masked input and is still counted.
			name: "one drop in every phase", n: 10, t: 6, length: 33,
			drops:         dropPlan{advertise: ids(10), shareKeys: ids(1), maskedInput: ids(7), unmask: ids(4)},
			included:      ids(2, 3, 4, 5, 6, 8, 9),
			wantDropped:   ids(7),
			wantResponder: 6,
		},
		{
			name: "late droppers are counted", n: 5, t: 3, length: 8,
			drops:         dropPlan{unmask: ids(1, 5)},
			included:      ids(1, 2, 3, 4, 5),
			wantResponder: 3,
		},
		{
			name: "smallest cohort", n: 3, t: 2, length: 1,
			drops:         dropPlan{maskedInput: ids(2)},
			included:      ids(1, 3),
			wantDropped:   ids(2),
			wantResponder: 2,
		},
		{name: "long vector", n: 4, t: 3, length: 5000, drops: dropPlan{maskedInput: ids(3)},
			included: ids(1, 2, 4), wantDropped: ids(3), wantResponder: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams(tc.n, tc.t, tc.length)
			in := randomInputs(t, p, tc.name)
			r := newRound(t, p, in, roundOpts{})
			res, err := r.run(tc.drops)
			if err != nil {
				t.Fatalf("round failed: %v", err)
			}
			inc := tc.included
			if inc == nil {
				inc = p.Members
			}
			if want := sumOf(p.Length, in, inc); !slices.Equal(res.Sum, want) {
				t.Fatalf("sum mismatch:\n got %v\nwant %v", res.Sum[:min(4, len(res.Sum))], want[:min(4, len(want))])
			}
			if !slices.Equal(res.Included, inc) || !slices.Equal(res.Dropped, tc.wantDropped) ||
				len(res.Responders) != tc.wantResponder {
				t.Fatalf("sets: included %v dropped %v responders %v", res.Included, res.Dropped, res.Responders)
			}
			if res.NoiseContributors != 0 || res.Cohort != p.Cohort || res.Round != p.Round {
				t.Fatalf("result metadata %+v", res)
			}
			if r.srv.Phase() != PhaseDone {
				t.Fatalf("server phase %s", r.srv.Phase())
			}
			again, err := r.srv.Finish()
			if err != nil || !slices.Equal(again.Sum, res.Sum) {
				t.Fatalf("second Finish: %v", err)
			}
		})
	}
}

// TestSignedInt64Sum: two's-complement int64 values sum correctly through mod 2^64.
func TestSignedInt64Sum(t *testing.T) {
	p := testParams(3, 2, 3)
	vals := map[ClientID][]int64{1: {-5, 1 << 40, -1}, 2: {7, -(1 << 41), -1}, 3: {-100, 3, -1}}
	in := map[ClientID][]uint64{}
	for id, v := range vals {
		in[id] = FromInt64s(v)
	}
	res, err := newRound(t, p, in, roundOpts{}).run(dropPlan{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ToInt64s(res.Sum), []int64{-98, (1 << 40) - (1 << 41) + 3, -3}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestServerSeesNoPlaintext records every message the server receives and
// checks that no input vector, nor any single coordinate of one, appears in it
// in any encoding, and that every masked coordinate differs from the input.
func TestServerSeesNoPlaintext(t *testing.T) {
	p := testParams(10, 6, 64)
	in := randomInputs(t, p, "no plaintext")
	r := newRound(t, p, in, roundOpts{})
	res, err := r.run(dropPlan{maskedInput: ids(3, 6, 8), unmask: ids(10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.received) != 10+10+7+6 {
		t.Fatalf("recorded %d messages", len(r.received))
	}

	type needle struct {
		what string
		b    []byte
	}
	var needles []needle
	for id, v := range in {
		whole := make([]byte, 0, 8*len(v))
		for i, x := range v {
			le := binary.LittleEndian.AppendUint64(nil, x)
			be := binary.BigEndian.AppendUint64(nil, x)
			whole = append(whole, le...)
			for _, n := range []needle{
				{"decimal", []byte(strconv.FormatUint(x, 10))},
				{"signed decimal", []byte(strconv.FormatInt(int64(x), 10))},
				{"hex", []byte(strconv.FormatUint(x, 16))},
				{"little-endian", le},
				{"big-endian", be},
				{"base64 little-endian", []byte(base64.StdEncoding.EncodeToString(le)[:8])},
			} {
				n.what = fmt.Sprintf("client %d coordinate %d %s", id, i, n.what)
				needles = append(needles, n)
			}
		}
		needles = append(needles, needle{fmt.Sprintf("client %d whole vector", id), whole})
	}

	// findLeak reports the first needle found in the raw JSON, in any decoded
	// base64 field or in any number of a message.
	findLeak := func(raw []byte) string {
		hay := [][]byte{raw}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for _, e := range v {
					walk(e)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			case string:
				if b, err := base64.StdEncoding.DecodeString(v); err == nil {
					hay = append(hay, b)
				}
			case json.Number:
				hay = append(hay, []byte(v.String()))
			}
		}
		walk(v)
		for _, h := range hay {
			for _, n := range needles {
				if bytes.Contains(h, n.b) {
					return n.what
				}
			}
		}
		return ""
	}
	// Negative controls: the detector finds planted plaintext.
	planted := []Message{
		&MaskedInput{Header: Header{Version, TypeMaskedInput, p.Cohort, p.Round}, From: 1, Masked: in[1]},
		&UnmaskShares{Header: Header{Version, TypeUnmaskShares, p.Cohort, p.Round}, From: 1,
			SelfMask: []SecretShare{{Owner: 2, Value: append(make([]byte, 7), binary.BigEndian.AppendUint64(nil, in[4][9])...)}}},
	}
	for _, m := range planted {
		if b, _ := Marshal(m); findLeak(b) == "" {
			t.Fatalf("detector misses planted plaintext in %T", m)
		}
	}

	for _, raw := range r.received {
		if what := findLeak(raw); what != "" {
			t.Fatalf("%s found in a message the server received: %.200s", what, raw)
		}

		// Masked inputs differ from the plaintext in every coordinate.
		m, err := Unmarshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		if mi, ok := m.(*MaskedInput); ok {
			x := in[mi.From]
			for i := range x {
				if mi.Masked[i] == x[i] {
					t.Fatalf("client %d coordinate %d is sent unmasked", mi.From, i)
				}
			}
		}
	}
	if want := sumOf(p.Length, in, res.Included); !slices.Equal(res.Sum, want) {
		t.Fatal("sum mismatch")
	}
}

// TestNoise: the released total differs from the true sum by exactly the sum
// of the included clients' noise draws; dropped clients draw none.
func TestNoise(t *testing.T) {
	p := testParams(6, 4, 12)
	in := randomInputs(t, p, "noise")
	draws := map[ClientID][]int64{}
	opts := roundOpts{clientOpts: map[ClientID][]ClientOption{}}
	for _, id := range p.Members {
		id := id
		k := int64(0)
		opts.clientOpts[id] = []ClientOption{WithNoise(func() (int64, error) {
			k++
			n := int64(id)*1_000_003 + k*k*7919 // deterministic, distinctive
			if k%2 == 0 {
				n = -n
			}
			draws[id] = append(draws[id], n)
			return n, nil
		})}
	}
	r := newRound(t, p, in, opts)
	// Client 2 drops before masking (never draws), client 5 after (counted).
	res, err := r.run(dropPlan{maskedInput: ids(2), unmask: ids(5)})
	if err != nil {
		t.Fatal(err)
	}
	if len(draws[2]) != 0 {
		t.Fatalf("dropped client drew noise %v", draws[2])
	}
	want := sumOf(p.Length, in, res.Included)
	for _, id := range res.Included {
		if len(draws[id]) != p.Length {
			t.Fatalf("client %d drew %d values", id, len(draws[id]))
		}
		for i, n := range draws[id] {
			want[i] += uint64(n)
		}
	}
	if !slices.Equal(res.Sum, want) {
		t.Fatalf("noisy sum\n got %v\nwant %v", res.Sum, want)
	}
	if res.NoiseContributors != 5 {
		t.Fatalf("NoiseContributors = %d, want 5", res.NoiseContributors)
	}
	noiseless := sumOf(p.Length, in, res.Included)
	for i := range want {
		if diff := int64(res.Sum[i] - noiseless[i]); diff == 0 {
			t.Fatalf("coordinate %d carries no noise", i)
		}
	}
}

// TestNoiseFailureFailsClosed: a failing noise source releases nothing and the
// client can still drop out cleanly.
func TestNoiseFailureFailsClosed(t *testing.T) {
	p := testParams(3, 2, 4)
	boom := errors.New("entropy exhausted")
	calls := 0
	opts := roundOpts{clientOpts: map[ClientID][]ClientOption{
		1: {WithNoise(func() (int64, error) {
			if calls++; calls == 3 {
				return 0, boom
			}
			return 1, nil
		})},
	}}
	in := randomInputs(t, p, "noise failure")
	r := newRound(t, p, in, opts)
	r.advertise(p.Members)
	if err := r.closeAdvertise(); err != nil {
		t.Fatal(err)
	}
	r.shareKeys(p.Members)
	if err := r.closeShareKeys(); err != nil {
		t.Fatal(err)
	}
	m, err := r.clients[1].MaskInput(r.bundles[1], in[1])
	if m != nil || !errors.Is(err, ErrNoise) || !errors.Is(err, boom) {
		t.Fatalf("MaskInput = %v, %v; want ErrNoise", m, err)
	}
	if r.clients[1].Phase() != PhaseMaskedInput {
		t.Fatalf("client moved to %s after a failed noise draw", r.clients[1].Phase())
	}
	r.maskInputs(ids(2, 3))
	if err := r.closeMaskedInput(); err != nil {
		t.Fatal(err)
	}
	r.unmask(ids(2, 3))
	res, err := r.srv.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Sum, sumOf(p.Length, in, ids(2, 3))) || !slices.Equal(res.Dropped, ids(1)) {
		t.Fatalf("result %+v", res)
	}
}

// TestSignedKeys: with identity keys configured, a round completes, and a key
// pair substituted by the relay is rejected by the server and by the clients.
func TestSignedKeys(t *testing.T) {
	p := testParams(4, 3, 5)
	p.IdentityKeys = map[ClientID]ed25519.PublicKey{}
	opts := roundOpts{clientOpts: map[ClientID][]ClientOption{}}
	for _, id := range p.Members {
		seed := bytes.Repeat([]byte{byte(id)}, ed25519.SeedSize)
		sk := ed25519.NewKeyFromSeed(seed)
		p.IdentityKeys[id] = sk.Public().(ed25519.PublicKey)
		opts.clientOpts[id] = []ClientOption{WithSigningKey(sk)}
	}
	in := randomInputs(t, p, "signed")
	res, err := newRound(t, p, in, opts).run(dropPlan{maskedInput: ids(4)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Sum, sumOf(p.Length, in, ids(1, 2, 3))) {
		t.Fatal("sum mismatch")
	}

	// A server that swaps client 2's mask key for one of its own.
	r := newRound(t, p, in, opts)
	r.advertise(p.Members)
	if err := r.closeAdvertise(); err != nil {
		t.Fatal(err)
	}
	evil := newRound(t, p, in, opts) // fresh keys for the same ids
	m, err := evil.clients[2].Advertise()
	if err != nil {
		t.Fatal(err)
	}
	kl := *r.keyList
	kl.Keys = slices.Clone(kl.Keys)
	kl.Keys[1].MaskKey = m.MaskKey
	_, err = r.clients[1].ShareKeys(&kl)
	wantErr(t, err, ErrBadSignature)

	// The server refuses an advertisement whose signature does not match.
	srv, _ := NewServer(p)
	m.Sig[0] ^= 1
	wantErr(t, srv.Receive(m), ErrBadSignature)
	m.Sig = nil
	wantErr(t, srv.Receive(m), ErrBadSignature)

	// Options must match the parameters.
	if _, err := NewClient(p, 1); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("client without signing key: %v", err)
	}
	q := testParams(4, 3, 5)
	if _, err := NewClient(q, 1, opts.clientOpts[1]...); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("signing key without identity keys: %v", err)
	}
	if _, err := NewClient(p, 1, opts.clientOpts[2]...); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("wrong signing key: %v", err)
	}
}

// BenchmarkRound measures one full round at the design's sizes (cohorts of
// 10–50 collectors, 4096 words), with 10% of the clients dropping after
// sharing keys so the server rebuilds mask keys. All clients run in one
// goroutine: the time is the sum of every client's and the server's work.
func BenchmarkRound(b *testing.B) {
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("n=%d/len=4096", n), func(b *testing.B) {
			p := testParams(n, n/2+1, 4096)
			in := randomInputs(b, p, "bench")
			var drop []ClientID
			for i := 1; i <= n/10; i++ {
				drop = append(drop, ClientID(i))
			}
			for b.Loop() {
				if _, err := newRound(b, p, in, roundOpts{}).run(dropPlan{maskedInput: drop}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
