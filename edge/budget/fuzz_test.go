package budget

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sectwin/sectwin/edge/dp"
)

// FuzzReplay: no file content makes loading panic; damage is always a
// *CorruptError, the verified prefix is a prefix of the input, and a
// verified file reloads to the same head.
func FuzzReplay(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.jsonl")
	l, err := Open(context.Background(), path, Options{})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if err := l.Declare(ctx, Policy{Stream: "s", Unit: "u", Guarantee: dp.Guarantee{Kind: dp.WEvent, W: 2}, Cap: 2_000_000, DeltaCap: "1/1000"}); err != nil {
		f.Fatal(err)
	}
	tk, err := l.Reserve(ctx, Request{Stream: "s", Unit: "u", Window: Window{Index: 3}, Mechanism: "m", Epsilon: 1_000_000, Delta: "1/2000", L0: 1, LInf: 1})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := l.Commit(ctx, tk); err != nil {
		f.Fatal(err)
	}
	_ = l.Close()
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-9])
	f.Add([]byte("\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, good, torn, err := replay(data)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Line < 1 {
				t.Fatalf("replay error %v is not a *CorruptError", err)
			}
		}
		if good < 0 || good > int64(len(data)) || (torn != nil && good+int64(len(torn)) != int64(len(data))) {
			t.Fatalf("good = %d, torn = %d of %d bytes", good, len(torn), len(data))
		}
		if err == nil {
			again, _, _, err := replay(data[:good])
			if err != nil || again.head != st.head {
				t.Fatalf("verified prefix does not reload: %v", err)
			}
			_ = st.summary("fuzz", nil)
		}
	})
}
