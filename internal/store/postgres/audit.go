package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/audit"
)

// auditSchema is the audit trail's migration (schema.go): each event's
// CloudTrail record, and one row per lookup attribute it matches, so
// LookupEvents by any attribute, newest first, is an index range. seq is
// the order of insertion; pruning deletes by it, oldest first.
const auditSchema = `
CREATE TABLE audit_events (
	seq        bigserial PRIMARY KEY,
	account    text COLLATE "C" NOT NULL,
	region     text COLLATE "C" NOT NULL,
	event_time bigint NOT NULL,
	resources  text NOT NULL,
	record     text NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (account, region, event_time, seq);
CREATE TABLE audit_attributes (
	account    text COLLATE "C" NOT NULL,
	region     text COLLATE "C" NOT NULL,
	key        text COLLATE "C" NOT NULL,
	value      text COLLATE "C" NOT NULL,
	event_time bigint NOT NULL,
	seq        bigint NOT NULL,
	PRIMARY KEY (account, region, key, value, event_time, seq)
);
`

var _ audit.Store = (*Store)(nil)

func asAuditTx(t *tx) audit.PruneTx { return t }

// UpdateAudit runs fn in a write transaction of its own.
func (s *Store) UpdateAudit(ctx context.Context, fn func(audit.PruneTx) error) error {
	return update(s, ctx, fn, asAuditTx)
}

const insertEventSQL = `WITH ev AS (
	INSERT INTO audit_events (account, region, event_time, resources, record) VALUES ($1, $2, $3, $4, $5)
	RETURNING seq
), attrs AS (
	INSERT INTO audit_attributes (account, region, key, value, event_time, seq)
	SELECT $1, $2, a.key, a.value, $3, ev.seq FROM ev, unnest($6::text[], $7::text[]) AS a(key, value)
)
SELECT seq FROM ev`

// InsertEvent stores e and a row per lookup attribute (audit.Tx), in one
// round trip.
func (t *tx) InsertEvent(ctx context.Context, e *audit.Event) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	rec, err := e.Record()
	if err != nil {
		return err
	}
	res, err := json.Marshal(e.Resources)
	if err != nil {
		return err
	}
	attrs := e.Attributes()
	keys, values := make([]string, len(attrs)), make([]string, len(attrs))
	for i, a := range attrs {
		keys[i], values[i] = a.Key, a.Value
	}
	// Nothing waits for the answer (Seq is set when it comes): the event
	// travels with the next statement or COMMIT (see pipe).
	err = t.later(ctx, queued{sql: insertEventSQL, args: []any{e.Account, e.Region, e.Time.UnixMilli(), string(res), string(rec), keys, values},
		row: func(row pgx.Row) error { return row.Scan(&e.Seq) }})
	if err != nil {
		return t.fail(err, "insert event")
	}
	return nil
}

const eventColumns = `seq, event_time, resources, record`

// PruneBefore deletes up to limit of the oldest events before cutoff.
func (t *tx) PruneBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return t.pruneWhere(ctx, `SELECT `+eventColumns+` FROM audit_events WHERE event_time < $1 ORDER BY seq LIMIT $2`,
		cutoff.UnixMilli(), limit)
}

// PruneAccount deletes up to limit of account's oldest events beyond its
// newest keep.
func (t *tx) PruneAccount(ctx context.Context, account string, keep, limit int) (int, error) {
	return t.pruneWhere(ctx, `SELECT `+eventColumns+` FROM audit_events
WHERE account = $1 AND seq <= (SELECT seq FROM audit_events WHERE account = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)
ORDER BY seq LIMIT $3`, account, keep, limit)
}

