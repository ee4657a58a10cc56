package secagg

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzServerMessages feeds arbitrary bytes to a server that is collecting
// phase (fuzzed mod 4) and has accepted the recorded messages of clients 1-4 of
// the deterministic transcript; client 5's recorded message is the seed that
// gets accepted. The server must never panic, whatever it accepted, while
// driving the round to its end; and a rejected input must leave it unchanged,
// so the round then releases exactly the recorded sum.
// The seed corpus is in testdata/fuzz/FuzzServerMessages.
func FuzzServerMessages(f *testing.F) {
	tr := sharedTranscript(f)
	for ph := PhaseAdvertise; ph <= PhaseUnmask; ph++ {
		for _, id := range tr.p.Members {
			f.Add(uint8(ph), tr.msgs[ph][id])
		}
	}
	f.Fuzz(func(t *testing.T, phase uint8, data []byte) {
		ph := Phase(phase % 4)
		srv := tr.replay(t, ph, ids(1, 2, 3, 4))
		rejected := srv.ReceiveBytes(data) != nil
		if m, err := Unmarshal(data); err == nil {
			if _, err := Marshal(m); err != nil {
				t.Fatalf("decoded message does not encode: %v", err)
			}
			_ = srv.Receive(m) // again, as a decoded value
		}
		_ = srv.Waiting()
		var res *Result
		for p := ph; p <= PhaseUnmask; p++ {
			for _, id := range tr.p.Members {
				_ = srv.ReceiveBytes(tr.msgs[p][id])
			}
			if p == PhaseUnmask {
				res, _ = srv.Finish()
			} else if err := closeServer(srv, p); err != nil {
				break
			}
		}
		if rejected && (res == nil || !slices.Equal(res.Sum, tr.sum)) {
			t.Fatalf("a rejected message changed the round: result %+v", res)
		}
	})
}

// FuzzClientMessages feeds arbitrary bytes to client 1 of the transcript while
// it waits for the key list, its share bundle or the unmask request. It must
// never panic, and after a rejected input it must still accept the recorded
// server message. The seed corpus is in testdata/fuzz/FuzzClientMessages.
func FuzzClientMessages(f *testing.F) {
	tr := sharedTranscript(f)
	for _, m := range []Message{tr.keyList, tr.bundles[1], tr.request} {
		b, err := Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Unmarshal(data)
		if err != nil {
			return
		}
		var phase Phase
		switch m.(type) {
		case *KeyList:
			phase = PhaseShareKeys
		case *ShareBundle:
			phase = PhaseMaskedInput
		case *UnmaskRequest:
			phase = PhaseUnmask
		default:
			return
		}
		c := tr.client(t, 1, phase)
		var rejected error
		switch m := m.(type) {
		case *KeyList:
			_, rejected = c.ShareKeys(m)
		case *ShareBundle:
			_, rejected = c.MaskInput(m, tr.inputs[1])
		case *UnmaskRequest:
			_, rejected = c.Unmask(m)
		}
		if rejected == nil || c.Phase() == PhaseAborted {
			return
		}
		switch phase {
		case PhaseShareKeys:
			_, err = c.ShareKeys(tr.keyList)
		case PhaseMaskedInput:
			_, err = c.MaskInput(tr.bundles[1], tr.inputs[1])
		case PhaseUnmask:
			_, err = c.Unmask(tr.request)
		}
		if err != nil {
			t.Fatalf("after rejecting %v, the recorded message fails: %v", rejected, err)
		}
	})
}

// TestSeedCorpusCurrent keeps the committed seed corpus meaningful: the seeds
// named *-client5 must still be accepted by the replayed server, and the
// client seeds must equal the transcript's server messages. A change of the
// message format or of the key derivations makes this fail; regenerate the
// seeds from sharedTranscript then.
func TestSeedCorpusCurrent(t *testing.T) {
	tr := sharedTranscript(t)
	names := []string{"advertise", "share-keys", "masked-input", "unmask"}
	for ph := PhaseAdvertise; ph <= PhaseUnmask; ph++ {
		vals := readSeed(t, filepath.Join("testdata", "fuzz", "FuzzServerMessages", names[ph]+"-client5"))
		if len(vals) != 2 || len(vals[0]) != 1 || Phase(vals[0][0]) != ph {
			t.Fatalf("%s seed: bad values", names[ph])
		}
		srv := tr.replay(t, ph, ids(1, 2, 3, 4))
		if err := srv.ReceiveBytes(vals[1]); err != nil {
			t.Fatalf("%s seed rejected: %v", names[ph], err)
		}
	}
	for name, m := range map[string]Message{"key-list": tr.keyList, "share-bundle": tr.bundles[1], "unmask-request": tr.request} {
		want, _ := Marshal(m)
		vals := readSeed(t, filepath.Join("testdata", "fuzz", "FuzzClientMessages", name))
		if len(vals) != 1 || !bytes.Equal(vals[0], want) {
			t.Fatalf("client seed %s is stale", name)
		}
	}
}

// readSeed parses a "go test fuzz v1" file holding byte(...) and []byte(...) values.
func readSeed(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a fuzz corpus file", path)
	}
	var out [][]byte
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "byte(") && strings.HasSuffix(l, ")"):
			r, _, _, err := strconv.UnquoteChar(strings.Trim(l[len("byte("):len(l)-1], "'"), '\'')
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			out = append(out, []byte{byte(r)})
		case strings.HasPrefix(l, "[]byte(") && strings.HasSuffix(l, ")"):
			s, err := strconv.Unquote(l[len("[]byte(") : len(l)-1])
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			out = append(out, []byte(s))
		default:
			t.Fatalf("%s: unsupported line %q", path, l)
		}
	}
	return out
}
