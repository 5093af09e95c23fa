package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/amigo-ec2/amigo/internal/store"
)

// DefaultGroupCommit is how many Updates one transaction carries at most:
// below PostgreSQL's 64 cached subtransactions per session, past which
// every snapshot in the cluster gets slower.
const DefaultGroupCommit = 32

// groupCommit runs concurrent Updates in shared transactions, each fn in a
// savepoint of its own, so that they share one commit: one WAL flush, and
// one turn of the database-wide lock that NOTIFY takes at commit (which
// otherwise makes every cache-invalidating commit, fsync included, wait
// for the one before it). A lone Update runs as before, in a transaction
// of its own.
//
// Correctness: fns of one batch run one after the other in one
// SERIALIZABLE transaction, so each sees its predecessors' writes: the
// batch is a serial order of them, which is what SERIALIZABLE promises
// each. A fn that returns an error is rolled back to its savepoint, so it
// changes nothing (its queued notifications go with it), and its error is
// its result once the batch commits. Anything else that breaks the batch
// before COMMIT (a serialization failure, a lost connection, a cancelled
// caller whose statement pgx interrupted) rolls the whole batch back, and
// every fn of it runs again: in the next batch after a conflict (up to
// batchTries times), otherwise alone, with updateAlone's retries:
// image.Store allows fn to run more than once. Only a failed COMMIT is
// reported to every caller of the batch, as it would be to a lone one.
type groupCommit struct {
	s        *Store
	maxBatch int
	alone    int // most Updates running alone at once; the rest queue

	mu      sync.Mutex
	queue   []*groupReq
	lone    int  // Updates running alone
	working bool // the batch worker runs (one batch at a time: two
	// concurrent batches of random images nearly always update a common
	// row, and the loser's whole batch must run again)
}

type groupReq struct {
	ctx   context.Context
	fn    func(*tx) error
	done  chan groupResult // buffered 1
	tries int              // batches it was in that conflicted
}

// batchTries is how many conflicted batches an Update goes back into the
// queue after, before it runs alone: a conflict is nearly always one of its
// fns and an Update running alone at the same time, which has committed by
// then, so the next batch usually commits, and 31 fns running alone
// (each a transaction, a commit and a flush of their own) cost far more.
const batchTries = 3

type groupResult struct {
	err      error
	panicked any
	again    bool // run it alone
}

func newGroupCommit(s *Store, maxBatch, alone int) *groupCommit {
	return &groupCommit{s: s, maxBatch: maxBatch, alone: alone}
}

// run runs fn alone while fewer than g.alone Updates do, as before group
// commit (so a slow fn holds up no other); past that it queues, and the
// batch worker runs what queued in one transaction.
func (g *groupCommit) run(ctx context.Context, fn func(*tx) error) error {
	g.mu.Lock()
	if g.lone < g.alone {
		g.lone++
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			g.lone--
			g.mu.Unlock()
		}()
		return updateAlone(g.s, ctx, fn, func(t *tx) *tx { return t })
	}
	r := &groupReq{ctx: ctx, fn: fn, done: make(chan groupResult, 1)}
	g.queue = append(g.queue, r)
	if !g.working {
		g.working = true
		go g.work()
	}
	g.mu.Unlock()
	// Wait whatever ctx says: once fn ran, the outcome is the caller's to
	// learn, as with a lone Update's commit.
	res := <-r.done
	if res.panicked != nil {
		panic(res.panicked)
	}
	if res.again {
		return updateAlone(g.s, ctx, fn, func(t *tx) *tx { return t })
	}
	return res.err
}

// work runs batches until the queue is empty.
func (g *groupCommit) work() {
	for {
		g.mu.Lock()
		n := min(len(g.queue), g.maxBatch)
		if n == 0 {
			g.working = false
			g.mu.Unlock()
			return
		}
		batch := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()
		if len(batch) == 1 {
			// Alone, but here: while the workers are busy, the queue
			// fills, and the next batch carries what came meanwhile.
			r := batch[0]
			var res groupResult
			res.panicked, res.err = callFn(func(*tx) error {
				return updateAlone(g.s, r.ctx, r.fn, func(t *tx) *tx { return t })
			}, nil)
			r.done <- res
			continue
		}
		g.runBatch(batch)
	}
}

