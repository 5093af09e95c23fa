package postgres

import (
	"context"
	"errors"

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

// auditHorizon is h above, computed in the statement's own snapshot.
const auditHorizon = `(SELECT COALESCE(min(x), pg_snapshot_xmax(pg_current_snapshot()))
	FROM pg_snapshot_xip(pg_current_snapshot()) AS x
	WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
		WHERE a.backend_xid = x::xid AND a.datname IS DISTINCT FROM current_database()))`

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

// LookupEvents returns up to q.Limit events matching q, newest first in
// the order above. q.AfterSeq continues below that event's position;
// q.AfterTime is not needed on this engine.
func (s *Store) LookupEvents(ctx context.Context, q audit.Query) (out []*audit.Event, err error) {
	err = s.readAudit(ctx, func(t *tx) (err error) {
		// $1.. are shared by both statements: account, region, start, end,
		// cursor xid, cursor seq, limit, then key and value.
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
		args := []any{q.Account, q.Region, q.Start.UnixMilli(), q.End.UnixMilli(), curXID, curSeq, q.Limit}
		where := `e.account = $1 AND e.region = $2 AND e.event_time >= $3 AND e.event_time <= $4 AND ` + cursor +
			` AND e.xid < ` + auditHorizon
		if q.Attribute.Key == "" {
			out, err = t.scanEvents(ctx, `SELECT e.seq, e.event_time, e.resources, e.record FROM audit_events e
WHERE `+where+` ORDER BY e.xid DESC, e.seq DESC LIMIT $7`, args...)
			return err
		}
		// The attribute rows find the events; their order is the events'.
		out, err = t.scanEvents(ctx, `SELECT e.seq, e.event_time, e.resources, e.record
FROM audit_attributes a JOIN audit_events e ON e.seq = a.seq
WHERE a.account = $1 AND a.region = $2 AND a.key = $8 AND a.value = $9 AND a.event_time >= $3 AND a.event_time <= $4
	AND `+where+` ORDER BY e.xid DESC, e.seq DESC LIMIT $7`, append(args, q.Attribute.Key, q.Attribute.Value)...)
		return err
	})
	return out, err
}
