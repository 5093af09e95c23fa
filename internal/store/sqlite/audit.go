package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
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

// auditLookupSchema reshapes the trail for cheap writes (migration, in
// schema.go). An event used to be indexed by a row per lookup attribute,
// about ten B-tree insertions on as many pages of its account; now the
// attributes that pick many events (EventName, ReadOnly, EventSource,
// Username, AccessKeyId, ResourceType) are columns of the event, copied
// into its account's time index, and LookupEvents by one of them walks
// that index newest first, filtering without reading the events. Only
// ResourceName keeps rows of its own (audit_resources), and EventId an
// index that version 7 UUIDs append to. Existing events get their columns
// and resource rows from their records.
const auditLookupSchema = `
ALTER TABLE audit_events ADD COLUMN event_id  TEXT    NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN name      TEXT    NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN source    TEXT    NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN access_key TEXT   NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN username  TEXT    NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN rtypes    TEXT    NOT NULL DEFAULT '';
UPDATE audit_events SET
	event_id   = COALESCE(json_extract(record, '$.eventID'), ''),
	name       = COALESCE(json_extract(record, '$.eventName'), ''),
	read_only  = COALESCE(json_extract(record, '$.readOnly'), 0),
	source     = COALESCE(json_extract(record, '$.eventSource'), ''),
	access_key = COALESCE(json_extract(record, '$.userIdentity.accessKeyId'), ''),
	username   = CASE WHEN json_extract(record, '$.userIdentity.type') = 'Root' THEN 'root'
		ELSE COALESCE(json_extract(record, '$.userIdentity.userName'), '') END,
	rtypes     = COALESCE((SELECT '|' || group_concat(t, '|') || '|' FROM
		(SELECT DISTINCT json_extract(j.value, '$.ResourceType') AS t FROM json_each(audit_events.resources) j)), '');
CREATE TABLE audit_resources (
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	event_time INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	PRIMARY KEY (account, region, name, event_time, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO audit_resources (account, region, name, event_time, seq)
SELECT e.account, e.region, json_extract(j.value, '$.ResourceName'), e.event_time, e.seq
FROM audit_events e, json_each(e.resources) j WHERE json_extract(j.value, '$.ResourceName') IS NOT NULL;
DROP TABLE audit_attributes;
DROP INDEX audit_events_time;
CREATE INDEX audit_events_lookup ON audit_events
	(account, region, event_time, seq, name, read_only, source, access_key, username, rtypes);
CREATE INDEX audit_events_id ON audit_events (event_id);
DELETE FROM sqlite_stat1 WHERE tbl IN ('audit_events', 'audit_attributes', 'audit_resources');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
	('audit_events', 'audit_events_lookup', '10000000 100000 20000 2 1 1 1 1 1 1 1'),
	('audit_events', 'audit_events_id', '10000000 1'),
	('audit_resources', 'audit_resources', '10000000 100000 20000 20 2 1');
ANALYZE sqlite_schema;
`

var _ audit.Store = (*Store)(nil)

// UpdateAudit runs fn in a write transaction (group commit applies).
func (s *Store) UpdateAudit(ctx context.Context, fn func(audit.PruneTx) error) error {
	return s.update(ctx, &request{ctx: ctx, withAudit: fn, done: make(chan error, 1)})
}

