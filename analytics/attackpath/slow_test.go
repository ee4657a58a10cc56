package attackpath

import (
	"context"
	"testing"
	"time"
)

func TestSlowTmp(t *testing.T) {
	b := &testing.B{}
	_ = b
	f := fixture(t, 100_000)
	qs := topKQueries(f, 10)
	for i, q := range qs {
		f.g.potentials(q.Targets)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		s := f.g.getSearcher(ctx)
		s.setTargets(q.Targets)
		paths, err := f.g.TopK(ctx, q)
		t.Logf("q%d: %d sources %v, %d paths, %v, %v", i, len(q.Sources), q.Targets[:1], len(paths), time.Since(start), err)
		cancel()
	}
}
