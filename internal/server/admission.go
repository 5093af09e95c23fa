package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// limiter is the cap on requests in flight. It moves between a floor and
// --max-in-flight with the time admitted reads hold their slot (AIMD, as
// TCP's congestion window or Netflix's concurrency-limits): when more than a
// quarter of the slot time of a window went to requests that held their slot
// longer than the target, the cap shrinks by a quarter; when requests were
// refused at the cap and the work was quick, it grows by a quarter. Slot
// time, not a count of requests, so a flood of requests that fail at once
// cannot hide the slow ones. On two cores a request's time is roughly
// (requests in flight × CPU per request) / cores, and the SQLite read pool
// is four connections, so when the admitted work is heavy (large listings)
// or the machine is busy fewer requests are admitted and each is answered
// in about the target; the rest are shed with a retryable 503, which costs
// microseconds. Cheap work (describe by id, writes waiting for their fsync)
// keeps the full cap. With no target (the default) the cap is fixed at max.
type limiter struct {
	max, floor int64
	target     time.Duration
	n          atomic.Int64 // slots held
	limit      atomic.Int64 // the cap in force
	refused    atomic.Bool  // a request was refused at the cap in this window

	mu          sync.Mutex
	start       time.Time     // of the window
	total, slow time.Duration // slot time of the window's requests, and of the slow ones
}

// limitWindow is how often the cap may move: long enough for tens of
// samples at ordinary rates, short enough to follow a burst within a second.
const limitWindow = 100 * time.Millisecond

// SuggestedTargetLatency is the value docs/operations.md suggests for
// --target-latency: under the hostile suite's 500 ms bound for a polite
// client, ten times the p99 of describe-by-id at c=64 on the quiet
// reference machine. The adaptive cap is off by default because, measured
// on a machine shared with other work (load average 30 on two cores), it
// shed a quarter of a c=64 describe-by-id run and served fewer requests
// than the fixed cap: when the CPU is taken by others, admitting less does
// not make amigo's requests quicker.
const SuggestedTargetLatency = 200 * time.Millisecond

// minLimit is the floor of the adaptive cap: four requests per core of the
// reference machine, enough to keep both cores busy while some requests
// wait for the store.
const minLimit = 8

func newLimiter(max int, target time.Duration) *limiter {
	l := &limiter{max: int64(max), floor: min(int64(max), minLimit), target: target, start: time.Now()}
	// No slow start: a fresh server must take a burst of writes (a
	// populate, Terraform's parallelism) without shedding it, and heavy
	// reads narrow the cap within a few windows.
	l.limit.Store(int64(max))
	return l
}

func (l *limiter) tryAcquire() bool {
	if l.max <= 0 {
		return true
	}
	if l.n.Add(1) > l.limit.Load() {
		l.n.Add(-1)
		if !l.refused.Load() {
			l.refused.Store(true)
		}
		return false
	}
	return true
}

// release gives back a slot held for the given time; held 0 counts no
// slot time (a write: see ticket.read) but lets the cap grow; held < 0
// gives it back without telling the cap anything (a request that did no
// work).
func (l *limiter) release(held time.Duration) {
	if l.max <= 0 {
		return
	}
	l.n.Add(-1)
	if l.target <= 0 || l.floor >= l.max || held < 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total += held
	if held > l.target {
		l.slow += held
	}
	now := time.Now()
	if now.Sub(l.start) < limitWindow {
		return
	}
	lim := l.limit.Load()
	switch {
	case 4*l.slow > l.total:
		lim = max(l.floor, lim-lim/4)
	case l.refused.Load():
		lim = min(l.max, lim+lim/4+1)
	}
	l.limit.Store(lim)
	l.refused.Store(false)
	l.start, l.total, l.slow = now, 0, 0
}

// Limit is the cap on requests in flight in force now (for metrics).
func (l *limiter) Limit() int { return int(l.limit.Load()) }

// keyShare bounds what one access key may hold of the in-flight cap, so a
// client that sends many heavy requests is shed before the others: a key
// may hold at most half the cap in force (or MaxInFlightPerKey). Counted
// from the signature's verification until the in-flight slot is given up.
type keyShare struct {
	fixed int64 // > 0: a fixed cap; 0: half the limiter's; < 0: none
	lim   *limiter
	keys  sync.Map // access key id → *atomic.Int64; ids are verified, so bounded by the directory
}

func (k *keyShare) capacity() int64 {
	if k.fixed != 0 {
		return k.fixed
	}
	// Never under half the floor: a small fixed cap (tests, tiny
	// deployments) is not split.
	return max(minLimit/2, k.lim.limit.Load()/2)
}

func (k *keyShare) tryAcquire(id string) (*atomic.Int64, bool) {
	if k.fixed < 0 || k.lim.max <= 0 {
		return nil, true
	}
	v, ok := k.keys.Load(id)
	if !ok {
		v, _ = k.keys.LoadOrStore(id, new(atomic.Int64))
	}
	n := v.(*atomic.Int64)
	if n.Add(1) > k.capacity() {
		n.Add(-1)
		return nil, false
	}
	return n, true
}
