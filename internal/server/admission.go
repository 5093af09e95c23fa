package server

import (
	"context"
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

func (l *limiter) tryAcquire() bool { return l.tryAcquireN(1) }

// tryAcquireN takes w units of the cap (cost.go: a listing is worth many
// small calls).
func (l *limiter) tryAcquireN(w int64) bool {
	if l.max <= 0 {
		return true
	}
	if l.n.Add(w) > l.limit.Load() {
		l.n.Add(-w)
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
func (l *limiter) release(held time.Duration) { l.releaseN(1, held) }

// releaseN gives back w units held for the given time (see release).
func (l *limiter) releaseN(w int64, held time.Duration) {
	if l.max <= 0 {
		return
	}
	l.n.Add(-w)
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
// may hold at most half the cap in force (or MaxInFlightPerKey), in units
// of cost (cost.go), so four un-paged listings fill a key's share of the
// default cap. Counted from the signature's verification until the request
// is done, also while its answer waits for a slow reader (then the cap's
// own units are given back, ticket.toWriter): a key that does not read
// its answers pins its own share, nobody else's.
type keyShare struct {
	fixed int64 // > 0: a fixed cap; 0: half the limiter's; < 0: none
	lim   *limiter
	keys  sync.Map // access key id → *keyCount; ids are verified, so bounded by the directory
	// waiting counts the requests waiting for their key's share
	// (waitN), at most maxWaiters; past it they are shed at once.
	waiting    atomic.Int64
	maxWaiters int64
}

// keyCount is one key's units held, and the requests waiting for them in
// arrival order.
type keyCount struct {
	atomic.Int64
	mu      sync.Mutex
	waiters []chan struct{}
}

func (k *keyShare) capacity() int64 {
	if k.fixed != 0 {
		return k.fixed
	}
	// Never under half the floor: a small fixed cap (tests, tiny
	// deployments) is not split.
	return max(minLimit/2, k.lim.limit.Load()/2)
}

func (k *keyShare) tryAcquire(id string) (*keyCount, bool) { return k.tryAcquireN(id, 1) }

// tryAcquireN takes w units of id's share; the count is nil when keys have
// no share of their own.
func (k *keyShare) tryAcquireN(id string, w int64) (*keyCount, bool) {
	if k.fixed < 0 || k.lim.max <= 0 {
		return nil, true
	}
	v, ok := k.keys.Load(id)
	if !ok {
		v, _ = k.keys.LoadOrStore(id, new(keyCount))
	}
	n := v.(*keyCount)
	return n, k.take(n, w)
}

func (k *keyShare) take(n *keyCount, w int64) bool {
	if n.Add(w) > k.capacity() {
		n.Add(-w)
		return false
	}
	return true
}

// waitN waits up to d (or ctx's end) for w units of n's share, in arrival
// order with the key's other waiters. This is the key's small fair queue:
// a burst from one client (Terraform's parallel lookups) is served in turn
// rather than refused, and a client that keeps more requests coming than
// its share is slowed to its share's pace, its excess answered 503 after
// the wait instead of at once — at once, a client that never backs off
// turns every refusal into a new request and keeps the CPUs busy with
// them. Past maxWaiters waiting requests (all keys) it refuses at once.
// The waiter holds no unit of the in-flight cap.
func (k *keyShare) waitN(ctx context.Context, n *keyCount, w int64, d time.Duration) bool {
	if k.waiting.Add(1) > k.maxWaiters {
		k.waiting.Add(-1)
		return false
	}
	defer k.waiting.Add(-1)
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		ch := make(chan struct{}, 1)
		n.mu.Lock()
		n.waiters = append(n.waiters, ch)
		n.mu.Unlock()
		if k.take(n, w) { // units freed before we queued: no wake-up comes
			if !n.remove(ch) {
				<-ch // one was sent to us after all: pass it on
			}
			k.wakeIfRoom(n)
			return true
		}
		select {
		case <-ch:
			if k.take(n, w) {
				k.wakeIfRoom(n)
				return true
			}
		case <-timer.C:
			if !n.remove(ch) {
				k.wake(n) // woken as the time ran out: pass it on
			}
			return false
		case <-ctx.Done():
			if !n.remove(ch) {
				k.wake(n)
			}
			return false
		}
	}
}

// remove takes ch out of the queue; false if a waker already had.
func (n *keyCount) remove(ch chan struct{}) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, c := range n.waiters {
		if c == ch {
			n.waiters = append(n.waiters[:i], n.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// wake tells the first waiter that units were given back.
func (k *keyShare) wake(n *keyCount) {
	n.mu.Lock()
	var ch chan struct{}
	if len(n.waiters) > 0 {
		ch = n.waiters[0]
		n.waiters = n.waiters[1:]
	}
	n.mu.Unlock()
	if ch != nil {
		ch <- struct{}{} // buffered, and only the one who dequeued it sends
	}
}

// wakeIfRoom passes a wake-up on while the share has room: one release of
// a listing's units may admit several small calls.
func (k *keyShare) wakeIfRoom(n *keyCount) {
	if n.Load() < k.capacity() {
		k.wake(n)
	}
}

// release gives back w units of n (nil: nothing was taken).
func (k *keyShare) release(n *keyCount, w int64) {
	if n == nil {
		return
	}
	n.Add(-w)
	k.wake(n)
}
