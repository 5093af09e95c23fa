package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
)

func orderEvent(i int, t time.Time) *audit.Event {
	const acct = "111122223333"
	return &audit.Event{Account: acct, Region: "us-east-1", Time: t,
		ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: "ModifyImageAttribute", Source: audit.SourceEC2,
		Identity:  audit.Identity{Type: "Root", PrincipalID: acct, ARN: "arn:aws:iam::" + acct + ":root", AccountID: acct, AccessKeyID: "AKIA" + acct},
		Resources: []audit.Resource{{Type: "AWS::EC2::Ami", Name: "ami-0123456789abcdef0"}}}
}

func lookupIDs(t *testing.T, s *Store, attr audit.Attribute, start time.Time) []string {
	t.Helper()
	evs, err := s.LookupEvents(t.Context(), audit.Query{Account: "111122223333", Region: "us-east-1",
		Attribute: attr, Start: start, End: start.Add(time.Hour), Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range evs {
		out = append(out, e.ID[len(e.ID)-1:])
	}
	return out
}

// Two processes write events in overlapping transactions: the one that
// began first commits last. While it runs, the other's event is not shown
// (it would sit above an event still to come, and a reader listing down to
// the newest event it saw would pass over that one); once both have
// committed, both are shown, in commit-consistent order. A long
// transaction of another database on the server holds nothing back.
func TestAuditOrderUnderOverlap(t *testing.T) {
	dsn := pgtest.Start(t)
	a, b := openTest(t, dsn, testOptions), openTest(t, dsn, testOptions)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	byName := audit.Attribute{Key: audit.KeyEventName, Value: "ModifyImageAttribute"}

	inserted, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- a.UpdateAudit(ctx, func(tx audit.PruneTx) error {
			if err := tx.InsertEvent(ctx, orderEvent(1, t0)); err != nil {
				return err
			}
			// The insert waits in the transaction's pipe for the next
			// statement: send one (it prunes nothing) so the event is
			// written, and the transaction holds its xid, before b writes.
			if _, err := tx.PruneBefore(ctx, time.Time{}, 1); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	select {
	case <-inserted:
	case err := <-done:
		t.Fatalf("first transaction: %v", err)
	}
	if err := b.UpdateAudit(ctx, func(tx audit.PruneTx) error {
		return tx.InsertEvent(ctx, orderEvent(2, t0.Add(time.Second)))
	}); err != nil {
		close(release)
		t.Fatal(err)
	}
	for _, attr := range []audit.Attribute{{}, byName} {
		if got := lookupIDs(t, b, attr, t0); len(got) != 0 {
			t.Errorf("lookup (%v) while the older transaction runs: %v, want nothing yet", attr, got)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, attr := range []audit.Attribute{{}, byName} {
		if got := fmt.Sprint(lookupIDs(t, b, attr, t0)); got != "[2 1]" {
			t.Errorf("lookup (%v) after both committed: %s, want [2 1]", attr, got)
		}
	}

	// A page continues below its last event, by the same order.
	first, err := b.LookupEvents(ctx, audit.Query{Account: "111122223333", Region: "us-east-1", Start: t0, End: t0.Add(time.Hour), Limit: 1})
	if err != nil || len(first) != 1 {
		t.Fatalf("first page: %v %d", err, len(first))
	}
	next, err := b.LookupEvents(ctx, audit.Query{Account: "111122223333", Region: "us-east-1", Start: t0, End: t0.Add(time.Hour), Limit: 1,
		AfterTime: first[0].Time, AfterSeq: first[0].Seq})
	if err != nil || len(next) != 1 || next[0].ID != orderEvent(1, t0).ID {
		t.Fatalf("second page: %v %v", err, next)
	}

	// Another database's transaction, open with an xid, delays nothing.
	other, err := pgx.Connect(ctx, pgtest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	otx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = otx.Rollback(context.Background()) }()
	if _, err := otx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // takes an xid
		t.Fatal(err)
	}
	if err := b.UpdateAudit(ctx, func(tx audit.PruneTx) error {
		return tx.InsertEvent(ctx, orderEvent(3, t0.Add(2*time.Second)))
	}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(lookupIDs(t, b, audit.Attribute{}, t0)); got != "[3 2 1]" {
		t.Errorf("with another database's transaction open: %s, want [3 2 1]", got)
	}
}

// BenchmarkLookupEvents: one page (50) of a trail of 50,000 events of one
// account and Region, all of one EventName, newest first: unfiltered (the
// (account, region, xid, seq) index) and by EventName (attribute rows,
// then a sort of the matches by xid). "time-order" runs the lookup as it
// was before the xid order, for comparison on the same data.
func BenchmarkLookupEvents(b *testing.B) {
	s := openTest(b, pgtest.Start(b), testOptions)
	b.Cleanup(func() { s.Close() })
	ctx := b.Context()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const n, batch = 50_000, 1000
	for i := 0; i < n; i += batch {
		if err := s.UpdateAudit(ctx, func(tx audit.PruneTx) error {
			for j := i; j < i+batch; j++ {
				e := orderEvent(j, t0.Add(time.Duration(j)*time.Millisecond))
				if j%1000 == 0 { // rare: 50 in the trail
					e.Name = "DeregisterImage"
				}
				if err := tx.InsertEvent(ctx, e); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	q := audit.Query{Account: "111122223333", Region: "us-east-1", Start: t0, End: t0.Add(time.Hour), Limit: 50}
	byName := q
	byName.Attribute = audit.Attribute{Key: audit.KeyEventName, Value: "ModifyImageAttribute"}
	rare := q
	rare.Attribute = audit.Attribute{Key: audit.KeyEventName, Value: "DeregisterImage"}
	for _, c := range []struct {
		name string
		q    audit.Query
	}{{"all", q}, {"by-name", byName}, {"by-rare-name", rare}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if evs, err := s.LookupEvents(ctx, c.q); err != nil || len(evs) < 49 {
					b.Fatal(len(evs), err)
				}
			}
		})
	}
}

// Lookups by a common attribute (walked) and a rare one (walked, then
// gathered) page through every matching event exactly once, newest first.
func TestAuditLookupCommonAndRareAttributes(t *testing.T) {
	s := openTest(t, pgtest.Start(t), testOptions)
	defer s.Close()
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const n = 3 * walkRows
	if err := s.UpdateAudit(ctx, func(tx audit.PruneTx) error {
		for i := range n {
			e := orderEvent(i, t0.Add(time.Duration(i)*time.Millisecond))
			if i%100 == 7 {
				e.Name = "DeregisterImage"
			}
			if err := tx.InsertEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		limit int
		want  func(i int) bool
	}{
		{"ModifyImageAttribute", 50, func(i int) bool { return i%100 != 7 }},
		{"DeregisterImage", 4, func(i int) bool { return i%100 == 7 }},
	} {
		var want []string
		for i := n - 1; i >= 0; i-- {
			if c.want(i) {
				want = append(want, orderEvent(i, t0).ID)
			}
		}
		q := audit.Query{Account: "111122223333", Region: "us-east-1", Start: t0, End: t0.Add(time.Hour), Limit: c.limit,
			Attribute: audit.Attribute{Key: audit.KeyEventName, Value: c.name}}
		var got []string
		for pages := 0; ; pages++ {
			evs, err := s.LookupEvents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				got = append(got, e.ID)
			}
			if len(evs) < c.limit || pages > n {
				break
			}
			q.AfterTime, q.AfterSeq = evs[len(evs)-1].Time, evs[len(evs)-1].Seq
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %d events paged, want %d in order", c.name, len(got), len(want))
		}
	}
}
