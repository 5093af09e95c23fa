package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/store/internal/readcache"
)

// pipe is one transaction on one pooled connection, sent in as few round
// trips as its statements allow. Every round trip waits for a busy
// machine's scheduler twice, so on a loaded machine they, not the SQL, are
// what a short transaction costs:
//
//   - BEGIN does not travel alone: it waits in the queue and goes out with
//     the first statement. The connection, too, is taken only then (a View
//     the read cache answers never takes one), unless the caller acquires
//     it up front.
//   - A write whose outcome its caller does not need yet (later) waits in
//     the queue as well, and goes out with the next statement that needs an
//     answer, or with COMMIT. A modification is then two round trips: BEGIN
//     with the read of the image, and the writes with COMMIT.
//
// Queued statements run in order, before the one they travel with, so a
// transaction still reads its own writes. A queued statement that fails
// fails the statement it travels with, since the transaction is aborted
// anyway; failedLater remembers that it happened, for group commit, which
// cannot tell then whose statement it was.
type pipe struct {
	s     *Store
	begin string // the BEGIN statement; "" once sent (or when none is wanted)

	conn *pgxpool.Conn
	err  error // of acquiring the connection; sticky

	queue []queued
	// queued and sent count the statements ever queued and ever sent off
	// the queue: the queue holds those in [sent, queued).
	queued, sent int
	// failedLater is the first error of a queued statement.
	failedLater error
	// changes are the cache keys the transaction's writes touched, for
	// the store to drop from its own cache as soon as it commits (the
	// listener drops them too, later).
	changes []readcache.Invalidation
	// written are the images the transaction updated, each with the
	// version its row was left at (known once the update's answer came):
	// committed puts them in the cache.
	written []*writtenImage
	// seen is the cache's invalidation number noted before COMMIT.
	seen uint64
	// conflict is the first serialization failure or deadlock any
	// statement met (the tx records its own too; this one also sees those
	// of statements queued by another tx on the pipe, under group commit).
	conflict error
}

// A queued statement, and what to make of its result: check judges its
// command tag (a row count), row scans its one row. Either may be nil.
type queued struct {
	sql   string
	args  []any
	check func(pgconn.CommandTag) error
	row   func(pgx.Row) error
}

var _ querier = (*pipe)(nil)

// Transaction starts: the isolation of Updates and of Views.
const (
	beginSerializable = "BEGIN ISOLATION LEVEL SERIALIZABLE"
	beginReadOnly     = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
)

func newPipe(s *Store, begin string) *pipe {
	return &pipe{s: s, begin: begin}
}

// acquire takes a pooled connection, within AcquireTimeout, unless the pipe
// has one.
func (p *pipe) acquire(ctx context.Context) error {
	if p.conn != nil || p.err != nil {
		return p.err
	}
	actx := ctx
	if d := p.s.opts.AcquireTimeout; d > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeoutCause(ctx, d, errAcquireTimeout)
		defer cancel()
	}
	conn, err := p.s.pool.Acquire(actx)
	if err != nil {
		if ctx.Err() == nil && context.Cause(actx) == errAcquireTimeout {
			err = fmt.Errorf("%w: %w", errAcquireTimeout, err)
		}
		p.err = unavailable(fmt.Errorf("postgres: acquire a connection: %w", err))
		return p.err
	}
	p.conn = conn
	return nil
}

// later queues a statement to go out with the next one that needs an
// answer, or with COMMIT.
func (p *pipe) later(q queued) {
	p.queue = append(p.queue, q)
	p.queued++
}

// A writtenImage is an image an Update wrote, and its row's version.
type writtenImage struct {
	img     *image.Image // frozen
	version int64
}

// mark and dropFrom let group commit forget what one Update queued when
// that Update fails: statements still queued were never sent, so dropping
// them undoes them (ROLLBACK TO undoes the others), and the images it
// wrote must not reach the cache.
type pipeMark struct{ queued, written int }

func (p *pipe) mark() pipeMark { return pipeMark{p.queued, len(p.written)} }

