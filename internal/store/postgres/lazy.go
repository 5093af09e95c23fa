package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// readOnly are a View's transaction options: one snapshot for all of fn,
// never blocked by writers and never a serialization failure.
var readOnly = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// lazyTx is a View's transaction, begun at its first statement: a View the
// read cache answers entirely takes no connection at all. Its snapshot is
// taken at that first statement, after the View noted the cache's
// invalidation number (see readCache).
type lazyTx struct {
	s       *Store
	ptx     pgx.Tx
	release func()
	err     error // of begin; sticky
}

var _ querier = (*lazyTx)(nil)

func (l *lazyTx) get(ctx context.Context) (pgx.Tx, error) {
	if l.ptx == nil && l.err == nil {
		l.ptx, l.release, l.err = l.s.begin(ctx, readOnly)
	}
	return l.ptx, l.err
}

// end rolls the transaction back, if it began: nothing to commit, and
// rolling back releases the snapshot.
func (l *lazyTx) end(ctx context.Context) {
	if l.ptx != nil {
		l.s.rollback(ctx, l.ptx)
		l.release()
	}
}

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ptx, err := l.get(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	return ptx.Exec(ctx, sql, args...)
}

func (l *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ptx, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return ptx.Query(ctx, sql, args...)
}

func (l *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ptx, err := l.get(ctx)
	if err != nil {
		return errRow{err}
	}
	return ptx.QueryRow(ctx, sql, args...)
}

func (l *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	ptx, err := l.get(ctx)
	if err != nil {
		return errBatch{err}
	}
	return ptx.SendBatch(ctx, b)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
