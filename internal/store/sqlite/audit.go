package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/amigo-ec2/amigo/internal/audit"
)

// auditSchema is the audit trail's migration (schema.go).
const auditSchema = `
CREATE TABLE audit_events (
	seq        INTEGER PRIMARY KEY,
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	event_time INTEGER NOT NULL,
	resources  TEXT    NOT NULL,
	record     TEXT    NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (account, region, event_time, seq);
CREATE TABLE audit_attributes (
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	event_time INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	PRIMARY KEY (account, region, key, value, event_time, seq)
) WITHOUT ROWID;
DELETE FROM sqlite_stat1 WHERE tbl IN ('audit_events', 'audit_attributes');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
	('audit_events', 'audit_events_time', '10000000 100000 20000 2 1'),
	('audit_attributes', 'audit_attributes', '80000000 800000 160000 20000 20 2 1');
ANALYZE sqlite_schema;
`

var _ audit.Store = (*Store)(nil)

// UpdateAudit runs fn in a write transaction (group commit applies).
func (s *Store) UpdateAudit(ctx context.Context, fn func(audit.PruneTx) error) error {
	return s.update(ctx, &request{ctx: ctx, withAudit: fn, done: make(chan error, 1)})
}

// InsertEvent stores e and a row per lookup attribute (audit.Tx).
func (t *tx) InsertEvent(ctx context.Context, e *audit.Event) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
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
	ms := e.Time.UnixMilli()
	r, err := t.exec(ctx, `INSERT INTO audit_events (account, region, event_time, resources, record) VALUES (?, ?, ?, ?, ?)`,
		e.Account, e.Region, ms, string(res), string(rec))
	if err != nil {
		return fmt.Errorf("sqlite: insert event: %w", err)
	}
	seq, err := r.LastInsertId()
	if err != nil {
		return err
	}
	e.Seq = seq
	// Every row in one statement. OR IGNORE (no row can collide: seq is
	// new) means the statement can never fail halfway, so SQLite keeps no
	// statement journal for it; a plain multi-row INSERT would write every
	// page it touches to that journal first, which cost more than the rows.
	attrs := e.Attributes()
	args := make([]any, 0, 6*len(attrs))
	for _, a := range attrs {
		args = append(args, e.Account, e.Region, a.Key, a.Value, ms, seq)
	}
	if _, err := t.exec(ctx, insertAttributesSQL(len(attrs)), args...); err != nil {
		return fmt.Errorf("sqlite: insert event attributes: %w", err)
	}
	return nil
}

// insertAttributes holds the statement texts by row count (an event has
// five to a dozen attributes), so each is built once.
var insertAttributes sync.Map