func (p *pipe) dropFrom(m pipeMark) {
	keep := max(0, m.queued-p.sent)
	if keep < len(p.queue) {
		clear(p.queue[keep:])
		p.queued -= len(p.queue) - keep
		p.queue = p.queue[:keep]
	}
	p.written = p.written[:m.written]
}

// statementContext bounds one round trip (see boundedTx).
func (p *pipe) statementContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return p.s.statementContext(ctx)
}

// prefix moves BEGIN and the queue into a new batch; began and items say
// what results come before the caller's. It returns nil when nothing waits.
func (p *pipe) prefix() (b *pgx.Batch, began bool, items []queued) {
	if p.begin == "" && len(p.queue) == 0 {
		return nil, false, nil
	}
	b = &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(p.queue)+2)}
	if p.begin != "" {
		b.Queue(p.begin)
		p.begin, began = "", true
	}
	items = p.queue
	p.queue = nil
	p.sent += len(items)
	for _, q := range items {
		b.Queue(q.sql, q.args...)
	}
	return b, began, items
}

// drain reads the results of BEGIN and the queued statements at the head
// of br.
func (p *pipe) drain(br pgx.BatchResults, began bool, items []queued) error {
	if began {
		if _, err := br.Exec(); err != nil {
			return p.noteLater(fmt.Errorf("begin: %w", err))
		}
	}
	for _, q := range items {
		var err error
		if q.row != nil {
			err = q.row(br.QueryRow())
		} else {
			var tag pgconn.CommandTag
			tag, err = br.Exec()
			if err == nil && q.check != nil {
				err = q.check(tag)
			}
		}
		if err != nil {
			return p.noteLater(fmt.Errorf("queued write: %w", err))
		}
	}
	return nil
}

func (p *pipe) noteLater(err error) error {
	if p.failedLater == nil {
		p.failedLater = err
	}
	return p.note(err)
}

// note records a conflict for the retry decision and returns err.
func (p *pipe) note(err error) error {
	if err != nil && p.conflict == nil && isConflict(err) {
		p.conflict = err
	}
	return err
}

// hasMode reports whether args start with a pgx.QueryExecMode, which a
// batch cannot carry (searchMode).
func hasMode(args []any) bool {
	if len(args) == 0 {
		return false
	}
	_, ok := args[0].(pgx.QueryExecMode)
	return ok
}

// flush sends what waits, alone.
func (p *pipe) flush(ctx context.Context) error {
	b, began, items := p.prefix()
	if b == nil {
		return nil
	}
	bctx, cancel := p.statementContext(ctx)
	defer cancel()
	br := p.conn.SendBatch(bctx, b)
	err := p.drain(br, began, items)
	if cerr := br.Close(); err == nil {
		err = p.note(cerr)
	}
	return err
}

// start readies the pipe for a statement: a connection, and a batch of
// what waits (nil when nothing does, or when args cannot travel in one:
// then what waited has been sent alone).
func (p *pipe) start(ctx context.Context, args []any) (b *pgx.Batch, began bool, items []queued, err error) {
	if err := p.acquire(ctx); err != nil {
		return nil, false, nil, err
	}
	if hasMode(args) {
		return nil, false, nil, p.flush(ctx)
	}
	b, began, items = p.prefix()
	return b, began, items, nil
}

func (p *pipe) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	b, began, items, err := p.start(ctx, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	bctx, cancel := p.statementContext(ctx)
	defer cancel()
	if b == nil {
		tag, err := p.conn.Exec(bctx, sql, args...)
		return tag, p.note(err)
	}
	b.Queue(sql, args...)
	br := p.conn.SendBatch(bctx, b)
	defer br.Close()
	if err := p.drain(br, began, items); err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	return tag, p.note(err)
}

func (p *pipe) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	b, began, items, err := p.start(ctx, args)
	if err != nil {
		return nil, err
	}
	bctx, cancel := p.statementContext(ctx)
	if b == nil {
		rows, err := p.conn.Query(bctx, sql, args...)
		if err != nil {
			cancel()
			return nil, p.note(err)
		}
		return &boundedRows{Rows: rows, cancel: cancel}, nil
	}
	b.Queue(sql, args...)
	br := p.conn.SendBatch(bctx, b)
	if err := p.drain(br, began, items); err != nil {
		br.Close()
		cancel()
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		cancel()
		return nil, p.note(err)
	}
	return &batchRows{Rows: rows, br: br, cancel: cancel}, nil
}

