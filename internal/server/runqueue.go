package server

import (
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// runQueue watches how many goroutines wait for a CPU. Under CPU overload
// that is where requests queue: a connection's goroutine is woken by its
// request's bytes and then waits to run, before amigo's handler can count
// it. So admission also sheds while that queue is longer than its cap.
// The runtime is asked at most once per runQueueEvery, by whichever request
// comes first; no goroutine of its own.
type runQueue struct {
	max    int64
	at     atomic.Int64 // monotonic nanoseconds of the last reading
	n      atomic.Int64
	busy   atomic.Bool
	sample []metrics.Sample
	epoch  time.Time
}

const runQueueEvery = 2 * time.Millisecond

const runnableMetric = "/sched/goroutines/runnable:goroutines"

func newRunQueue(max int) *runQueue {
	q := &runQueue{max: int64(max), epoch: time.Now(),
		sample: []metrics.Sample{{Name: runnableMetric}}}
	metrics.Read(q.sample)
	if q.sample[0].Value.Kind() != metrics.KindUint64 {
		q.max = 0 // a runtime without the metric: the in-flight cap alone
	}
	return q
}

// over reports whether more goroutines wait for a CPU than the cap allows.
func (q *runQueue) over() bool {
	if q.max <= 0 {
		return false
	}
	now := int64(time.Since(q.epoch))
	if now-q.at.Load() >= int64(runQueueEvery) && q.busy.CompareAndSwap(false, true) {
		metrics.Read(q.sample)
		q.n.Store(int64(q.sample[0].Value.Uint64()))
		q.at.Store(now)
		q.busy.Store(false)
	}
	return q.n.Load() > q.max
}
