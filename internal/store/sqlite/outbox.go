package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/outbox"
)

var _ outbox.Store = (*Store)(nil)

// Enqueue implements outbox.Writer. Messages already attempted or leased
// were due, so their transition happened: only untouched ones are dropped.
func (t *tx) Enqueue(ctx context.Context, m outbox.Message) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	if m.Supersedes {
		if _, err := t.exec(ctx, `DELETE FROM outbox WHERE topic = ? AND key = ? AND not_before > ? AND attempts = 0 AND lease_until IS NULL`,
			m.Topic, m.Key, m.NotBefore.UnixMilli()); err != nil {
			return fmt.Errorf("sqlite: outbox: %w", err)
		}
	}
	if _, err := t.exec(ctx, `INSERT INTO outbox (id, topic, key, not_before, created, body) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ID, m.Topic, m.Key, m.NotBefore.UnixMilli(), m.Created.UnixMilli(), m.Body); err != nil {
		return fmt.Errorf("sqlite: outbox: %w", err)
	}
	return nil
}

// claimSQL selects the due heads of their keys; the NOT EXISTS is an
// outbox_key index probe.
const claimSQL = `SELECT seq, id, topic, key, not_before, created, attempts, body FROM outbox o
WHERE topic = ? AND not_before <= ? AND (lease_until IS NULL OR lease_until <= ?)
AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.topic = o.topic AND p.key = o.key AND p.seq < o.seq)
ORDER BY not_before, seq LIMIT ?`

// Claim implements outbox.Store. It looks in a read transaction first, so
// an idle outbox costs no write (and no fsync) per poll.
func (s *Store) Claim(ctx context.Context, topic string, now time.Time, lease time.Duration, limit int) ([]outbox.Message, error) {
	var msgs []outbox.Message
	err := s.View(ctx, func(itx image.Tx) error {
		var err error
		msgs, err = itx.(*tx).due(ctx, topic, now, limit)
		return err
	})
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	err = s.Update(ctx, func(itx image.Tx) error {
		t := itx.(*tx)
		var err error
		if msgs, err = t.due(ctx, topic, now, limit); err != nil || len(msgs) == 0 {
			return err
		}
		wctx, err := t.writeCtx(ctx)
		if err != nil {
			return err
		}
		args := []any{now.Add(lease).UnixMilli()}
		for _, m := range msgs {
			args = append(args, m.Seq)
		}
		_, err = t.q.ExecContext(wctx, `UPDATE outbox SET lease_until = ? WHERE seq IN (`+placeholders(len(msgs))+`)`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: outbox claim: %w", err)
	}
	return msgs, nil
}

func (t *tx) due(ctx context.Context, topic string, now time.Time, limit int) ([]outbox.Message, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	ms := now.UnixMilli()
	rows, done, err := t.query(ctx, claimSQL, topic, ms, ms, limit)
	if err != nil {
		return nil, err
	}
	defer done()
	defer rows.Close()
	var out []outbox.Message
	for rows.Next() {
		var m outbox.Message
		var notBefore, created int64
		if err := rows.Scan(&m.Seq, &m.ID, &m.Topic, &m.Key, &notBefore, &created, &m.Attempts, &m.Body); err != nil {
			return nil, err
		}
		m.NotBefore, m.Created = time.UnixMilli(notBefore).UTC(), time.UnixMilli(created).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// Done implements outbox.Store.
func (s *Store) Done(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.Update(ctx, func(itx image.Tx) error {
		t := itx.(*tx)
		wctx, err := t.writeCtx(ctx)
		if err != nil {
			return err
		}
		for len(seqs) > 0 {
			n := min(len(seqs), maxParams)
			args := make([]any, n)
			for i, q := range seqs[:n] {
				args[i] = q
			}
			if _, err := t.q.ExecContext(wctx, `DELETE FROM outbox WHERE seq IN (`+placeholders(n)+`)`, args...); err != nil {
				return err
			}
			seqs = seqs[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: outbox done: %w", err)
	}
	return nil
}

// Retry implements outbox.Store.
func (s *Store) Retry(ctx context.Context, seq int64, next time.Time) error {
	err := s.Update(ctx, func(itx image.Tx) error {
		t := itx.(*tx)
		wctx, err := t.writeCtx(ctx)
		if err != nil {
			return err
		}
		_, err = t.exec(wctx, `UPDATE outbox SET attempts = attempts + 1, not_before = ?, lease_until = NULL WHERE seq = ?`, next.UnixMilli(), seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: outbox retry: %w", err)
	}
	return nil
}

// Backlog implements outbox.Store.
func (s *Store) Backlog(ctx context.Context, topic string) (int, error) {
	var n int
	err := s.View(ctx, func(itx image.Tx) error {
		t := itx.(*tx)
		ctx, err := t.dctx(ctx)
		if err != nil {
			return err
		}
		return t.queryRow(ctx, `SELECT count(*) FROM outbox WHERE topic = ?`, []any{topic}, &n)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: outbox backlog: %w", err)
	}
	return n, nil
}

// releaseLeases ends the leases of an earlier process at open: one process
// owns the file (lock.go), so a lease found then is a dead deliverer's.
func releaseLeases(ctx context.Context, q queryer) error {
	if _, err := q.ExecContext(ctx, `UPDATE outbox SET lease_until = NULL WHERE lease_until IS NOT NULL`); err != nil {
		return fmt.Errorf("sqlite: outbox: %w", err)
	}
	return nil
}

var _ outbox.Lister = (*tx)(nil)

// PendingMessages implements outbox.Lister: a range of the primary key.
func (t *tx) PendingMessages(ctx context.Context, afterSeq int64, limit int) ([]outbox.Message, error) {
	ctx, err := t.dctx(ctx)
	if err != nil {
		return nil, err
	}
	rows, done, err := t.query(ctx, `SELECT seq, id, topic, key, not_before, created, attempts, body FROM outbox
WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: outbox: %w", err)
	}
	defer done()
	defer rows.Close()
	var out []outbox.Message
	for rows.Next() {
		var m outbox.Message
		var notBefore, created int64
		if err := rows.Scan(&m.Seq, &m.ID, &m.Topic, &m.Key, &notBefore, &created, &m.Attempts, &m.Body); err != nil {
			return nil, fmt.Errorf("sqlite: outbox: %w", err)
		}
		m.NotBefore, m.Created = time.UnixMilli(notBefore).UTC(), time.UnixMilli(created).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}
