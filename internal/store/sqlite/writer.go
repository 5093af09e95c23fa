package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/store"
)

var errReadOnlyStore = errors.New("sqlite: the store was opened read-only")

// A request is one Update call waiting for the writer.
type request struct {
	ctx context.Context
	// fn or withInstances is the function to run (UpdateInstances sets
	// the second): two fields rather than a wrapping closure, which would
	// cost every update an allocation.
	fn            func(image.Tx) error
	withInstances func(instance.Tx) error
	withSnapshots func(snapshot.Tx) error
	withAudit     func(audit.PruneTx) error
	state         atomic.Int32 // queued, then running or abandoned
	done          chan error   // buffered: the writer never waits for the caller
}

const (
	queued int32 = iota
	running
	abandoned // the caller's context ended while queued; fn never runs
)

// Update runs fn in a write transaction and returns once it is durable.
// With group commit, fn shares the transaction with other queued updates,
// each inside its own savepoint, so a failing fn is undone alone and later
// functions see earlier ones' writes. fn must not call Update on the same
// store (the writer would wait for itself), nor use tx after returning; a
// View inside fn would not see fn's own writes.
func (s *Store) Update(ctx context.Context, fn func(image.Tx) error) error {
	return s.update(ctx, &request{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// UpdateInstances is Update for functions that also use instances.
func (s *Store) UpdateInstances(ctx context.Context, fn func(instance.Tx) error) error {
	return s.update(ctx, &request{ctx: ctx, withInstances: fn, done: make(chan error, 1)})
}

func (s *Store) update(ctx context.Context, req *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return errReadOnlyStore
	}
	store.PrepareAttached(ctx)
	if err := s.enqueue(ctx, req); err != nil {
		return err
	}
	var err error
	select {
	case err = <-req.done:
	case <-ctx.Done():
		if req.state.CompareAndSwap(queued, abandoned) {
			return ctx.Err()
		}
		// fn is already running: its outcome decides, or the caller could
		// be told "cancelled" about a change that was committed.
		err = <-req.done
	}
	if err == nil {
		store.Committed(ctx)
	}
	return err
}

func (s *Store) enqueue(ctx context.Context, req *request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.queue <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeLoop is the writer goroutine. It takes whatever is queued, up to
// MaxBatch, as one batch; no timer is needed because requests pile up
// naturally while the previous batch fsyncs. It returns once Close has
// closed the queue and the queue is drained.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	batch := make([]*request, 0, s.opts.MaxBatch)
	errs := make([]error, s.opts.MaxBatch)
	for req := range s.queue {
		batch = append(batch[:0], req)
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.runBatch(batch, errs[:len(batch)])
		clear(batch)
		s.maybeMergeAudit()
	}
}

func (s *Store) runBatch(batch []*request, errs []error) {
	live := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(queued, running) {
			live = append(live, r)
		}
	}
	errs = errs[:len(live)]
	clear(errs)
	if !s.opts.GroupCommit || len(live) == 1 {
		for _, r := range live {
			r.done <- s.runAlone(r)
		}
		return
	}
	if err := s.runGrouped(live, errs); err != nil {
		// The shared transaction is gone. Functions that failed cleanly keep
		// their own error; every other one gets a transaction of its own,
		// so one bad function cannot fail its neighbours.
		for i, r := range live {
			if errs[i] == nil {
				errs[i] = s.runAlone(r)
			}
		}
	}
	for i, r := range live {
		r.done <- errs[i]
	}
}

// runGrouped runs every function of the batch in one transaction, each in a
// savepoint. errs[i] receives function i's own error. A non-nil result means
// the transaction was rolled back; errs then holds only the errors that are
// final (a function whose failure was undone cleanly by its savepoint).
func (s *Store) runGrouped(live []*request, errs []error) error {
	start := time.Now()
	if err := s.exec(`BEGIN IMMEDIATE`); err != nil {
		return err
	}
	for i, r := range live {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if err := s.exec(`SAVEPOINT batch_item`); err != nil {
			s.rollback()
			return err
		}
		if err := s.call(r, false); err != nil {
			// If the savepoint cannot be rolled back, the engine already
			// aborted the transaction and err may be a consequence of
			// that: retry this function alone too.
			if rerr := s.exec(`ROLLBACK TO batch_item`); rerr != nil {
				s.rollback()
				return rerr
			}
			errs[i] = err
		}
		if err := s.exec(`RELEASE batch_item`); err != nil {
			errs[i] = nil
			s.rollback()
			return err
		}
	}
	// The attachments (audit events) of the functions that succeeded go
	// in after every savepoint: pages written outside a savepoint need no
	// sub-journal, which is most of what they would cost inside one. If
	// one fails, the whole batch is retried alone, each function with its
	// attachments (runBatch).
	t := s.writeTx()
	for i, r := range live {
		if errs[i] != nil {
			continue
		}
		if err := store.WriteAttached(r.ctx, t); err != nil {
			s.rollback()
			return err
		}
	}
	if err := s.commit(len(live), start); err != nil {
		return err
	}
	return nil
}

// runAlone runs one function in a transaction of its own.
func (s *Store) runAlone(r *request) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	if err := s.exec(`BEGIN IMMEDIATE`); err != nil {
		return err
	}
	if err := s.call(r, true); err != nil {
		s.rollback()
		return err
	}
	return s.commit(1, start)
}

