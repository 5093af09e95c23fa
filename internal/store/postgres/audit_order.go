package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/audit"
)

// The order of the trail on PostgreSQL.
//
// Events are listed newest first. Several transactions write events at
// once here (group-commit batches, Updates running alone, other amigo
// processes), and the order of their sequence numbers (or of their times)
// is not the order in which they commit: a transaction that drew seq 5 may
// commit after another one's seq 6 is visible. A reader that lists the
// trail from the top down to the newest event it saw last time (how
// CloudTrail pollers work) would then stop at 6 and never see 5. NextToken
// pages are not at risk (a later page continues below the cursor, where 5
// lies), but that poller is, and so is any reader that trusts the list it
// saw to be the whole past.
//
// So the trail is ordered by (xid, seq): the writing transaction's id
// (pg_current_xact_id(), the top-level one even inside a group-commit
// savepoint, filled in by the column default), then the order within it;
// and a lookup shows only the events of transactions below a horizon h
// such that every transaction below h has ended, committed or not, when
// the lookup's snapshot was taken. Then the events shown are always a
// prefix of the final order, oldest first: any event not shown now, and
// later committed, has xid >= h, above every event shown. Proof, for the
// three kinds of event not shown: (a) one of a transaction running at
// the snapshot has xid >= h, since h is at most every such xid of this
// database (below); (b) one of a transaction that takes its xid after the
// snapshot has xid >= the snapshot's xmax >= h; (c) a committed one that
// is hidden has xid >= h by definition.
//
// h is the smallest xid of the snapshot's in-progress list (xip) that is
// not known to belong to another database, or the snapshot's xmax when
// there is none. Transactions of other databases on the same server write
// no event here, so they are left out: otherwise any long transaction on
// the server would hold back this trail. A transaction is known to be
// elsewhere when pg_stat_activity, read after the snapshot, shows its xid
// on a backend of another database; an xid that has ended meanwhile, or
// that the role may not see, counts as this database's, which can only
// lower h (delay an event), never raise it past a live one.
//
// The price: an event appears once every transaction of this database that
// started writing before it has ended, usually milliseconds; a long
// writing transaction (a migration, a long import) holds newer events
// back until it ends. Rows from before this migration have xid 0: oldest,
// in seq order, as they were.
const auditOrderSchema = `
ALTER TABLE audit_events ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE audit_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX audit_events_xid ON audit_events (account, region, xid, seq);
`

// auditHorizon is h above, computed in the statement's own snapshot. It
// is read by a statement of its own and passed to the lookup as a value
// (the planner then walks the (account, region, xid, seq) index instead
// of sorting the whole trail). That is sound whatever the lookup's own
// snapshot: the events of this database with xid < h belong to
// transactions that had all ended when h was read, so every later
// snapshot sees exactly the same ones.
const auditHorizon = `SELECT COALESCE(min(x), pg_snapshot_xmax(pg_current_snapshot()))::text
	FROM pg_snapshot_xip(pg_current_snapshot()) AS x
	WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
		WHERE a.backend_xid = x::xid AND a.datname IS DISTINCT FROM current_database())`

// lookupCursor returns the (xid, seq) position of the event seq, where a
// page ended. An event pruned since (retention runs while pages are read)
// has no position; the page then continues by seq alone (found false).
func (t *tx) lookupCursor(ctx context.Context, seq int64) (xid string, found bool, err error) {
	err = t.tx.QueryRow(ctx, `SELECT xid::text FROM audit_events WHERE seq = $1`, seq).Scan(&xid)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, t.fail(err, "lookup cursor")
	}
	return xid, true, nil
}

// walkRows is how many events, newest first, a ResourceName lookup probes
// before it takes the name for a rare one (see LookupEvents).
const walkRows = 500