const insertEventSQL = `INSERT INTO audit_events
(account, region, event_time, resources, record, event_id, name, read_only, source, access_key, username, rtypes)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// InsertEvent stores e with its lookup columns, and a row per resource
// name (audit.Tx).
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
	r, err := t.exec(ctx, insertEventSQL, e.Account, e.Region, ms, string(res), string(rec),
		e.ID, e.Name, e.ReadOnly, e.Source, e.Identity.AccessKeyID, e.Identity.Username(), e.ResourceTypes())
	if err != nil {
		return fmt.Errorf("sqlite: insert event: %w", err)
	}
	seq, err := r.LastInsertId()
	if err != nil {
		return err
	}
	e.Seq = seq
	for _, name := range e.ResourceNames() {
		// OR IGNORE: no row can collide (seq is new), and a statement that
		// cannot fail halfway needs no statement journal.
		if _, err := t.exec(ctx, `INSERT OR IGNORE INTO audit_resources (account, region, name, event_time, seq) VALUES (?, ?, ?, ?, ?)`,
			e.Account, e.Region, name, ms, seq); err != nil {
			return fmt.Errorf("sqlite: insert event resources: %w", err)
		}
	}
	return nil
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

// pruneWhere deletes the events query selects with their resource rows,
// which it finds by their keys (from the event), so those rows need no
// index by seq.
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
		for _, name := range e.ResourceNames() {
			if _, err := t.exec(ctx, `DELETE FROM audit_resources WHERE account = ? AND region = ? AND name = ? AND event_time = ? AND seq = ?`,
				e.Account, e.Region, name, ms, e.Seq); err != nil {
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
	const cols = `e.seq, e.account, e.region, e.event_time, e.resources, e.record`
	a := q.Attribute
	switch a.Key {
	case audit.KeyResourceName:
		return t.scanEvents(ctx, `SELECT `+cols+`
FROM audit_resources a JOIN audit_events e ON e.seq = a.seq
WHERE a.account = ? AND a.region = ? AND a.name = ? AND a.event_time >= ? AND (a.event_time, a.seq) < (?, ?)
ORDER BY a.event_time DESC, a.seq DESC LIMIT ?`, q.Account, q.Region, a.Value,
			q.Start.UnixMilli(), afterMs, afterSeq, q.Limit)
	case audit.KeyEventID:
		return t.scanEvents(ctx, `SELECT `+cols+` FROM audit_events e INDEXED BY audit_events_id
WHERE e.event_id = ? AND e.account = ? AND e.region = ? AND e.event_time >= ? AND (e.event_time, e.seq) < (?, ?)
ORDER BY e.event_time DESC, e.seq DESC LIMIT ?`, a.Value, q.Account, q.Region,
			q.Start.UnixMilli(), afterMs, afterSeq, q.Limit)
	}
	cond, arg, ok := lookupFilter(a)
	if !ok {
		return nil, nil
	}
	// The inner select reads the time index alone (it covers every
	// column it names), newest first, until it has the page.
	return t.scanEvents(ctx, `SELECT `+cols+` FROM (SELECT seq FROM audit_events INDEXED BY audit_events_lookup
WHERE account = ? AND region = ? AND event_time >= ? AND (event_time, seq) < (?, ?) AND `+cond+`
ORDER BY event_time DESC, seq DESC LIMIT ?) k JOIN audit_events e ON e.seq = k.seq
ORDER BY e.event_time DESC, e.seq DESC`, q.Account, q.Region, q.Start.UnixMilli(), afterMs, afterSeq, arg, q.Limit)
}

// lookupFilter is the condition on audit_events' lookup columns that a
// (not ResourceName, not EventId) attribute sets, with its argument;
// "1 = ?" with any argument for no attribute. ok is false when nothing
// can match.
func lookupFilter(a audit.Attribute) (cond string, arg any, ok bool) {
	switch a.Key {
	case "":
		return "1 = ?", 1, true
	case audit.KeyEventName:
		return "name = ?", a.Value, true
	case audit.KeyReadOnly:
		return "read_only = ?", a.Value == "true", true
	case audit.KeyEventSource:
		return "source = ?", a.Value, true
	case audit.KeyAccessKeyID:
		return "access_key = ?", a.Value, true
	case audit.KeyUsername:
		return "username = ?", a.Value, true
	case audit.KeyResourceType:
		if strings.Contains(a.Value, audit.TypeSep) {
			return "", nil, false
		}
		return "instr(rtypes, ?) > 0", audit.TypeSep + a.Value + audit.TypeSep, true
	}
	return "", nil, false
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