func (p *pipe) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := p.Query(ctx, sql, args...)
	if err != nil {
		return errRow{err}
	}
	return &firstRow{rows: rows, p: p}
}

// SendBatch sends b after what waits, in one round trip.
func (p *pipe) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	pre, began, items, err := p.start(ctx, nil)
	if err != nil {
		return errBatch{err}
	}
	bctx, cancel := p.statementContext(ctx)
	if pre == nil {
		return &boundedBatch{BatchResults: p.conn.SendBatch(bctx, b), cancel: cancel, p: p}
	}
	// The caller's queries keep their callbacks, which Close runs.
	pre.QueuedQueries = append(pre.QueuedQueries, b.QueuedQueries...)
	br := p.conn.SendBatch(bctx, pre)
	if err := p.drain(br, began, items); err != nil {
		br.Close()
		cancel()
		return errBatch{err}
	}
	return &boundedBatch{BatchResults: br, cancel: cancel, p: p}
}

// commit sends what waits and COMMIT, in one round trip. A pipe that never
// sent BEGIN has nothing to commit. laterErr is set when a queued
// statement failed (COMMIT then did not run: the transaction rolls back);
// err when COMMIT did.
func (p *pipe) commit(ctx context.Context) (laterErr, err error) {
	if p.begin != "" && len(p.queue) == 0 {
		p.begin = ""
		return nil, nil // nothing ran
	}
	if err := p.acquire(ctx); err != nil {
		return err, nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.s.finishTimeout())
	defer cancel()
	if p.s.cache != nil {
		p.seen = p.s.cache.Now()
	}
	b, began, items := p.prefix()
	if b == nil {
		b = &pgx.Batch{}
	}
	b.Queue("COMMIT")
	br := p.conn.SendBatch(cctx, b)
	defer br.Close()
	if err := p.drain(br, began, items); err != nil {
		return err, nil
	}
	_, err = br.Exec()
	return nil, p.note(err)
}

// end rolls back whatever is still open and returns the connection to the
// pool. Calling it again does nothing.
func (p *pipe) end(ctx context.Context) {
	if p.conn == nil {
		return
	}
	pc := p.conn.Conn().PgConn()
	if !pc.IsClosed() && pc.TxStatus() != 'I' {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.s.finishTimeout())
		_, _ = p.conn.Exec(cctx, "ROLLBACK") // a broken connection is discarded by Release
		cancel()
	}
	p.conn.Release()
	p.conn = nil
	p.queue = nil
}

// batchRows are the rows of a batch's last query; closing them closes the
// batch, which must be done before the connection is used again.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	cancel context.CancelFunc
	closed bool
	err    error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
	r.cancel()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	if r.closed {
		return r.err
	}
	return nil
}

// firstRow is pgx.Row over rows: the first row, or pgx.ErrNoRows.
type firstRow struct {
	rows pgx.Rows
	p    *pipe
}

func (r *firstRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		r.rows.Close()
		if err := r.rows.Err(); err != nil {
			return r.p.note(err)
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return r.p.note(err)
	}
	r.rows.Close()
	return r.p.note(r.rows.Err())
}

// committed drops what the committed transaction changed from the store's
// cache: its own next transactions then find the cache current without
// waiting for the listener.
//
// The images it updated go in as written, at their rows' versions: the
// next modification of one reads it from the cache, checked (see
// tx.checkedImage). Their notifications carry the same versions, so the
// listener, when it hears of them, keeps them.
func (p *pipe) committed() {
	c := p.s.cache
	if c == nil {
		return
	}
	for _, w := range p.written {
		if w.version > 0 {
			c.Written(p.seen, w.img, uint64(w.version))
		}
		p.changes = append(p.changes, readcache.Invalidation{Res: readcache.Key{Region: w.img.Region, ID: w.img.ID},
			Image: true, Version: uint64(max(w.version, 0))})
	}
	c.Invalidate(p.changes...)
	p.changes, p.written = nil, nil
}

// errRow and errBatch report an error that came before any statement.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
