package budget

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/edge/dp"
)

// fixture writes a ledger of five entries: a unit-level policy with cap 3,
// then two reserve/commit pairs of ε = 1 each. It returns the file's lines.
func fixture(t *testing.T) (path string, lines []string) {
	t.Helper()
	ctx := context.Background()
	l, path := newLedger(t)
	if err := l.Declare(ctx, policy(dp.Guarantee{Kind: dp.UnitLevel}, 3*eps1)); err != nil {
		t.Fatal(err)
	}
	for w := range int64(2) {
		tk, err := l.Reserve(ctx, request(w, eps1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Commit(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("fixture has %d lines", len(lines))
	}
	return path, lines
}

// forge returns a line for e chained after prev with a correct hash: what
// an attacker who can rewrite the file, but not the rules, would append.
func forge(t *testing.T, prev string, e Entry) string {
	t.Helper()
	var p Entry
	if err := json.Unmarshal([]byte(prev), &p); err != nil {
		t.Fatal(err)
	}
	e.Seq, e.PrevHash, e.Time = p.Seq+1, p.Hash, p.Time
	e.Hash = e.computeHash()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVerifyDetectsDamage(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(t *testing.T, lines []string) []string
		wantLine int
		reason   string
	}{
		{"epsilon edited", func(t *testing.T, l []string) []string {
			l[1] = strings.Replace(l[1], `"epsilonMicro":1000000`, `"epsilonMicro":100000`, 1)
			return l
		}, 2, "hash mismatch"},
		{"hash edited", func(t *testing.T, l []string) []string {
			l[2] = strings.Replace(l[2], `"hash":"`, `"hash":"0`, 1)
			return l
		}, 3, "hash mismatch"},
		{"entry deleted", func(t *testing.T, l []string) []string { return slices.Delete(l, 1, 2) }, 2, "seq 3, want 2"},
		{"entries swapped", func(t *testing.T, l []string) []string { l[1], l[2] = l[2], l[1]; return l }, 2, "seq 3, want 2"},
		{"entry duplicated", func(t *testing.T, l []string) []string { return slices.Insert(l, 2, l[1]) }, 3, "seq 2, want 3"},
		{"blank line", func(t *testing.T, l []string) []string { return slices.Insert(l, 1, "") }, 2, "undecodable"},
		{"middle line cut short", func(t *testing.T, l []string) []string { l[2] = l[2][:40]; return l }, 3, "undecodable"},
		{"complete garbage final line", func(t *testing.T, l []string) []string { return append(l, "not json") }, 6, "undecodable"},
		{"unknown field", func(t *testing.T, l []string) []string { l[0] = `{"admin":true,` + l[0][1:]; return l }, 1, "unknown field"},
		{"trailing data", func(t *testing.T, l []string) []string { l[1] += ` {}`; return l }, 2, "trailing data"},
		{"first entry not linked to genesis", func(t *testing.T, l []string) []string {
			var e Entry
			_ = json.Unmarshal([]byte(l[0]), &e)
			e.PrevHash = strings.Repeat("f", 64)
			e.Hash = e.computeHash()
			b, _ := json.Marshal(e)
			l[0] = string(b)
			return l
		}, 1, "does not link"},
		{"forged reservation over the cap", func(t *testing.T, l []string) []string {
			r := request(9, 2*eps1)
			w := r.Window
			return append(l, forge(t, l[4], Entry{Kind: KindReserve, Stream: r.Stream, Unit: r.Unit, Window: &w,
				Mechanism: r.Mechanism, EpsilonMicro: int64(r.Epsilon), Delta: "0", L0: 1, LInf: 1}))
		}, 6, "exhausted"},
		{"forged commit without reservation", func(t *testing.T, l []string) []string {
			return append(l, forge(t, l[4], Entry{Kind: KindCommit, Stream: "netflow", Unit: "src_ip", Reservation: 2}))
		}, 6, "unknown or already committed"},
		{"forged guarantee change", func(t *testing.T, l []string) []string {
			return append(l, forge(t, l[4], Entry{Kind: KindPolicy, Stream: "netflow", Unit: "src_ip",
				Guarantee: dp.Guarantee{Kind: dp.EventLevel}, CapMicro: 3_000_000, DeltaCap: "0"}))
		}, 6, "would reset its budget"},
		{"non-canonical delta", func(t *testing.T, l []string) []string {
			r := request(9, 1)
			w := r.Window
			return append(l, forge(t, l[4], Entry{Kind: KindReserve, Stream: r.Stream, Unit: r.Unit, Window: &w,
				Mechanism: r.Mechanism, EpsilonMicro: 1, Delta: "0.0", L0: 1, LInf: 1}))
		}, 6, "not canonical"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, lines := fixture(t)
			data := []byte(strings.Join(tt.mutate(t, lines), "\n") + "\n")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := Verify(context.Background(), path)
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Line != tt.wantLine || !strings.Contains(ce.Reason, tt.reason) {
				t.Fatalf("Verify = %v, want corruption at line %d (%s)", err, tt.wantLine, tt.reason)
			}
			if _, err := Open(context.Background(), path, Options{}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			if after, _ := os.ReadFile(path); string(after) != string(data) {
				t.Error("Open modified a corrupt ledger")
			}
		})
	}
}

func TestTornFinalLine(t *testing.T) {
	tests := []struct {
		name string
		tail func(lines []string) string
	}{
		{"partial entry", func(l []string) string { return l[1][:57] }},
		{"whole entry without its newline", func(l []string) string {
			return strings.Replace(l[1], `"seq":2`, `"seq":6`, 1) // never completed: dropped all the same
		}},
		{"zeros from a lost block", func([]string) string { return "\x00\x00\x00\x00" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path, lines := fixture(t)
			intact := strings.Join(lines, "\n") + "\n"
			if err := os.WriteFile(path, []byte(intact+tt.tail(lines)), 0o600); err != nil {
				t.Fatal(err)
			}
			s, entries, err := Verify(ctx, path)
			if err != nil || len(entries) != 5 || len(s.Warnings) != 1 {
				t.Fatalf("Verify = %+v, %d entries, %v; want 5 entries and a warning", s, len(entries), err)
			}

			l := openT(t, path)
			s = l.Summary()
			if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "torn final line") || s.Entries != 6 {
				t.Fatalf("Open summary = %+v", s)
			}
			last := l.Entries()[5]
			if last.Kind != KindRecover || last.Note != s.Warnings[0] {
				t.Errorf("recover entry = %+v", last)
			}
			if b := s.Budgets[0]; b.Spent != 2*eps1 || b.Reservations != 2 {
				t.Errorf("budget after recovery = %+v", b)
			}
			if err := l.Verify(ctx); err != nil {
				t.Errorf("Verify after recovery: %v", err)
			}
			data, _ := os.ReadFile(path)
			if !strings.HasPrefix(string(data), intact) || !strings.HasSuffix(string(data), "\n") {
				t.Error("recovery did not truncate to the intact prefix and append a full line")
			}
		})
	}
}

func TestLedgerVerifyDetectsChangesUnderneath(t *testing.T) {
	ctx := context.Background()
	path, _ := fixture(t)
	l := openT(t, path)
	data, _ := os.ReadFile(path)

	edited := strings.Replace(string(data), `"epsilonMicro":1000000`, `"epsilonMicro":1000001`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(ctx); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Verify after an edit = %v, want ErrCorrupt", err)
	}
	if err := os.WriteFile(path, append(data, data[:30]...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(ctx); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Verify after an append = %v, want ErrCorrupt", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(ctx); err != nil {
		t.Errorf("Verify of the restored file: %v", err)
	}
}

func TestVerifyMissingFile(t *testing.T) {
	if _, _, err := Verify(context.Background(), "/nonexistent/budget.jsonl"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Verify = %v", err)
	}
}
