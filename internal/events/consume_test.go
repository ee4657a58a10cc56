package events_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sectwin/sectwin/internal/events"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestConsumeAllStatusSharesChangesAmongReplicas: two consumers with one durable name (two
// replicas) together receive every status change exactly once; a consumer with another name
// receives them all.
func TestConsumeAllStatusSharesChangesAmongReplicas(t *testing.T) {
	b := testenv.NATS(t)
	n := events.NATS{Bus: b, Log: testenv.Logger(t)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	got := map[string]map[string]int{} // consumer → element → deliveries
	consume := func(name, durable string) {
		t.Helper()
		got[name] = map[string]int{}
		if err := n.ConsumeAllStatus(ctx, durable, func(_ context.Context, c events.StatusChanged) {
			mu.Lock()
			got[name][c.Twin+"/"+c.Element]++
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	consume("replica-a", "playbooks")
	consume("replica-b", "playbooks")
	consume("other", "audit")
	const changes = 40
	for i := range changes {
		c := events.StatusChanged{Twin: fmt.Sprintf("t%d", i%3), Case: "c", Element: fmt.Sprintf("G%d", i), From: "SUPPORTED", To: "UNDERMINED", At: time.Now()}
		if err := n.PublishStatus(ctx, []events.StatusChanged{c}); err != nil {
			t.Fatal(err)
		}
	}
	total := func(names ...string) (sum int, dup bool) {
		mu.Lock()
		defer mu.Unlock()
		seen := map[string]int{}
		for _, name := range names {
			for el, k := range got[name] {
				seen[el] += k
				sum += k
			}
		}
		for _, k := range seen {
			dup = dup || k > 1
		}
		return sum, dup
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		shared, _ := total("replica-a", "replica-b")
		other, _ := total("other")
		if shared >= changes && other >= changes || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive by now
	if shared, dup := total("replica-a", "replica-b"); shared != changes || dup {
		t.Errorf("the two replicas received %d changes (duplicates: %v), want each of %d once: %v", shared, dup, changes, got)
	}
	if other, dup := total("other"); other != changes || dup {
		t.Errorf("another consumer received %d changes (duplicates: %v), want %d", other, dup, changes)
	}
}
