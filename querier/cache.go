package querier

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// key identifies a request: two requests with the same key have the same
// answer. Times are Unix nanoseconds, already aligned.
type key struct {
	kind       string
	query      string
	start, end int64
	step       time.Duration
}

// alignDown returns t rounded down to a multiple of d since the Unix epoch
// (time.Truncate counts from year 1, which for steps like 7s is not the
// same). d must be positive.
func alignDown(t time.Time, d time.Duration) time.Time {
	n := t.UnixNano()
	r := n % int64(d)
	if r < 0 {
		r += int64(d)
	}
	return time.Unix(0, n-r)
}

// memo answers requests of one value type: from its cache, else by joining
// an identical request in flight, else by sending one through the limiter.
type memo[V any] struct {
	cache   *cache[V] // nil: nothing is kept
	flights group[V]
	limiter *limiter
}

// newMemo returns a memo that keeps answers in c (nil: none) and sends
// requests through l.
func newMemo[V any](c *cache[V], l *limiter) *memo[V] {
	return &memo[V]{
		cache:   c,
		flights: group[V]{coalesced: l.metrics.coalesced, calls: make(map[key]*call[V])},
		limiter: l,
	}
}

// get returns the answer to the request k, calling ask to ask Prometheus if
// it must. Only successful answers are cached.
func (m *memo[V]) get(ctx context.Context, k key, ask func(context.Context) (V, error)) (V, error) {
	if m.cache != nil {
		v, ok := m.cache.get(k)
		m.limiter.metrics.cacheRequests.WithLabelValues(k.kind, hitOrMiss(ok)).Inc()
		if ok {
			return v, nil
		}
	}
	return m.flights.do(ctx, k, func(ctx context.Context) (V, error) {
		v, err := send(ctx, m.limiter, k.kind, ask)
		if err == nil && m.cache != nil {
			m.cache.add(k, v)
		}
		return v, err
	})
}

// hitOrMiss is the result label of a cache lookup.
func hitOrMiss(ok bool) string {
	if ok {
		return "hit"
	}
	return "miss"
}

// cache keeps answers for ttl, dropping the least recently used when full.
type cache[V any] struct {
	lru *lru.Cache[key, entry[V]]
	ttl time.Duration
	now func() time.Time
}

// entry is a cached answer and when it stops being fresh.
type entry[V any] struct {
	val     V
	expires time.Time
}

// newCache returns a cache of size (positive) entries.
func newCache[V any](size int, ttl time.Duration, now func() time.Time) (*cache[V], error) {
	l, err := lru.New[key, entry[V]](size)
	if err != nil {
		return nil, err
	}
	return &cache[V]{lru: l, ttl: ttl, now: now}, nil
}

// get returns the fresh answer to k, if there is one.
func (c *cache[V]) get(k key) (V, bool) {
	e, ok := c.lru.Get(k)
	if ok && c.now().Before(e.expires) {
		return e.val, true
	}
	if ok {
		c.lru.Remove(k)
	}
	var zero V
	return zero, false
}

// add keeps v as the answer to k for the cache's ttl.
func (c *cache[V]) add(k key, v V) {
	c.lru.Add(k, entry[V]{val: v, expires: c.now().Add(c.ttl)})
}

// group runs one request for all callers that ask with the same key while
// it is in flight.
type group[V any] struct {
	// coalesced counts, by kind, the callers who joined a request in flight.
	coalesced *prometheus.CounterVec

	mu    sync.Mutex
	calls map[key]*call[V]
}

// call is a request in flight and the number of callers waiting for it.
type call[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters int
	cancel  context.CancelFunc
}

// do returns what fetch returns for k, running it once for all callers
// that ask for k while it runs. fetch runs in a goroutine and on a context
// of its own: a caller whose ctx ends stops waiting and gets ctx's error,
// and the request goes on for the others. It is cancelled once nobody waits
// for it.
func (g *group[V]) do(ctx context.Context, k key, fetch func(context.Context) (V, error)) (V, error) {
	g.mu.Lock()
	c, ok := g.calls[k]
	if ok {
		g.coalesced.WithLabelValues(k.kind).Inc()
	} else {
		c = g.start(ctx, k, fetch)
	}
	c.waiters++
	g.mu.Unlock()

	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		g.leave(k, c)
		var zero V
		return zero, ctx.Err()
	}
}

// start runs fetch for k on a context that keeps ctx's values but not its
// cancellation. g.mu must be held.
func (g *group[V]) start(ctx context.Context, k key, fetch func(context.Context) (V, error)) *call[V] {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &call[V]{done: make(chan struct{}), cancel: cancel}
	g.calls[k] = c
	go func() {
		c.val, c.err = fetch(ctx)
		cancel()
		g.mu.Lock()
		g.forget(k, c)
		g.mu.Unlock()
		close(c.done)
	}()
	return c
}

// leave is how a caller stops waiting for c. The last to leave cancels it,
// and a caller that asks for k after that starts a new request.
func (g *group[V]) leave(k key, c *call[V]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c.waiters--
	if c.waiters == 0 {
		c.cancel()
		g.forget(k, c)
	}
}

// forget removes c from the requests in flight, unless a newer request for
// k has taken its place. g.mu must be held.
func (g *group[V]) forget(k key, c *call[V]) {
	if g.calls[k] == c {
		delete(g.calls, k)
	}
}