// runBatch runs fns in one transaction and hands each its result.
func (g *groupCommit) runBatch(batch []*groupReq) {
	s := g.s
	results := make([]groupResult, len(batch))
	ok := make([]bool, len(batch)) // ran, and its result stands if COMMIT succeeds
	again := func() {
		for i, r := range batch {
			if results[i].panicked != nil {
				r.done <- results[i]
			} else {
				r.done <- groupResult{again: true}
			}
		}
	}
	// requeue is again after a conflict: the batch goes back to the front
	// of the queue, to be run in the next one, except fns that panicked,
	// or have been in batchTries conflicted batches (those run alone).
	requeue := func() {
		var back []*groupReq
		for i, r := range batch {
			switch {
			case results[i].panicked != nil:
				r.done <- results[i]
			case r.tries+1 < batchTries && r.ctx.Err() == nil:
				r.tries++
				back = append(back, r)
			default:
				r.done <- groupResult{again: true}
			}
		}
		s.retries.Add(1)
		g.mu.Lock()
		g.queue = append(back, g.queue...)
		g.mu.Unlock()
	}
	ctx := context.Background()
	s.attempts.Add(1)
	start := time.Now()
	p := newPipe(s, beginSerializable)
	if err := p.acquire(ctx); err != nil {
		again()
		return
	}
	defer p.end(ctx)
	// Each fn runs in a savepoint. Neither it, nor the release of the
	// previous one, travels alone: they go with the fn's first statement,
	// and the last fn's writes with COMMIT (see pipe).
	savepoint := []string{"SAVEPOINT g"}
	for i, r := range batch {
		if r.ctx.Err() != nil {
			results[i], ok[i] = groupResult{err: r.ctx.Err()}, true
			continue
		}
		for _, sp := range savepoint {
			p.later(queued{sql: sp})
		}
		savepoint = []string{"RELEASE SAVEPOINT g", "SAVEPOINT g"}
		m := p.mark()
		t := &tx{tx: p, pipe: p, docs: s.docs, write: true, wc: s.cache}
		panicked, err := callFn(func(t *tx) error {
			if err := r.fn(t); err != nil {
				return err
			}
			// The call's audit event, outbox entry: in fn's savepoint.
			return store.WriteAttached(r.ctx, t)
		}, t)
		if panicked != nil {
			results[i].panicked = panicked
		}
		// A queued statement that failed may have been an earlier fn's:
		// who failed is unknown, so everyone runs again.
		if panicked == nil && (t.conflict != nil || p.conflict != nil || isConflict(err)) {
			requeue()
			return
		}
		if panicked != nil || p.failedLater != nil {
			again()
			return
		}
		if err != nil {
			// Undo fn: what it queued was never sent, and ROLLBACK TO
			// (which keeps the savepoint, released by the next round)
			// undoes what was.
			p.dropFrom(m)
			p.later(queued{sql: "ROLLBACK TO SAVEPOINT g"})
		}
		results[i], ok[i] = groupResult{err: err}, true
	}
	synced := time.Now()
	laterErr, err := p.commit(ctx)
	if isConflict(err) || isConflict(laterErr) {
		requeue()
		return
	}
	if laterErr != nil {
		again()
		return
	}
	if err != nil {
		err = unavailable(fmt.Errorf("postgres: commit: %w", err))
		for _, r := range batch {
			r.done <- groupResult{err: err}
		}
		return
	}
	p.committed()
	if o := s.opts.Observer; o != nil {
		end := time.Now()
		o.Commit(len(batch), end.Sub(start), end.Sub(synced))
	}
	for i, r := range batch {
		if !ok[i] {
			results[i] = groupResult{again: true}
		} else if results[i].err == nil {
			store.Committed(r.ctx)
		}
		r.done <- results[i]
	}
}

// callFn runs fn, turning a panic into a value for its caller's goroutine.
func callFn(fn func(*tx) error, t *tx) (panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return nil, fn(t)
}
