package secagg

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
)

// detReader is a deterministic byte stream (AES-256-CTR keyed by a label) used
// only by tests to make transcripts reproducible (the fuzz seed corpus).
type detReader struct{ s cipher.Stream }

func newDetReader(label string) io.Reader {
	k := sha256.Sum256([]byte("secagg test reader: " + label))
	b, _ := aes.NewCipher(k[:])
	return &detReader{cipher.NewCTR(b, make([]byte, aes.BlockSize))}
}

func (d *detReader) Read(p []byte) (int, error) {
	clear(p)
	d.s.XORKeyStream(p, p)
	return len(p), nil
}

func detLabel(p Params, id ClientID) string {
	return fmt.Sprintf("%s/%s/%d", p.Cohort, p.Round, id)
}

func testParams(n, t, length int) Params {
	p := Params{Cohort: "district-7", Round: "netflow/bytes/2026-04-01T10:00Z", Threshold: t, Length: length}
	for i := 1; i <= n; i++ {
		p.Members = append(p.Members, ClientID(i))
	}
	return p
}

// round drives one protocol run through the wire encoding: every message is
// marshalled, recorded if the server receives it, and unmarshalled again.
type round struct {
	tb      testing.TB
	p       Params
	srv     *Server
	clients map[ClientID]*Client
	inputs  map[ClientID][]uint64

	received [][]byte // every message the server received, as sent

	keyList *KeyList
	bundles map[ClientID]*ShareBundle
	request *UnmaskRequest
}

type roundOpts struct {
	clientOpts    map[ClientID][]ClientOption
	deterministic bool // clients draw from detReader
}

func newRound(tb testing.TB, p Params, inputs map[ClientID][]uint64, o roundOpts) *round {
	tb.Helper()
	srv, err := NewServer(p)
	if err != nil {
		tb.Fatalf("NewServer: %v", err)
	}
	r := &round{tb: tb, p: p, srv: srv, clients: map[ClientID]*Client{}, inputs: inputs}
	for _, id := range p.Members {
		c, err := NewClient(p, id, o.clientOpts[id]...)
		if err != nil {
			tb.Fatalf("NewClient(%d): %v", id, err)
		}
		if o.deterministic {
			c.rand = newDetReader(detLabel(p, id))
		}
		r.clients[id] = c
	}
	return r
}

// wire round-trips a message through its JSON encoding.
func wire[M Message](tb testing.TB, m M) ([]byte, M) {
	tb.Helper()
	b, err := Marshal(m)
	if err != nil {
		tb.Fatalf("Marshal: %v", err)
	}
	d, err := Unmarshal(b)
	if err != nil {
		tb.Fatalf("Unmarshal(%s): %v", b, err)
	}
	out, ok := d.(M)
	if !ok {
		tb.Fatalf("Unmarshal returned %T, want %T", d, m)
	}
	return b, out
}

// send delivers a client message to the server over the wire and records it.
func (r *round) send(m Message) error {
	r.tb.Helper()
	b, _ := wire(r.tb, m)
	r.received = append(r.received, b)
	return r.srv.ReceiveBytes(b)
}

func (r *round) mustSend(m Message) {
	r.tb.Helper()
	if err := r.send(m); err != nil {
		r.tb.Fatalf("server rejected %T: %v", m, err)
	}
}

func (r *round) advertise(ids []ClientID) {
	r.tb.Helper()
	for _, id := range ids {
		m, err := r.clients[id].Advertise()
		if err != nil {
			r.tb.Fatalf("Advertise(%d): %v", id, err)
		}
		r.mustSend(m)
	}
}

func (r *round) closeAdvertise() error {
	kl, err := r.srv.CloseAdvertise()
	if err == nil {
		_, r.keyList = wire(r.tb, kl)
	}
	return err
}

func (r *round) shareKeys(ids []ClientID) {
	r.tb.Helper()
	for _, id := range ids {
		m, err := r.clients[id].ShareKeys(r.keyList)
		if err != nil {
			r.tb.Fatalf("ShareKeys(%d): %v", id, err)
		}
		r.mustSend(m)
	}
}

