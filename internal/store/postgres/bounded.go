package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/amigo-ec2/amigo/internal/store"
)

// statementGrace is how much longer than Options.StatementTimeout the
// client waits for a statement: PostgreSQL cancels it first and answers
// with an error, which keeps the connection; the client's own deadline is
// for a server that answers nothing at all, and costs the connection.
const statementGrace = 250 * time.Millisecond

// boundedTx gives every statement of a transaction its own deadline, so a
// database that stops answering costs a statement a bounded time instead of
// hanging it for as long as the stall lasts. pgx closes a connection whose
// statement passed its deadline; the pool then replaces it, which is how
// the store recovers once the database answers again.
type boundedTx struct {
	pgx.Tx
	d time.Duration
}

func (b boundedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.Tx.Exec(ctx, sql, args...)
}

func (b boundedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	rows, err := b.Tx.Query(ctx, sql, args...)
	if err != nil {
		cancel()
		return rows, err
	}
	return &boundedRows{Rows: rows, cancel: cancel}, nil
}

func (b boundedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	return &boundedRow{row: b.Tx.QueryRow(ctx, sql, args...), cancel: cancel}
}

func (b boundedTx) SendBatch(ctx context.Context, batch *pgx.Batch) pgx.BatchResults {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	return &boundedBatch{BatchResults: b.Tx.SendBatch(ctx, batch), cancel: cancel}
}

// The deadline of a query lasts until its rows, row or batch results are
// read and closed.

type boundedRows struct {
	pgx.Rows
	cancel context.CancelFunc
}

func (r *boundedRows) Close() {
	r.Rows.Close()
	r.cancel()
}

type boundedRow struct {
	row    pgx.Row
	cancel context.CancelFunc
}

func (r *boundedRow) Scan(dest ...any) error {
	defer r.cancel()
	return r.row.Scan(dest...)
}

type boundedBatch struct {
	pgx.BatchResults
	cancel context.CancelFunc
	p      *pipe // records a conflict, when set
}

func (r *boundedBatch) Close() error {
	defer r.cancel()
	err := r.BatchResults.Close()
	if r.p != nil {
		r.p.note(err)
	}
	return err
}

// unavailable returns err with store.ErrUnavailable in its chain when err
// says the database could not answer (see store.ErrUnavailable), and err
// unchanged otherwise.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || !isUnavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

func isUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up: not the database's doing
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection_exception
			pgErr.Code == "57014", // query_canceled: statement_timeout
			pgErr.Code == "57P01", // admin_shutdown
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03", // cannot_connect_now (starting up)
			pgErr.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
