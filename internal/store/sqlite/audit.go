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
// schema.go). An event used to be indexed, in its own transaction, by a
// row per lookup attribute: about ten B-tree insertions on as many pages,
// most of them a random page of the event's account or resource, each
// written whole to the WAL and again at checkpoint. Now:
//
//   - The attributes but ResourceName are columns of the event. Its write
//     is the row, appended by seq, and an EventId index entry, appended
//     too (version 7 UUIDs are ordered by time): pages the events of a
//     batch share.
//   - The per-account index, audit_lookup (the columns, newest first, so
//     that a lookup by one of them filters the index without reading
//     events), and audit_resources (a row per resource name) are filled
//     later by mergeAudit, a few thousand events at a time in key order,
//     so that a page takes many rows per write rather than one.
//     audit_merged.seq is how far they go; lookups read the few events
//     past it from audit_events directly.
//
// Existing events get their columns from their records, and are indexed.
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
CREATE TABLE audit_lookup (
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	event_time INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	read_only  INTEGER NOT NULL,
	source     TEXT    NOT NULL,
	access_key TEXT    NOT NULL,
	username   TEXT    NOT NULL,
	rtypes     TEXT    NOT NULL,
	PRIMARY KEY (account, region, event_time, seq)
) WITHOUT ROWID;
CREATE TABLE audit_resources (
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	event_time INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	PRIMARY KEY (account, region, name, event_time, seq)
) WITHOUT ROWID;
CREATE TABLE audit_merged (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	seq INTEGER NOT NULL
);
INSERT INTO audit_lookup (account, region, event_time, seq, name, read_only, source, access_key, username, rtypes)
SELECT account, region, event_time, seq, name, read_only, source, access_key, username, rtypes FROM audit_events;
INSERT OR IGNORE INTO audit_resources (account, region, name, event_time, seq)
SELECT e.account, e.region, json_extract(j.value, '$.ResourceName'), e.event_time, e.seq
FROM audit_events e, json_each(e.resources) j WHERE json_extract(j.value, '$.ResourceName') IS NOT NULL;
INSERT INTO audit_merged (one, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit_events;
DROP TABLE audit_attributes;
DROP INDEX audit_events_time;
CREATE INDEX audit_events_id ON audit_events (event_id);
DELETE FROM sqlite_stat1 WHERE tbl IN ('audit_events', 'audit_attributes', 'audit_lookup', 'audit_resources');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
	('audit_events', 'audit_events_id', '10000000 1'),
	('audit_lookup', 'audit_lookup', '10000000 100000 20000 2 1'),
	('audit_resources', 'audit_resources', '10000000 100000 20000 20 2 1');
ANALYZE sqlite_schema;
`

// Merging (mergeAudit): the writer merges once auditMergeEvery events
// are past the indexes, at most auditMergeMax in a transaction. Bigger
// merges share pages among more events; smaller ones hold the writer for
// less and leave lookups fewer unindexed events to read.
// Options.AuditMerge overrides both (tests).
const (
	auditMergeEvery = 2048
	auditMergeMax   = 4096
)

var _ audit.Store = (*Store)(nil)

// UpdateAudit runs fn in a write transaction (group commit applies).
func (s *Store) UpdateAudit(ctx context.Context, fn func(audit.PruneTx) error) error {
	return s.update(ctx, &request{ctx: ctx, withAudit: fn, done: make(chan error, 1)})
}

const insertEventSQL = `INSERT INTO audit_events
(account, region, event_time, resources, record, event_id, name, read_only, source, access_key, username, rtypes)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// InsertEvent stores e with its lookup columns (audit.Tx); mergeAudit
// indexes it later.
func (t *tx) InsertEvent(ctx context.Context, e *audit.Event) error {
	ctx, err := t.writeCtx(ctx)
	if err != nil {
		return err
	}
	enc, err := e.Encode()
	if err != nil {
		return err
	}
	r, err := t.exec(ctx, insertEventSQL, e.Account, e.Region, e.Time.UnixMilli(), string(enc.Resources), string(enc.Record),
		e.ID, e.Name, e.ReadOnly, e.Source, e.Identity.AccessKeyID, e.Identity.Username(), enc.ResourceTypes)
	if err != nil {
		return fmt.Errorf("sqlite: insert event: %w", err)
	}
	if e.Seq, err = r.LastInsertId(); err != nil {
		return err
	}
	t.s.auditUnmerged++ // rolled back ones too: merging early is harmless
	return nil
}

// maybeMergeAudit runs mergeAudit in a transaction of its own when enough
// events wait for it. Only the writer goroutine calls it, between batches.
func (s *Store) maybeMergeAudit() {
	every, most := auditMergeEvery, auditMergeMax
	if s.opts.AuditMerge > 0 {
		every, most = s.opts.AuditMerge, 2*s.opts.AuditMerge
	}
	if s.auditUnmerged < every || s.opts.ReadOnly {
		return
	}
	start := time.Now()
	if err := s.exec(`BEGIN IMMEDIATE`); err != nil {
		return
	}
	n, err := s.writeTx().mergeAudit(context.Background(), most)
	if err != nil {
		s.rollback()
		s.auditUnmerged = 0 // tried again after as many events more
		return
	}
	if s.commit(1, start) == nil {
		s.auditUnmerged = max(s.auditUnmerged-n, 0)
		if n < most {
			s.auditUnmerged = 0
		}
	}
}

// mergeAudit indexes up to limit of the events past audit_merged.seq, in
// key order, and returns how many it indexed.
func (t *tx) mergeAudit(ctx context.Context, limit int) (int, error) {
	var from, to, n int64
	if err := t.queryRow(ctx, `SELECT m.seq, COALESCE(MAX(e.seq), m.seq), COUNT(e.seq) FROM audit_merged m
LEFT JOIN (SELECT seq FROM audit_events WHERE seq > (SELECT seq FROM audit_merged) ORDER BY seq LIMIT ?) e`,
		[]any{limit}, &from, &to, &n); err != nil {
		return 0, fmt.Errorf("sqlite: merge events: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	// OR IGNORE: the rows are new (their seqs are past the mark); a
	// statement that cannot fail halfway needs no statement journal.
	for _, q := range []string{
		`INSERT OR IGNORE INTO audit_lookup (account, region, event_time, seq, name, read_only, source, access_key, username, rtypes)
SELECT account, region, event_time, seq, name, read_only, source, access_key, username, rtypes
FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY account, region, event_time, seq`,
		`INSERT OR IGNORE INTO audit_resources (account, region, name, event_time, seq)
SELECT e.account, e.region, json_extract(j.value, '$.ResourceName') AS rn, e.event_time, e.seq
FROM audit_events e, json_each(e.resources) j WHERE e.seq > ? AND e.seq <= ? AND rn IS NOT NULL
ORDER BY e.account, e.region, rn, e.event_time, e.seq`,
	} {
		if _, err := t.exec(ctx, q, from, to); err != nil {
			return 0, fmt.Errorf("sqlite: merge events: %w", err)
		}
	}
	if _, err := t.exec(ctx, `UPDATE audit_merged SET seq = ?`, to); err != nil {
		return 0, fmt.Errorf("sqlite: merge events: %w", err)
	}
	return int(n), nil
}

// PruneBefore deletes those of the limit oldest events (by seq) that are
// older than cutoff. It looks no further: events are written in time
// order, and a search of the whole trail for an old one, which no index
// serves, would hold the writer for as long as the trail is big.
func (t *tx) PruneBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return t.pruneWhere(ctx, `SELECT seq, account, region, event_time, resources, record FROM audit_events
WHERE seq IN (SELECT seq FROM audit_events ORDER BY seq LIMIT ?2) AND event_time < ?1 ORDER BY seq`, cutoff.UnixMilli(), limit)
}

// PruneAccount deletes up to limit of account's oldest events beyond its
// newest keep.
func (t *tx) PruneAccount(ctx context.Context, account string, keep, limit int) (int, error) {
	return t.pruneWhere(ctx, `SELECT seq, account, region, event_time, resources, record FROM audit_events
WHERE account = ?1 AND seq <= (SELECT seq FROM (SELECT seq FROM audit_lookup WHERE account = ?1
	UNION ALL SELECT seq FROM audit_events WHERE seq > (SELECT seq FROM audit_merged) AND account = ?1)
	ORDER BY seq DESC LIMIT 1 OFFSET ?2)
ORDER BY seq LIMIT ?3`, account, keep, limit)
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
		if _, err := t.exec(ctx, `DELETE FROM audit_lookup WHERE account = ? AND region = ? AND event_time = ? AND seq = ?`,
			e.Account, e.Region, ms, e.Seq); err != nil {
			return 0, fmt.Errorf("sqlite: prune events: %w", err)
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
	if a.Key == audit.KeyEventID {
		return t.scanEvents(ctx, `SELECT `+cols+` FROM audit_events e INDEXED BY audit_events_id
WHERE e.event_id = ? AND e.account = ? AND e.region = ? AND e.event_time >= ? AND (e.event_time, e.seq) < (?, ?)
ORDER BY e.event_time DESC, e.seq DESC LIMIT ?`, a.Value, q.Account, q.Region,
			q.Start.UnixMilli(), afterMs, afterSeq, q.Limit)
	}
	// The page comes from the indexed events (audit_lookup, which covers
	// every column it is filtered by, or audit_resources) and the few past
	// audit_merged.seq, read from audit_events.
	indexed, tail, arg, ok := lookupFilter(a)
	if !ok {
		return nil, nil
	}
	return t.scanEvents(ctx, `SELECT `+cols+` FROM (
	SELECT seq FROM (`+indexed+` AND event_time >= ?3 AND (event_time, seq) < (?4, ?5) ORDER BY event_time DESC, seq DESC LIMIT ?7)
	UNION ALL
	SELECT seq FROM audit_events WHERE seq > (SELECT seq FROM audit_merged) AND account = ?1 AND region = ?2
		AND event_time >= ?3 AND (event_time, seq) < (?4, ?5) AND `+tail+`
) k JOIN audit_events e ON e.seq = k.seq
ORDER BY e.event_time DESC, e.seq DESC LIMIT ?7`, q.Account, q.Region, q.Start.UnixMilli(), afterMs, afterSeq, arg, q.Limit)
}

// lookupFilter returns, for a lookup attribute (not EventId), the query
// of the indexed events' seqs for account ?1 and region ?2, the condition
// the unindexed events must meet, and the argument (?6) of both. ok is
// false when nothing can match.
func lookupFilter(a audit.Attribute) (indexed, tail string, arg any, ok bool) {
	const byColumns = `SELECT seq, event_time FROM audit_lookup WHERE account = ?1 AND region = ?2 AND `
	switch a.Key {
	case "":
		return byColumns + `?6 = 1`, `?6 = 1`, 1, true
	case audit.KeyResourceName:
		return `SELECT seq, event_time FROM audit_resources WHERE account = ?1 AND region = ?2 AND name = ?6`,
			`EXISTS (SELECT 1 FROM json_each(resources) WHERE json_extract(value, '$.ResourceName') = ?6)`, a.Value, true
	case audit.KeyResourceType:
		if strings.Contains(a.Value, audit.TypeSep) {
			return "", "", nil, false
		}
		return byColumns + `instr(rtypes, ?6) > 0`, `instr(rtypes, ?6) > 0`, audit.TypeSep + a.Value + audit.TypeSep, true
	case audit.KeyReadOnly:
		return byColumns + `read_only = ?6`, `read_only = ?6`, a.Value == "true", true
	}
	col, known := map[string]string{audit.KeyEventName: "name", audit.KeyEventSource: "source",
		audit.KeyAccessKeyID: "access_key", audit.KeyUsername: "username"}[a.Key]
	if !known {
		return "", "", nil, false
	}
	return byColumns + col + ` = ?6`, col + ` = ?6`, a.Value, true
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
	rows, done, err := t.query(ctx, `SELECT account FROM (SELECT account FROM audit_lookup
UNION ALL SELECT account FROM audit_events WHERE seq > (SELECT seq FROM audit_merged))
GROUP BY account HAVING COUNT(*) > ?`, max)
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