func insertAttributesSQL(n int) string {
	if q, ok := insertAttributes.Load(n); ok {
		return q.(string)
	}
	q := `INSERT OR IGNORE INTO audit_attributes (account, region, key, value, event_time, seq) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", n), ", ")
	insertAttributes.Store(n, q)
	return q
}

// PruneBefore deletes up to limit of the oldest events before cutoff.
func (t *tx) PruneBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return t.pruneWhere(ctx, `SELECT seq, account, region, event_time, resources, record FROM audit_events
WHERE event_time < ? ORDER BY seq LIMIT ?`, cutoff.UnixMilli(), limit)
}

// PruneAccount deletes up to limit of account's oldest events beyond its
// newest keep.
func (t *tx) PruneAccount(ctx context.Context, account string, keep, limit int) (int, error) {
	return t.pruneWhere(ctx, `SELECT seq, account, region, event_time, resources, record FROM audit_events
WHERE account = ? AND seq <= (SELECT seq FROM audit_events WHERE account = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)
ORDER BY seq LIMIT ?`, account, account, keep, limit)
}

// pruneWhere deletes the events query selects with their attribute rows,
// which it finds by their keys (recomputed from the record), so the
// attributes need no index by seq.
func (t *tx) pruneWhere(ctx context.Context, query string, args ...any) (int, error) {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return 0, err
	}
	evs, err := t.scanEvents(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	for _, e := range evs {
		ms := e.Time.UnixMilli()
		for _, a := range e.Attributes() {
			if _, err := t.exec(ctx, `DELETE FROM audit_attributes WHERE account = ? AND region = ? AND key = ? AND value = ? AND event_time = ? AND seq = ?`,
				e.Account, e.Region, a.Key, a.Value, ms, e.Seq); err != nil {
				return 0, fmt.Errorf("sqlite: prune events: %w", err)
			}
		}
		if _, err := t.exec(ctx, `DELETE FROM audit_events WHERE seq = ?`, e.Seq); err != nil {
			return 0, fmt.Errorf("sqlite: prune events: %w", err)
		}
	}
	return len(evs), nil
}

func (t *tx) scanEvents(ctx context.Context, query string, args ...any) ([]*audit.Event, error) {
	rows, done, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	defer done()
	defer rows.Close()
	var out []*audit.Event
	for rows.Next() {
		var (
			seq, ms                   int64
			account, region, res, rec string
		)
		if err := rows.Scan(&seq, &account, &region, &ms, &res, &rec); err != nil {
			return nil, fmt.Errorf("sqlite: events: %w", err)
		}
		e, err := decodeEvent(seq, ms, res, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	return out, nil
}

func decodeEvent(seq, ms int64, res, rec string) (*audit.Event, error) {
	var resources []audit.Resource
	if err := json.Unmarshal([]byte(res), &resources); err != nil {
		return nil, fmt.Errorf("sqlite: event %d: %w", seq, err)
	}
	e, err := audit.FromRecord(seq, time.UnixMilli(ms).UTC(), []byte(rec), resources)
	if err != nil {
		return nil, fmt.Errorf("sqlite: event %d: %w", seq, err)
	}
	return e, nil
}

// LookupEvents returns up to q.Limit events matching q, newest first.
func (s *Store) LookupEvents(ctx context.Context, q audit.Query) ([]*audit.Event, error) {
	t, err := s.beginView()
	if err != nil {
		return nil, err
	}
	defer t.endView()
	if ctx, err = t.dctx(ctx); err != nil {
		return nil, err
	}
	afterMs, afterSeq := q.End.UnixMilli(), int64(math.MaxInt64)
	if q.AfterSeq != 0 {
		afterMs, afterSeq = min(q.AfterTime.UnixMilli(), afterMs), q.AfterSeq
	}
	if q.Attribute.Key == "" {
		return t.scanEvents(ctx, `SELECT seq, account, region, event_time, resources, record FROM audit_events
WHERE account = ? AND region = ? AND event_time >= ? AND (event_time, seq) < (?, ?)
ORDER BY event_time DESC, seq DESC LIMIT ?`, q.Account, q.Region, q.Start.UnixMilli(), afterMs, afterSeq, q.Limit)
	}
	return t.scanEvents(ctx, `SELECT e.seq, e.account, e.region, e.event_time, e.resources, e.record
FROM audit_attributes a JOIN audit_events e ON e.seq = a.seq
WHERE a.account = ? AND a.region = ? AND a.key = ? AND a.value = ? AND a.event_time >= ? AND (a.event_time, a.seq) < (?, ?)
ORDER BY a.event_time DESC, a.seq DESC LIMIT ?`, q.Account, q.Region, q.Attribute.Key, q.Attribute.Value,
		q.Start.UnixMilli(), afterMs, afterSeq, q.Limit)
}

// AccountsOver returns the accounts holding more than max events.
func (s *Store) AccountsOver(ctx context.Context, max int) ([]string, error) {
	t, err := s.beginView()
	if err != nil {
		return nil, err
	}
	defer t.endView()
	if ctx, err = t.dctx(ctx); err != nil {
		return nil, err
	}
	rows, done, err := t.query(ctx, `SELECT account FROM audit_events GROUP BY account HAVING COUNT(*) > ?`, max)
	if err != nil {
		return nil, fmt.Errorf("sqlite: accounts over: %w", err)
	}
	defer done()
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ExportEvents calls fn with every event, oldest first, from one snapshot.
func (s *Store) ExportEvents(ctx context.Context, fn func(*audit.Event) error) error {
	t, err := s.beginView()
	if err != nil {
		return err
	}
	defer t.endView()
	if ctx, err = t.dctx(ctx); err != nil {
		return err
	}
	var after int64 = -1
	for {
		evs, err := t.scanEvents(ctx, `SELECT seq, account, region, event_time, resources, record FROM audit_events
WHERE seq > ? ORDER BY seq LIMIT 1000`, after)
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
}