func (r *round) closeShareKeys() error {
	bs, err := r.srv.CloseShareKeys()
	if err == nil {
		r.bundles = map[ClientID]*ShareBundle{}
		for _, b := range bs {
			_, r.bundles[b.To] = wire(r.tb, b)
		}
	}
	return err
}

func (r *round) maskInputs(ids []ClientID) {
	r.tb.Helper()
	for _, id := range ids {
		m, err := r.clients[id].MaskInput(r.bundles[id], r.inputs[id])
		if err != nil {
			r.tb.Fatalf("MaskInput(%d): %v", id, err)
		}
		r.mustSend(m)
	}
}

func (r *round) closeMaskedInput() error {
	req, err := r.srv.CloseMaskedInput()
	if err == nil {
		_, r.request = wire(r.tb, req)
	}
	return err
}

func (r *round) unmask(ids []ClientID) {
	r.tb.Helper()
	for _, id := range ids {
		m, err := r.clients[id].Unmask(r.request)
		if err != nil {
			r.tb.Fatalf("Unmask(%d): %v", id, err)
		}
		r.mustSend(m)
	}
}

// dropPlan lists, per phase, the clients that drop before sending that phase's message.
type dropPlan struct {
	advertise, shareKeys, maskedInput, unmask []ClientID
}

// run plays a whole round in which clients drop as planned, and returns the
// server's result.
func (r *round) run(d dropPlan) (*Result, error) {
	r.tb.Helper()
	alive := slices.Clone(r.p.Members)
	step := func(drop []ClientID) []ClientID {
		alive = slices.DeleteFunc(alive, func(id ClientID) bool { return slices.Contains(drop, id) })
		return alive
	}
	r.advertise(step(d.advertise))
	if err := r.closeAdvertise(); err != nil {
		return nil, err
	}
	r.shareKeys(step(d.shareKeys))
	if err := r.closeShareKeys(); err != nil {
		return nil, err
	}
	r.maskInputs(step(d.maskedInput))
	if err := r.closeMaskedInput(); err != nil {
		return nil, err
	}
	r.unmask(step(d.unmask))
	return r.srv.Finish()
}

// randomInputs returns distinctive random vectors for every member.
func randomInputs(tb testing.TB, p Params, label string) map[ClientID][]uint64 {
	rd := newDetReader(label)
	in := map[ClientID][]uint64{}
	var b [8]byte
	for _, id := range p.Members {
		v := make([]uint64, p.Length)
		for i := range v {
			_, _ = rd.Read(b[:])
			v[i] = binary.LittleEndian.Uint64(b[:])
		}
		in[id] = v
	}
	return in
}

// transcript is one complete, deterministic round of 5 clients (t = 3) in
// which nobody drops: every client message per phase (as sent), the server's
// outputs, and the result. Tests replay it into fresh servers instead of
// re-running the clients' key agreements.
type transcript struct {
	p       Params
	inputs  map[ClientID][]uint64
	msgs    [4]map[ClientID][]byte // by Phase
	keyList *KeyList
	bundles map[ClientID]*ShareBundle
	request *UnmaskRequest
	sum     []uint64
}

var (
	transcriptOnce sync.Once
	transcriptVal  *transcript
)

func sharedTranscript(tb testing.TB) *transcript {
	tb.Helper()
	transcriptOnce.Do(func() {
		p := testParams(5, 3, 4)
		in := randomInputs(tb, p, "transcript")
		r := newRound(tb, p, in, roundOpts{deterministic: true})
		tr := &transcript{p: p, inputs: in}
		for phase := PhaseAdvertise; phase <= PhaseUnmask; phase++ {
			tr.msgs[phase] = map[ClientID][]byte{}
			for id, m := range r.genuine(phase) {
				b, _ := wire(tb, m)
				tr.msgs[phase][id] = b
				r.mustSend(m)
			}
			if err := r.close(phase); err != nil {
				tb.Fatalf("transcript: close %s: %v", phase, err)
			}
		}
		res, _ := r.srv.Finish()
		if !slices.Equal(res.Sum, sumOf(p.Length, in, p.Members)) {
			tb.Fatal("transcript: wrong sum")
		}
		tr.keyList, tr.bundles, tr.request, tr.sum = r.keyList, r.bundles, r.request, res.Sum
		transcriptVal = tr
	})
	if transcriptVal == nil {
		tb.Fatal("transcript unavailable")
	}
	return transcriptVal
}