// LookupEvents returns up to q.Limit events matching q, newest first in
// the order above. q.AfterSeq continues below that event's position;
// q.AfterTime is not needed on this engine.
//
// The lookup attributes but ResourceName are columns of the event, a
// filter on the walk in the trail's order. ResourceName has rows of its
// own, indexed by time: the walk probes walkRows events newest first;
// when they hold fewer than a page of matches, the name is rare, and its
// remaining events are gathered from its rows and sorted.
func (s *Store) LookupEvents(ctx context.Context, q audit.Query) (out []*audit.Event, err error) {
	err = s.readAudit(ctx, func(t *tx) (err error) {
		var h string
		if err := t.tx.QueryRow(ctx, auditHorizon).Scan(&h); err != nil {
			return t.fail(err, "lookup horizon")
		}
		curXID, curSeq := "18446744073709551615", int64(1<<63-1) // past every event
		cursor := `(e.xid, e.seq) < ($5::xid8, $6)`
		if q.AfterSeq != 0 {
			var found bool
			if curXID, found, err = t.lookupCursor(ctx, q.AfterSeq); err != nil {
				return err
			}
			curSeq = q.AfterSeq
			if !found {
				// $5 stays in the text, so PostgreSQL still knows its type.
				curXID, cursor = "0", `($5::xid8 IS NOT NULL AND e.seq < $6)`
			}
		}
		// $1.. : account, region, start, end, cursor xid, cursor seq,
		// horizon, then key and value.
		args := []any{q.Account, q.Region, q.Start.UnixMilli(), q.End.UnixMilli(), curXID, curSeq, h}
		where := `e.account = $1 AND e.region = $2 AND e.event_time >= $3 AND e.event_time <= $4 AND ` + cursor +
			` AND e.xid < $7::xid8`
		const order = ` ORDER BY e.xid DESC, e.seq DESC LIMIT `
		if q.Attribute.Key == "" {
			out, err = t.scanEvents(ctx, `SELECT e.seq, e.event_time, e.resources, e.record FROM audit_events e
WHERE `+where+order+strconv.Itoa(q.Limit), search(args)...)
			return err
		}
		// The attributes but ResourceName are columns of the event
		// (auditLookupSchema): a filter on the walk in the trail's order;
		// the planner may take EventId's own index instead.
		a := q.Attribute
		var cond string
		var arg any = a.Value
		switch a.Key {
		case audit.KeyEventID:
			cond = "e.event_id = $8"
		case audit.KeyEventName:
			cond = "e.name = $8"
		case audit.KeyReadOnly:
			cond, arg = "e.read_only = $8", a.Value == "true"
		case audit.KeyEventSource:
			cond = "e.source = $8"
		case audit.KeyAccessKeyID:
			cond = "e.access_key = $8"
		case audit.KeyUsername:
			cond = "e.username = $8"
		case audit.KeyResourceType:
			if strings.Contains(a.Value, audit.TypeSep) {
				return nil
			}
			cond, arg = "strpos(e.rtypes, $8) > 0", audit.TypeSep+a.Value+audit.TypeSep
		case audit.KeyResourceName: // rows of its own, below
		default:
			return nil
		}
		args = append(args, arg)
		if cond != "" {
			out, err = t.scanEvents(ctx, `SELECT e.seq, e.event_time, e.resources, e.record FROM audit_events e
WHERE `+where+` AND `+cond+order+strconv.Itoa(q.Limit), search(args)...)
			return err
		}
		// ResourceName: the rows are indexed by time while the events come
		// in the trail's order, so neither index gives the page alone. The
		// walk probes each event's row by its primary key (the LATERAL with
		// LIMIT 1; an EXISTS would be planned as one hash of every matching
		// row, as costly as the sort this walk avoids).
		walked, err := t.walkEvents(ctx, q.Limit, `SELECT e.seq, e.event_time, e.xid::text, m.hit IS NOT NULL,
	CASE WHEN m.hit THEN e.resources END, CASE WHEN m.hit THEN e.record END
FROM audit_events e LEFT JOIN LATERAL (SELECT true AS hit FROM audit_resources a
	WHERE a.account = e.account AND a.region = e.region AND a.name = $8
		AND a.event_time = e.event_time AND a.seq = e.seq LIMIT 1) m ON true
WHERE `+where+order+strconv.Itoa(walkRows), search(args)...)
		if err != nil {
			return err
		}
		out = walked.matches
		if len(out) == q.Limit || walked.rows < walkRows {
			return nil
		}
		// Rare: gather the rest below the last event walked, from the
		// resource rows (OFFSET 0 keeps the planner from driving the join
		// from the events' index, which would walk them all).
		args[4], args[5] = walked.lastXID, walked.lastSeq
		rest, err := t.scanEvents(ctx, `SELECT e.seq, e.event_time, e.resources, e.record
FROM (SELECT a.seq FROM audit_resources a
	WHERE a.account = $1 AND a.region = $2 AND a.name = $8 AND a.event_time >= $3 AND a.event_time <= $4
	OFFSET 0) m
JOIN audit_events e ON e.seq = m.seq
WHERE `+strings.Replace(where, cursor, `(e.xid, e.seq) < ($5::xid8, $6)`, 1)+
			order+strconv.Itoa(q.Limit-len(out)), search(args)...)
		out = append(out, rest...)
		return err
	})
	return out, err
}

// search runs a lookup as searches run (searchMode): planned for its
// values each time. A generic plan does not know the horizon and the
// cursor, and sorts the whole trail instead of walking its index.
func search(args []any) []any { return append([]any{searchMode}, args...) }

// walked is what walkEvents saw: how many events, the first matching ones
// decoded (up to the page), and the position of the last event.
type walked struct {
	rows    int
	matches []*audit.Event
	lastXID string
	lastSeq int64
}

func (t *tx) walkEvents(ctx context.Context, limit int, query string, args ...any) (w walked, err error) {
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return w, t.fail(err, "events")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq, ms  int64
			xid      string
			match    bool
			res, rec *string
		)
		if err := rows.Scan(&seq, &ms, &xid, &match, &res, &rec); err != nil {
			return w, t.fail(err, "events")
		}
		w.rows, w.lastXID, w.lastSeq = w.rows+1, xid, seq
		if !match || len(w.matches) == limit {
			continue
		}
		e, err := decodeEvent(seq, ms, *res, *rec)
		if err != nil {
			return w, err
		}
		w.matches = append(w.matches, e)
	}
	if err := rows.Err(); err != nil {
		return w, t.fail(err, "events")
	}
	return w, nil
}

func decodeEvent(seq, ms int64, res, rec string) (*audit.Event, error) {
	var resources []audit.Resource
	if err := json.Unmarshal([]byte(res), &resources); err != nil {
		return nil, fmt.Errorf("postgres: event %d: %w", seq, err)
	}
	e, err := audit.FromRecord(seq, time.UnixMilli(ms).UTC(), []byte(rec), resources)
	if err != nil {
		return nil, fmt.Errorf("postgres: event %d: %w", seq, err)
	}
	return e, nil
}
