// Package postgres is amigo's PostgreSQL store engine, for when one machine
// is not enough: several amigo processes share one database. It uses pgx
// directly (a pgxpool.Pool, no database/sql), and the schema mirrors the
// sqlite engine's: the same tables, indexed columns and JSON documents
// (internal/store/internal/record), ids compared bytewise (COLLATE "C").
//
// # Concurrency: SERIALIZABLE transactions, retried
//
// Update runs fn in a SERIALIZABLE transaction and, when PostgreSQL reports
// a serialization failure (SQLSTATE 40001) or a deadlock (40P01), rolls back
// and runs fn again from the start, a bounded number of times with jittered
// exponential backoff. image.Store already allows fn to run more than once.
//
// Row locks (SELECT … FOR UPDATE under READ COMMITTED) were the
// alternative. They would need every read-modify-write to name the rows it
// will write before reading them, but image.Tx has no "read for update",
// and the domain's invariants are not all about one row: "no other live
// image of this owner has this name" (ImageIDByName, then InsertImage) or
// "no instance still uses this image" are reads of sets, which row locks
// do not protect (phantoms). SERIALIZABLE (PostgreSQL's serializable
// snapshot isolation) makes every fn behave as if run alone, whatever it
// reads, which is the contract image.Store states; the price is a retry
// when two updates really do collide, cheap here because transactions are
// short. A retry is triggered by the database's verdict, not by what fn
// returns: a tx remembers the first serialization failure any of its
// statements met, so a domain error wrapping (or replacing) it still leads
// to a retry rather than to a spurious failure.
//
// View runs fn in a REPEATABLE READ READ ONLY transaction: one snapshot for
// all of fn, never blocked by writers and never a serialization failure.
//
// Single-row statements are prepared and cached per connection by pgx (its
// default QueryExecMode); searches are planned for their values each time
// (see searchMode). Lists travel as arrays (= ANY($1)), so a statement's
// text does not depend on a list's length, and a page of images gets its
// launch permissions in one query, not one per image.
//
// Round trips, not SQL, are what a short transaction costs on a busy
// machine, so a transaction is a pipe (pipe.go): BEGIN travels with its
// first statement, and writes whose answer can wait travel with the next
// statement or with COMMIT. An Update may read an image from the read
// cache, checked on the server against the row's version (checkedImage),
// so a ModifyImageAttribute whose image is cached is one round trip:
// BEGIN, the check, the writes, the audit event and COMMIT together.
//
// # Timeouts: a stalled database costs a bounded time
//
// Options bound opening a connection, waiting for one from the pool and
// each statement (server side with statement_timeout, client side with a
// deadline shortly after, for a server that answers nothing). A failure
// they cause, like a lost connection or a database shutting down, carries
// store.ErrUnavailable, which the service answers as a retryable 503. pgx
// closes a connection whose statement ran out of time and the pool opens
// new ones on demand, so the store recovers by itself when the database
// does.
//
// Several processes may Open the same database at once: migrations run in
// one transaction holding a transaction-scoped advisory lock.
//
// # Read cache and group commit
//
// Each Store keeps a read cache like the sqlite engine's, exact across
// processes through LISTEN/NOTIFY (cache.go, listen.go: the argument is
// there), and packs concurrent Updates past a share of the pool into
// shared transactions (groupcommit.go).
package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/store"
	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
)

// ErrClosed is returned by View and Update once Close has been called.
var ErrClosed = errors.New("postgres: store is closed")

