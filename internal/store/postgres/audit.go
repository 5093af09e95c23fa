package postgres

import (
	"context"
	"encoding/json"
	"fmt"
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

// auditLookupSchema reshapes the trail for cheap writes (migration, in
// schema.go): the lookup attributes but ResourceName become columns of
// the event, searched within the account's time range, so an event costs
// its row, its time and id index entries and a row per resource name
// instead of a row per attribute. Existing events get their columns and
// resource rows from their records.
const auditLookupSchema = `
ALTER TABLE audit_events
	ADD COLUMN event_id   text COLLATE "C" NOT NULL DEFAULT '',
	ADD COLUMN name       text COLLATE "C" NOT NULL DEFAULT '',
	ADD COLUMN read_only  boolean NOT NULL DEFAULT false,
	ADD COLUMN source     text COLLATE "C" NOT NULL DEFAULT '',
	ADD COLUMN access_key text COLLATE "C" NOT NULL DEFAULT '',
	ADD COLUMN username   text COLLATE "C" NOT NULL DEFAULT '',
	ADD COLUMN rtypes     text COLLATE "C" NOT NULL DEFAULT '';
UPDATE audit_events e SET
	event_id   = COALESCE(r.j->>'eventID', ''),
	name       = COALESCE(r.j->>'eventName', ''),
	read_only  = COALESCE((r.j->>'readOnly')::boolean, false),
	source     = COALESCE(r.j->>'eventSource', ''),
	access_key = COALESCE(r.j->'userIdentity'->>'accessKeyId', ''),
	username   = CASE WHEN r.j->'userIdentity'->>'type' = 'Root' THEN 'root'
		ELSE COALESCE(r.j->'userIdentity'->>'userName', '') END,
	rtypes     = COALESCE((SELECT '|' || string_agg(DISTINCT x->>'ResourceType', '|') || '|'
		FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e.resources::jsonb) = 'array' THEN e.resources::jsonb ELSE '[]' END) x), '')
FROM (SELECT seq, record::jsonb AS j FROM audit_events) r WHERE r.seq = e.seq;
CREATE TABLE audit_resources (
	account    text COLLATE "C" NOT NULL,
	region     text COLLATE "C" NOT NULL,
	name       text COLLATE "C" NOT NULL,
	event_time bigint NOT NULL,
	seq        bigint NOT NULL,
	PRIMARY KEY (account, region, name, event_time, seq)
);
INSERT INTO audit_resources (account, region, name, event_time, seq)
SELECT e.account, e.region, x->>'ResourceName', e.event_time, e.seq
FROM audit_events e, jsonb_array_elements(CASE WHEN jsonb_typeof(e.resources::jsonb) = 'array' THEN e.resources::jsonb ELSE '[]' END) x
WHERE x->>'ResourceName' IS NOT NULL
ON CONFLICT DO NOTHING;
DROP TABLE audit_attributes;
CREATE INDEX audit_events_id ON audit_events (event_id);
`

const insertEventSQL = `WITH ev AS (
	INSERT INTO audit_events (account, region, event_time, resources, record, event_id, name, read_only, source, access_key, username, rtypes)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
	RETURNING seq
), res AS (
	INSERT INTO audit_resources (account, region, name, event_time, seq)
	SELECT $1, $2, n, $3, ev.seq FROM ev, unnest($13::text[]) AS n
)
SELECT seq FROM ev`

// InsertEvent stores e with its lookup columns and a row per resource
// name (audit.Tx), in one statement sent with the next one.
func (t *tx) InsertEvent(ctx context.Context, e *audit.Event) error {
	if err := t.writable(ctx); err != nil {
		return err
	}
	enc, err := e.Encode()
	if err != nil {
		return err
	}
	// Nothing waits for the answer (Seq is set when it comes): the event
	// travels with the next statement or COMMIT (see pipe).
	err = t.later(ctx, queued{sql: insertEventSQL, args: []any{e.Account, e.Region, e.Time.UnixMilli(), string(enc.Resources), string(enc.Record),
		e.ID, e.Name, e.ReadOnly, e.Source, e.Identity.AccessKeyID, e.Identity.Username(), enc.ResourceTypes, e.ResourceNames()},
		row: func(row pgx.Row) error { return row.Scan(&e.Seq) }})
	if err != nil {
		return t.fail(err, "insert event")
	}
	return nil
}

const eventColumns = `seq, event_time, resources, record`

// PruneBefore deletes those of the limit oldest events (by seq) that are
// older than cutoff. It looks no further: events are written in time
// order, and a search of the whole trail for an old one, which no index
// serves, would take as long as the trail is big.
func (t *tx) PruneBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return t.pruneWhere(ctx, `SELECT `+eventColumns+` FROM audit_events
WHERE seq IN (SELECT seq FROM audit_events ORDER BY seq LIMIT $2) AND event_time < $1 ORDER BY seq`,
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
	var accts, regions, names []string
	var times, rseqs []int64
	for i, e := range evs {
		seqs[i] = e.Seq
		for _, n := range e.ResourceNames() {
			accts, regions, names = append(accts, e.Account), append(regions, e.Region), append(names, n)
			times, rseqs = append(times, e.Time.UnixMilli()), append(rseqs, e.Seq)
		}
	}
	if _, err := t.tx.Exec(ctx, `DELETE FROM audit_resources a USING unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS d(account, region, name, event_time, seq)
WHERE a.account = d.account AND a.region = d.region AND a.name = d.name AND a.event_time = d.event_time AND a.seq = d.seq`,
		accts, regions, names, times, rseqs); err != nil {
		return 0, t.fail(err, "prune event resources")
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

// LookupEvents is in audit_order.go.

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