// msg decodes a recorded client message (a fresh copy on every call).
func (tr *transcript) msg(tb testing.TB, phase Phase, id ClientID) Message {
	tb.Helper()
	m, err := Unmarshal(tr.msgs[phase][id])
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// replay returns a fresh server that accepted every recorded message before
// phase, and the messages of the clients in partial for phase itself.
func (tr *transcript) replay(tb testing.TB, phase Phase, partial []ClientID) *Server {
	tb.Helper()
	srv, err := NewServer(tr.p)
	if err != nil {
		tb.Fatal(err)
	}
	for ph := PhaseAdvertise; ph <= phase && ph <= PhaseUnmask; ph++ {
		send := tr.p.Members
		if ph == phase {
			send = partial
		}
		for _, id := range send {
			if err := srv.ReceiveBytes(tr.msgs[ph][id]); err != nil {
				tb.Fatalf("replay %s from %d: %v", ph, id, err)
			}
		}
		if ph < phase {
			if err := closeServer(srv, ph); err != nil {
				tb.Fatalf("replay close %s: %v", ph, err)
			}
		}
	}
	return srv
}

// client rebuilds client id of the transcript (same randomness, so same keys)
// and walks it to phase using the recorded server messages.
func (tr *transcript) client(tb testing.TB, id ClientID, phase Phase) *Client {
	tb.Helper()
	c, err := NewClient(tr.p, id)
	if err != nil {
		tb.Fatal(err)
	}
	c.rand = newDetReader(detLabel(tr.p, id))
	if _, err := c.Advertise(); err != nil {
		tb.Fatal(err)
	}
	if phase >= PhaseMaskedInput {
		if _, err := c.ShareKeys(tr.keyList); err != nil {
			tb.Fatal(err)
		}
	}
	if phase >= PhaseUnmask {
		if _, err := c.MaskInput(tr.bundles[id], tr.inputs[id]); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// closeServer ends the server's phase (Finish for the unmask phase).
func closeServer(srv *Server, phase Phase) error {
	var err error
	switch phase {
	case PhaseAdvertise:
		_, err = srv.CloseAdvertise()
	case PhaseShareKeys:
		_, err = srv.CloseShareKeys()
	case PhaseMaskedInput:
		_, err = srv.CloseMaskedInput()
	default:
		_, err = srv.Finish()
	}
	return err
}

func sumOf(length int, inputs map[ClientID][]uint64, ids []ClientID) []uint64 {
	s := make([]uint64, length)
	for _, id := range ids {
		for i, x := range inputs[id] {
			s[i] += x
		}
	}
	return s
}

func wantErr(tb testing.TB, err error, targets ...error) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got nil error, want %v", targets)
	}
	for _, t := range targets {
		if !errors.Is(err, t) {
			tb.Fatalf("error %q does not match %v", err, t)
		}
	}
}

// genuine generates every client's message for the server's current phase.
func (r *round) genuine(phase Phase) map[ClientID]Message {
	r.tb.Helper()
	out := map[ClientID]Message{}
	for _, id := range r.p.Members {
		c := r.clients[id]
		var m Message
		var err error
		switch phase {
		case PhaseAdvertise:
			m, err = c.Advertise()
		case PhaseShareKeys:
			m, err = c.ShareKeys(r.keyList)
		case PhaseMaskedInput:
			m, err = c.MaskInput(r.bundles[id], r.inputs[id])
		case PhaseUnmask:
			m, err = c.Unmask(r.request)
		}
		if err != nil {
			r.tb.Fatalf("client %d in %s: %v", id, phase, err)
		}
		out[id] = m
	}
	return out
}

func (r *round) close(phase Phase) error {
	switch phase {
	case PhaseAdvertise:
		return r.closeAdvertise()
	case PhaseShareKeys:
		return r.closeShareKeys()
	case PhaseMaskedInput:
		return r.closeMaskedInput()
	}
	return closeServer(r.srv, phase)
}