// Options tune a Store. Zero values take pgxpool's defaults, or the
// pool_max_conns and pool_min_conns of the DSN when it sets them.
type Options struct {
	// MaxConns caps the pool's connections; each View or Update holds one
	// for its duration. pgxpool's default is max(4, number of CPUs).
	MaxConns int32
	// MinConns is how many connections the pool keeps open when idle.
	MinConns int32

	// The timeouts below bound what a stalled or unreachable database
	// costs one View or Update; each failure they cause carries
	// store.ErrUnavailable. Zero leaves a bound off (the DSN's
	// connect_timeout, if any, still applies); DefaultConnectTimeout and
	// its siblings are the values a server should run with.

	// ConnectTimeout bounds opening one connection: dial, TLS and
	// authentication.
	ConnectTimeout time.Duration
	// AcquireTimeout bounds how long View and Update wait for a pooled
	// connection when every one is busy or still being opened.
	AcquireTimeout time.Duration
	// StatementTimeout bounds each statement, COMMIT included. PostgreSQL
	// cancels a statement running longer (statement_timeout), and the
	// client stops waiting for a server that answers nothing shortly
	// after. Leave it off for an export of a large store, which lists
	// every image in one statement.
	StatementTimeout time.Duration

	// Observer, when set, hears of every committed transaction, with how
	// many Updates it carried (see groupCommit).
	Observer store.Observer

	// CacheImages bounds the read cache: about this many decoded images,
	// and as many resources' tags. 0 means DefaultCacheImages; negative
	// turns the cache off. Every process notifies the others of its
	// writes whatever its own setting, so processes with and without a
	// cache may share a database.
	CacheImages int

	// GroupCommit bounds how many concurrent Updates share one
	// transaction (see groupCommit). 0 means DefaultGroupCommit; 1 or
	// less turns it off: every Update commits alone.
	GroupCommit int
}

// Timeouts a server should run with (see Options).
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultAcquireTimeout   = 5 * time.Second
	DefaultStatementTimeout = 10 * time.Second
)

// Retry policy of Update.
const (
	// maxAttempts bounds how often fn runs. Under heavy contention on one
	// row each round lets at least one transaction through, so this is
	// generous: giving up means the database is saturated.
	maxAttempts = 64
	// Backoff before attempt n+1 is uniform in [0, min(maxBackoff,
	// baseBackoff·2ⁿ)) ("full jitter"), so colliding updates spread out.
	baseBackoff = 500 * time.Microsecond
	maxBackoff  = 50 * time.Millisecond
	// commitTimeout bounds COMMIT and ROLLBACK, which are not cancelled
	// with the caller's context: once fn has run, the caller learns the
	// outcome rather than "canceled" about a change that may have been
	// committed.
	commitTimeout = 30 * time.Second
)

// Store is an instance.Store (and so an image.Store) in a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	dsn  string
	opts Options
	docs *record.Docs // decoded image documents, shared by its transactions

	group *groupCommit // nil when off

	// cache serves Views' hot reads (nil when off), kept exact by
	// listener (see listen.go).
	cache    *readcache.Cache
	listener *listener

	closed    atomic.Bool
	closeOnce sync.Once

	// Counters, for tests and benchmarks.
	attempts atomic.Int64 // transactions Update began
	retries  atomic.Int64 // of which were retries after a conflict
}

var _ instance.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or a keyword/value
// string, as libpq takes) and migrates it to the current schema. The
// database must exist; its user needs the right to create tables in it.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	if cfg.MinConns > cfg.MaxConns {
		return nil, fmt.Errorf("postgres: MinConns %d exceeds MaxConns %d", cfg.MinConns, cfg.MaxConns)
	}
	if opts.ConnectTimeout < 0 || opts.AcquireTimeout < 0 || opts.StatementTimeout < 0 {
		return nil, errors.New("postgres: negative timeout")
	}
	if opts.ConnectTimeout > 0 {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	if opts.StatementTimeout > 0 {
		// Milliseconds, PostgreSQL's unit for a bare number; at least 1,
		// since 0 would turn the server's bound off.
		ms := max(1, opts.StatementTimeout.Milliseconds())
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(ms, 10)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, unavailable(err)
	}
	s := &Store{pool: pool, dsn: dsn, opts: opts, docs: record.NewDocs(0)}
	if n := cmp.Or(opts.GroupCommit, DefaultGroupCommit); n > 1 {
		// Up to the pool less two connections' worth of Updates run
		// alone; one is for the batch worker, one for Views.
		s.group = newGroupCommit(s, n, max(1, int(cfg.MaxConns)-2))
	}
	if opts.CacheImages >= 0 {
		n := opts.CacheImages
		if n == 0 {
			n = DefaultCacheImages
		}
		s.cache = readcache.New(n)
		// The pool's connection settings (timeouts, runtime parameters)
		// serve the listener's two sessions too.
		s.listener = startListener(cfg.ConnConfig.Copy(), s.cache)
	}
	return s, nil
}