func (t *tx) pruneWhere(ctx context.Context, query string, args ...any) (int, error) {
	if err := t.writable(ctx); err != nil {
		return 0, err
	}
	evs, err := t.scanEvents(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	if len(evs) == 0 {
		return 0, nil
	}
	seqs := make([]int64, len(evs))
	var accts, regions, keys, values []string
	var times, aseqs []int64
	for i, e := range evs {
		seqs[i] = e.Seq
		for _, a := range e.Attributes() {
			accts, regions, keys, values = append(accts, e.Account), append(regions, e.Region), append(keys, a.Key), append(values, a.Value)
			times, aseqs = append(times, e.Time.UnixMilli()), append(aseqs, e.Seq)
		}
	}
	if _, err := t.tx.Exec(ctx, `DELETE FROM audit_attributes a USING unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS d(account, region, key, value, event_time, seq)
WHERE a.account = d.account AND a.region = d.region AND a.key = d.key AND a.value = d.value AND a.event_time = d.event_time AND a.seq = d.seq`,
		accts, regions, keys, values, times, aseqs); err != nil {
		return 0, t.fail(err, "prune event attributes")
	}
	if _, err := t.tx.Exec(ctx, `DELETE FROM audit_events WHERE seq = ANY($1)`, seqs); err != nil {
		return 0, t.fail(err, "prune events")
	}
	return len(evs), nil
}

func (t *tx) scanEvents(ctx context.Context, query string, args ...any) ([]*audit.Event, error) {
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, t.fail(err, "events")
	}
	defer rows.Close()
	var out []*audit.Event
	for rows.Next() {
		var (
			seq, ms  int64
			res, rec string
		)
		if err := rows.Scan(&seq, &ms, &res, &rec); err != nil {
			return nil, t.fail(err, "events")
		}
		var resources []audit.Resource
		if err := json.Unmarshal([]byte(res), &resources); err != nil {
			return nil, fmt.Errorf("postgres: event %d: %w", seq, err)
		}
		e, err := audit.FromRecord(seq, time.UnixMilli(ms).UTC(), []byte(rec), resources)
		if err != nil {
			return nil, fmt.Errorf("postgres: event %d: %w", seq, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, "events")
	}
	return out, nil
}

func (s *Store) readAudit(ctx context.Context, fn func(*tx) error) error {
	return view(s, ctx, fn, func(t *tx) *tx { return t })
}

// LookupEvents returns up to q.Limit events matching q, newest first.
func (s *Store) LookupEvents(ctx context.Context, q audit.Query) (out []*audit.Event, err error) {
	afterMs, afterSeq := q.End.UnixMilli(), int64(math.MaxInt64)
	if q.AfterSeq != 0 {
		afterMs, afterSeq = min(q.AfterTime.UnixMilli(), afterMs), q.AfterSeq
	}
	err = s.readAudit(ctx, func(t *tx) (err error) {
		if q.Attribute.Key == "" {
			out, err = t.scanEvents(ctx, `SELECT `+eventColumns+` FROM audit_events
WHERE account = $1 AND region = $2 AND event_time >= $3 AND (event_time, seq) < ($4, $5)
ORDER BY event_time DESC, seq DESC LIMIT $6`, q.Account, q.Region, q.Start.UnixMilli(), afterMs, afterSeq, q.Limit)
			return err
		}
		out, err = t.scanEvents(ctx, `SELECT e.seq, e.event_time, e.resources, e.record
FROM audit_attributes a JOIN audit_events e ON e.seq = a.seq
WHERE a.account = $1 AND a.region = $2 AND a.key = $3 AND a.value = $4 AND a.event_time >= $5 AND (a.event_time, a.seq) < ($6, $7)
ORDER BY a.event_time DESC, a.seq DESC LIMIT $8`, q.Account, q.Region, q.Attribute.Key, q.Attribute.Value,
			q.Start.UnixMilli(), afterMs, afterSeq, q.Limit)
		return err
	})
	return out, err
}

// AccountsOver returns the accounts holding more than max events.
func (s *Store) AccountsOver(ctx context.Context, max int) (out []string, err error) {
	err = s.readAudit(ctx, func(t *tx) error {
		rows, err := t.tx.Query(ctx, `SELECT account FROM audit_events GROUP BY account HAVING COUNT(*) > $1`, max)
		if err != nil {
			return t.fail(err, "accounts over")
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}

// ExportEvents calls fn with every event, oldest first, from one snapshot.
func (s *Store) ExportEvents(ctx context.Context, fn func(*audit.Event) error) error {
	return s.readAudit(ctx, func(t *tx) error {
		var after int64 = -1
		for {
			evs, err := t.scanEvents(ctx, `SELECT `+eventColumns+` FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 1000`, after)
			if err != nil {
				return err
			}
			for _, e := range evs {
				if err := fn(e); err != nil {
					return err
				}
				after = e.Seq
			}
			if len(evs) < 1000 {
				return nil
			}
		}
	})
}
