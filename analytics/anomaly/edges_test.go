package anomaly

import (
	"errors"
	"testing"
	"time"
)

func edge(src, dst string, port int) Edge { return Edge{Src: src, Dst: dst, Port: port, Proto: "tcp"} }

func TestEdges(t *testing.T) {
	a, b, c, d := edge("h1", "db", 5432), edge("h1", "web", 443), edge("h2", "db", 5432), edge("h3", "db", 22)
	designed := edge("web", "db", 5432)
	type step struct {
		e        Edge
		new      bool
		pinned   bool
		evictAll uint64 // Evictions() after the step
	}
	tests := []struct {
		name     string
		capacity int
		seed     []Edge
		steps    []step
	}{
		{
			name: "repeat is known", capacity: 4,
			steps: []step{{e: a, new: true}, {e: a}, {e: b, new: true}, {e: a}, {e: b}},
		},
		{
			name: "every field counts", capacity: 8,
			steps: []step{
				{e: a, new: true},
				{e: Edge{Src: "h1", Dst: "db", Port: 5432, Proto: "udp"}, new: true},
				{e: Edge{Src: "h1", Dst: "db", Port: 5433, Proto: "tcp"}, new: true},
				{e: Edge{Src: "db", Dst: "h1", Port: 5432, Proto: "tcp"}, new: true}, // direction
				{e: Edge{Src: "h1", Dst: "DB", Port: 5432, Proto: "tcp"}, new: true}, // exact compare
				{e: a},
			},
		},
		{
			name: "least recently seen is evicted", capacity: 2,
			steps: []step{
				{e: a, new: true}, {e: b, new: true},
				{e: a},                         // a is now the most recent
				{e: c, new: true, evictAll: 1}, // evicts b
				{e: a, evictAll: 1},            // still known
				{e: b, new: true, evictAll: 2}, // forgotten, so new again; evicts c
				{e: c, new: true, evictAll: 3}, // evicts a
				{e: b, evictAll: 3},            // known
			},
		},
		{
			name: "seeded edges are known and never evicted", capacity: 2, seed: []Edge{designed},
			steps: []step{
				{e: designed, pinned: true},
				{e: a, new: true}, {e: b, new: true, evictAll: 1}, {e: c, new: true, evictAll: 2},
				{e: designed, pinned: true, evictAll: 2},
				{e: c, evictAll: 2},
			},
		},
		{
			name: "full of pinned edges: new edges are reported and not kept", capacity: 1, seed: []Edge{designed},
			steps: []step{{e: d, new: true}, {e: d, new: true}, {e: designed, pinned: true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewEdges(tc.capacity)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tc.seed {
				if err := s.Seed(e); err != nil {
					t.Fatal(err)
				}
			}
			for i, st := range tc.steps {
				at := t0.Add(time.Duration(i) * time.Second)
				got, err := s.Observe(at, st.e, "ev-"+st.e.Dst)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				wantScore := 0.0
				if st.new {
					wantScore = 1
				}
				if got.New != st.new || got.Pinned != st.pinned || got.Score != wantScore ||
					got.Evidence != (Evidence{Ref: "ev-" + st.e.Dst, Time: at}) {
					t.Errorf("step %d %v: %+v, want new=%v pinned=%v", i, st.e, got, st.new, st.pinned)
				}
				if ev := s.Evictions(); ev != st.evictAll {
					t.Errorf("step %d: %d evictions, want %d", i, ev, st.evictAll)
				}
				if s.Len() > tc.capacity {
					t.Errorf("step %d: %d edges held, capacity %d", i, s.Len(), tc.capacity)
				}
			}
		})
	}
}

func TestEdgesSeed(t *testing.T) {
	a, b, c := edge("h1", "db", 5432), edge("h1", "web", 443), edge("h2", "db", 5432)
	s, _ := NewEdges(2)
	if _, err := s.Observe(t0, a, ""); err != nil {
		t.Fatal(err)
	}
	for i, e := range []Edge{a, a, b} { // pinning a learnt edge, twice, then another
		if err := s.Seed(e); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
	if s.Pinned() != 2 || s.Len() != 2 {
		t.Errorf("pinned %d, len %d; want 2, 2", s.Pinned(), s.Len())
	}
	if err := s.Seed(c); !errors.Is(err, ErrFull) {
		t.Errorf("seeding a third edge into 2 slots: %v, want ErrFull", err)
	}
	res, _ := s.Observe(t0, c, "")
	if !res.New || res.Remembered {
		t.Errorf("%+v: want new and not remembered", res)
	}
	// Seeding into a set full of learnt edges evicts the least recent.
	s, _ = NewEdges(2)
	s.Observe(t0, a, "")
	s.Observe(t0, b, "")
	if err := s.Seed(c); err != nil || s.Evictions() != 1 {
		t.Fatalf("seed: %v, %d evictions", err, s.Evictions())
	}
	if res, _ := s.Observe(t0, a, ""); !res.New {
		t.Error("a was not evicted by the seed")
	}
}

func TestEdgesInvalid(t *testing.T) {
	s, _ := NewEdges(4)
	for _, e := range []Edge{{Dst: "b", Port: 1}, {Src: "a", Port: 1}, {Src: "a", Dst: "b", Port: -1}, {Src: "a", Dst: "b", Port: 65536}} {
		if _, err := s.Observe(t0, e, ""); !errors.Is(err, ErrInvalidEdge) {
			t.Errorf("Observe(%v): %v, want ErrInvalidEdge", e, err)
		}
		if err := s.Seed(e); !errors.Is(err, ErrInvalidEdge) {
			t.Errorf("Seed(%v): %v, want ErrInvalidEdge", e, err)
		}
	}
	if s.Len() != 0 {
		t.Errorf("invalid edges were kept: %d", s.Len())
	}
	for _, c := range []int{0, -1, MaxCapacity + 1} {
		if _, err := NewEdges(c); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewEdges(%d): %v", c, err)
		}
	}
}

func TestEdgesExplanation(t *testing.T) {
	s, _ := NewEdges(10)
	designed := Edge{Src: "web", Dst: "db", Port: 5432, Proto: "tcp"}
	s.Seed(designed)
	e := Edge{Src: "10.0.0.5", Dst: "10.0.0.9", Port: 22, Proto: "tcp"}
	tests := []struct {
		e    Edge
		want string
	}{
		{e, "first connection 10.0.0.5 → 10.0.0.9:22/tcp (neither designed nor among the 9 most recently seen)"},
		{e, "known connection 10.0.0.5 → 10.0.0.9:22/tcp"},
		{designed, "designed connection web → db:5432/tcp"},
	}
	for _, tc := range tests {
		res, _ := s.Observe(t0, tc.e, "")
		if got := res.Explanation(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}