// CacheStats returns how many reads the read cache answered (hits) and how
// many it did not (misses), since Open; zeros when the cache is off.
func (s *Store) CacheStats() (hits, misses uint64) {
	if s.cache == nil {
		return 0, 0
	}
	return s.cache.Stats()
}

// begin acquires a connection, within AcquireTimeout, and begins a
// transaction on it. release returns the connection to the pool and must
// be called once the transaction has ended (after its rollback).
func (s *Store) begin(ctx context.Context, txOpts pgx.TxOptions) (ptx pgx.Tx, release func(), err error) {
	actx := ctx
	if d := s.opts.AcquireTimeout; d > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeoutCause(ctx, d, errAcquireTimeout)
		defer cancel()
	}
	conn, err := s.pool.Acquire(actx)
	if err != nil {
		if ctx.Err() == nil && context.Cause(actx) == errAcquireTimeout {
			err = fmt.Errorf("%w: %w", errAcquireTimeout, err)
		}
		return nil, nil, unavailable(fmt.Errorf("postgres: acquire a connection: %w", err))
	}
	bctx, cancel := s.statementContext(ctx)
	defer cancel()
	ptx, err = conn.BeginTx(bctx, txOpts)
	if err != nil {
		conn.Release()
		return nil, nil, unavailable(fmt.Errorf("postgres: begin: %w", err))
	}
	if d := s.opts.StatementTimeout; d > 0 {
		ptx = boundedTx{Tx: ptx, d: d + statementGrace}
	}
	return ptx, conn.Release, nil
}

var errAcquireTimeout = errors.New("no pooled connection within the acquire timeout")

// statementContext bounds one statement the store runs itself (BEGIN),
// as boundedTx bounds those of a transaction.
func (s *Store) statementContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d := s.opts.StatementTimeout; d > 0 {
		return context.WithTimeout(ctx, d+statementGrace)
	}
	return ctx, func() {}
}

// finishTimeout bounds COMMIT and ROLLBACK.
func (s *Store) finishTimeout() time.Duration {
	if d := s.opts.StatementTimeout; d > 0 {
		return min(commitTimeout, d+statementGrace)
	}
	return commitTimeout
}

// View runs fn in a read-only REPEATABLE READ transaction: every read sees
// the snapshot taken at the first one, and writes fail.
func (s *Store) View(ctx context.Context, fn func(image.Tx) error) error {
	return view(s, ctx, fn, asImageTx)
}

// ViewInstances is View for functions that also read instances.
func (s *Store) ViewInstances(ctx context.Context, fn func(instance.Tx) error) error {
	return view(s, ctx, fn, asInstanceTx)
}

// The engine's tx seen as each kind's Tx: static functions, so passing
// one costs nothing, and the compiler checks that tx implements both.
func asImageTx(t *tx) image.Tx       { return t }
func asInstanceTx(t *tx) instance.Tx { return t }

func view[T any](s *Store, ctx context.Context, fn func(T) error, as func(*tx) T) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The transaction begins at its first statement, with it (see pipe).
	p := newPipe(s, beginReadOnly)
	defer p.end(ctx)
	t := &tx{tx: p, docs: s.docs, s: s, rc: s.cache}
	if s.cache != nil {
		// Before the first statement, so before the snapshot.
		t.seen = s.cache.Now()
	}
	return fn(as(t))
}