func (s *Store) writeTx() *tx {
	return &tx{s: s, q: s.wconn, st: s.wst, cache: s.wc, write: true}
}

// call runs fn, turning a panic into an error for its caller alone: the
// writer goroutine must survive a bad function. With attach, a successful
// fn's attachments are written after it (runGrouped writes them itself).
func (s *Store) call(r *request, attach bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: update function panicked: %v\n%s", p, debug.Stack())
		}
	}()
	t := s.writeTx()
	switch {
	case r.withInstances != nil:
		err = r.withInstances(t)
	case r.withSnapshots != nil:
		err = r.withSnapshots(t)
	case r.withAudit != nil:
		return r.withAudit(t) // the audit's own writes carry nothing
	default:
		err = r.fn(t)
	}
	if err != nil || !attach {
		return err
	}
	return store.WriteAttached(r.ctx, t)
}

// commit commits the open transaction of batch updates, begun at start.
func (s *Store) commit(batch int, start time.Time) error {
	if s.beforeCommit != nil {
		if err := s.beforeCommit(); err != nil {
			s.rollback()
			return fmt.Errorf("sqlite: commit: %w", err)
		}
	}
	synced := time.Now()
	if err := s.exec(`COMMIT`); err != nil {
		// A failed COMMIT may leave the transaction open (SQLITE_BUSY).
		s.rollback()
		return err
	}
	s.commits.Add(1)
	if o := s.opts.Observer; o != nil {
		end := time.Now()
		o.Commit(batch, end.Sub(start), end.Sub(synced))
	}
	s.ended()
	return nil
}

// rollback ends the open transaction, if any. Its error is ignored: it fails
// only when SQLite already rolled back on its own.
func (s *Store) rollback() {
	_, _ = s.wconn.ExecContext(context.Background(), `ROLLBACK`)
	s.ended()
}

// ended drops what the finished transaction touched from the read cache
// (all of it, committed or not: dropping more than needed is harmless).
// Callers are acknowledged after this, so none reads around its own write.
func (s *Store) ended() {
	if s.cache != nil {
		s.cache.Invalidate(s.pending...)
		clear(s.pending)
		s.pending = s.pending[:0]
	}
}

// exec runs a transaction-control statement on the write connection. The
// writer never passes a caller's context to the driver: interrupting a
// statement would abort the whole shared transaction (and make the driver
// discard the connection), so cancellation is checked between statements.
//
// The statements are few and fixed, so they come prepared from the writer's
// statement cache.
func (s *Store) exec(stmt string) error {
	ctx := context.Background()
	cs, err := s.wc.acquire(ctx, stmt)
	if err == nil {
		_, err = cs.stmt.ExecContext(ctx)
		s.wc.release(cs)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", stmt, err)
	}
	return nil
}
