package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/outbox"
)

var _ outbox.Store = (*Store)(nil)

// Enqueue implements outbox.Writer. Messages already attempted or leased
// were due, so their transition happened: only untouched ones are dropped.
func (t *tx) Enqueue(ctx context.Context, m outbox.Message) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	if m.Supersedes {
		if _, err := t.tx.Exec(ctx, `DELETE FROM outbox WHERE topic = $1 AND key = $2 AND not_before > $3 AND attempts = 0 AND lease_until IS NULL`,
			m.Topic, m.Key, m.NotBefore.UnixMilli()); err != nil {
			return t.fail(err, "outbox")
		}
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO outbox (id, topic, key, not_before, created, body) VALUES ($1, $2, $3, $4, $5, $6)`,
		m.ID, m.Topic, m.Key, m.NotBefore.UnixMilli(), m.Created.UnixMilli(), m.Body); err != nil {
		return t.fail(err, "outbox")
	}
	return nil
}

// claimSQL leases the due heads of their keys. FOR UPDATE SKIP LOCKED lets
// processes sharing the database claim at once without waiting for or
// taking each other's rows; a head another process leased is excluded by
// its lease, and the message after it is no head while it exists, so one
// process at a time delivers a key, in order.
const claimSQL = `WITH c AS (
	SELECT seq FROM outbox o
	WHERE topic = $1 AND not_before <= $2 AND (lease_until IS NULL OR lease_until <= $2)
	AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.topic = o.topic AND p.key = o.key AND p.seq < o.seq)
	ORDER BY not_before, seq
	LIMIT $3
	FOR UPDATE SKIP LOCKED
)
UPDATE outbox SET lease_until = $4 FROM c WHERE outbox.seq = c.seq
RETURNING outbox.seq, outbox.id, outbox.topic, outbox.key, outbox.not_before, outbox.created, outbox.attempts, outbox.body`

// Claim implements outbox.Store, in a READ COMMITTED transaction of its
// own (SKIP LOCKED is meant for it; SERIALIZABLE would fail claims that
// merely overlap).
func (s *Store) Claim(ctx context.Context, topic string, now time.Time, lease time.Duration, limit int) ([]outbox.Message, error) {
	var out []outbox.Message
	err := s.outboxTx(ctx, func(ptx pgx.Tx) error {
		out = out[:0]
		rows, err := ptx.Query(ctx, claimSQL, topic, now.UnixMilli(), limit, now.Add(lease).UnixMilli())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m outbox.Message
			var notBefore, created int64
			var attempts int32
			if err := rows.Scan(&m.Seq, &m.ID, &m.Topic, &m.Key, &notBefore, &created, &attempts, &m.Body); err != nil {
				return err
			}
			m.NotBefore, m.Created, m.Attempts = time.UnixMilli(notBefore).UTC(), time.UnixMilli(created).UTC(), int(attempts)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox claim: %w", err)
	}
	// RETURNING has no order of its own.
	slices.SortFunc(out, func(a, b outbox.Message) int {
		return cmp.Or(a.NotBefore.Compare(b.NotBefore), cmp.Compare(a.Seq, b.Seq))
	})
	return out, nil
}

// Done implements outbox.Store.
func (s *Store) Done(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.outboxTx(ctx, func(ptx pgx.Tx) error {
		_, err := ptx.Exec(ctx, `DELETE FROM outbox WHERE seq = ANY($1)`, seqs)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: outbox done: %w", err)
	}
	return nil
}

// Retry implements outbox.Store.
func (s *Store) Retry(ctx context.Context, seq int64, next time.Time) error {
	err := s.outboxTx(ctx, func(ptx pgx.Tx) error {
		_, err := ptx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, not_before = $1, lease_until = NULL WHERE seq = $2`, next.UnixMilli(), seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: outbox retry: %w", err)
	}
	return nil
}

// Backlog implements outbox.Store.
func (s *Store) Backlog(ctx context.Context, topic string) (int, error) {
	var n int64
	err := s.outboxTx(ctx, func(ptx pgx.Tx) error {
		return ptx.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE topic = $1`, topic).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: outbox backlog: %w", err)
	}
	return int(n), nil
}

// outboxTx runs fn in a READ COMMITTED transaction and commits it.
func (s *Store) outboxTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	ptx, release, err := s.begin(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer release()
	defer s.rollback(ctx, ptx)
	if err := fn(ptx); err != nil {
		return unavailable(err)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.finishTimeout())
	defer cancel()
	return unavailable(ptx.Commit(cctx))
}

var _ outbox.Lister = (*tx)(nil)

// PendingMessages implements outbox.Lister: a range of the primary key.
func (t *tx) PendingMessages(ctx context.Context, afterSeq int64, limit int) ([]outbox.Message, error) {
	rows, err := t.tx.Query(ctx, `SELECT seq, id, topic, key, not_before, created, attempts, body FROM outbox
WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
	if err != nil {
		return nil, t.fail(err, "outbox")
	}
	defer rows.Close()
	var out []outbox.Message
	for rows.Next() {
		var m outbox.Message
		var notBefore, created int64
		var attempts int32
		if err := rows.Scan(&m.Seq, &m.ID, &m.Topic, &m.Key, &notBefore, &created, &attempts, &m.Body); err != nil {
			return nil, t.fail(err, "outbox")
		}
		m.NotBefore, m.Created, m.Attempts = time.UnixMilli(notBefore).UTC(), time.UnixMilli(created).UTC(), int(attempts)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, "outbox")
	}
	return out, nil
}