// Update runs fn in a SERIALIZABLE transaction and commits it, running fn
// again when PostgreSQL reports that the transaction collided with another
// (see the package documentation). When fn returns an error that is not
// such a collision, nothing is kept and the error is returned unchanged.
// fn must not use tx after returning, nor call View or Update itself: with
// a small pool that could wait forever for a connection.
func (s *Store) Update(ctx context.Context, fn func(image.Tx) error) error {
	return update(s, ctx, fn, asImageTx)
}

// UpdateInstances is Update for functions that also use instances.
func (s *Store) UpdateInstances(ctx context.Context, fn func(instance.Tx) error) error {
	return update(s, ctx, fn, asInstanceTx)
}

func update[T any](s *Store, ctx context.Context, fn func(T) error, as func(*tx) T) error {
	store.PrepareAttached(ctx)
	if s.group == nil {
		return updateAlone(s, ctx, fn, as)
	}
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.group.run(ctx, func(t *tx) error { return fn(as(t)) })
}

// updateAlone runs fn in a transaction of its own, retried on conflicts.
func updateAlone[T any](s *Store, ctx context.Context, fn func(T) error, as func(*tx) T) error {
	for n := 1; ; n++ {
		if s.closed.Load() {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		retry, err := attempt(s, ctx, fn, as, n == 1)
		if !retry {
			if err == nil {
				store.Committed(ctx)
			}
			return err
		}
		if n == maxAttempts {
			return fmt.Errorf("postgres: update gave up after %d conflicting attempts: %w", n, err)
		}
		s.retries.Add(1)
		backoff := min(maxBackoff, baseBackoff<<min(n-1, 16))
		t := time.NewTimer(rand.N(backoff))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// attempt runs fn once in a transaction of its own. retry reports a
// serialization failure or deadlock: err is then that failure (or fn's
// error, if fn returned one).
// A first attempt may read images through the read cache (checkedImage); a
// retry reads the database, whose rows a stale cache entry made it fail.
func attempt[T any](s *Store, ctx context.Context, fn func(T) error, as func(*tx) T, first bool) (retry bool, err error) {
	s.attempts.Add(1)
	start := time.Now()
	p := newPipe(s, beginSerializable)
	if err := p.acquire(ctx); err != nil {
		return false, err
	}
	// Covers a panic in fn too: the connection goes back to the pool
	// clean. After a commit it only releases it.
	defer p.end(ctx)
	t := &tx{tx: p, pipe: p, docs: s.docs, write: true}
	if first {
		t.wc = s.cache
	}
	err = fn(as(t))
	if err == nil {
		err = store.WriteAttached(ctx, t) // the call's audit event, outbox entry
	}
	if err != nil {
		return t.conflict != nil || p.conflict != nil || isConflict(err), err
	}
	if c := cmp.Or(t.conflict, p.conflict); c != nil {
		// fn went on after a failed statement (the transaction is
		// aborted) and returned nil: the commit could only roll back.
		return true, c
	}
	synced := time.Now()
	laterErr, err := p.commit(ctx)
	if err == nil {
		err = laterErr
	}
	if err != nil {
		// Serialization failures are also detected at commit, and by
		// the writes that travel with it.
		return isConflict(err), unavailable(fmt.Errorf("postgres: commit: %w", err))
	}
	p.committed()
	if o := s.opts.Observer; o != nil {
		end := time.Now()
		o.Commit(1, end.Sub(start), end.Sub(synced))
	}
	return false, nil
}

func (s *Store) rollback(ctx context.Context, ptx pgx.Tx) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.finishTimeout())
	defer cancel()
	_ = ptx.Rollback(cctx) // ErrTxClosed after a commit; a broken connection is discarded
}

// isConflict reports whether err says the transaction collided with
// another and would succeed if run again.
func isConflict(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", // serialization_failure
			"40P01": // deadlock_detected
			return true
		}
	}
	return false
}

// Close closes the pool once the transactions in progress have ended.
// Later calls do nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.listener != nil {
			s.listener.stop()
		}
		s.pool.Close()
	})
	return nil
}
