package response

import (
	"container/list"
	"fmt"
	"sync"
	"time"
)

// limiter is a playbook's token buckets, one per key: each holds up to max tokens and refills
// max tokens per per, continuously; a trigger takes one. Levels are integers (a token is per
// nanoseconds' worth) so that limits are exact.
//
// Memory is bounded by maxKeys buckets. A bucket idle for per is full again, the same as a
// new one, so evicting it changes nothing; buckets are kept least recently used first, so the
// idle ones are found at the front. When every one of maxKeys buckets is busy, a new key is
// refused (fail closed: a flood of distinct keys must not multiply the actions).
type limiter struct {
	max     int64
	per     time.Duration
	maxKeys int

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // least recently used first
}

type bucket struct {
	key   string
	level int64 // tokens × per, in nanoseconds' worth
	last  time.Time
}

func newLimiter(max int, per time.Duration, maxKeys int) *limiter {
	return &limiter{max: int64(max), per: per, maxKeys: maxKeys, keys: map[string]*list.Element{}}
}

// allow reports whether a trigger with key may pass at now, and why not; take consumes a token
// when it may (Run), and only peeks without (Evaluate).
func (l *limiter) allow(key string, now time.Time, take bool) (bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	capacity, cost := l.max*int64(l.per), int64(l.per)
	if e, ok := l.keys[key]; ok {
		b := e.Value.(*bucket)
		level := l.refill(b, now)
		if take {
			b.level, b.last = level, now
			l.lru.MoveToBack(e)
		}
		if level < cost {
			return false, fmt.Sprintf("rate limit of %d per %s reached for key %q", l.max, l.per, clip(key, 80))
		}
		if take {
			b.level -= cost
		}
		return true, ""
	}
	// A new key: make room by evicting idle buckets.
	evictable := 0
	for e := l.lru.Front(); e != nil && len(l.keys)-evictable >= l.maxKeys && l.idle(e.Value.(*bucket), now); e = e.Next() {
		evictable++
	}
	if len(l.keys)-evictable >= l.maxKeys {
		return false, fmt.Sprintf("rate limit key table full (%d keys active within %s)", l.maxKeys, l.per)
	}
	if !take {
		return true, ""
	}
	for ; evictable > 0; evictable-- {
		b := l.lru.Remove(l.lru.Front()).(*bucket)
		delete(l.keys, b.key)
	}
	l.keys[key] = l.lru.PushBack(&bucket{key: key, level: capacity - cost, last: now})
	return true, ""
}

// refill is b's level at now.
func (l *limiter) refill(b *bucket, now time.Time) int64 {
	elapsed := now.Sub(b.last)
	if elapsed <= 0 {
		return b.level // a clock going backwards refills nothing
	}
	capacity := l.max * int64(l.per)
	if elapsed >= l.per {
		return capacity
	}
	return min(b.level+int64(elapsed)*l.max, capacity)
}

func (l *limiter) idle(b *bucket, now time.Time) bool { return now.Sub(b.last) >= l.per }

// len is how many buckets are kept.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
