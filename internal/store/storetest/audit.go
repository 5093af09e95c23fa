package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/store"
)

// auditStore is the engine beneath h as an audit.Store.
func auditStore(t *testing.T, h *handle) audit.Store {
	t.Helper()
	a, ok := h.Store.(audit.Store)
	if !ok {
		t.Fatal("engine does not implement audit.Store")
	}
	return a
}

var auditEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func auditEvent(i int, account, rgn, name, img string) *audit.Event {
	return &audit.Event{Account: account, Region: rgn, Time: auditEpoch.Add(time.Duration(i) * time.Second),
		ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: name, Source: audit.SourceEC2,
		Identity:  audit.Identity{Type: "Root", PrincipalID: account, ARN: "arn:aws:iam::" + account + ":root", AccountID: account, AccessKeyID: "AKIA" + account},
		Resources: []audit.Resource{{Type: "AWS::EC2::Ami", Name: img}}}
}

// attachment is a store.Attachment writing one event.
type attachment struct{ e *audit.Event }

func (a attachment) WriteTx(ctx context.Context, tx any) error {
	return tx.(audit.Tx).InsertEvent(ctx, a.e)
}

func eventIDs(evs []*audit.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// An attachment is written with its update's change, not with a failed
// one, and once however many updates its context makes; under concurrent
// updates one failing function loses only its own event.
func testAuditAttachments(t *testing.T, h *harness) {
	s := h.open(t)
	st := auditStore(t, s)
	ctx := t.Context()
	ok := store.Attach(ctx, attachment{auditEvent(1, acct1, region, "RegisterImage", amiID(1))})
	if err := s.Update(ok, func(tx image.Tx) error { return tx.InsertImage(ok, newImage(region, amiID(1), acct1, "a")) }); err != nil {
		t.Fatal(err)
	}
	// A second update under the same context writes no second event.
	if err := s.Update(ok, func(tx image.Tx) error { return tx.SetSetting(ok, region, acct1, "k", "v") }); err != nil {
		t.Fatal(err)
	}
	failed := store.Attach(ctx, attachment{auditEvent(2, acct1, region, "RegisterImage", amiID(2))})
	if err := s.Update(failed, func(tx image.Tx) error { return errors.New("refused") }); err == nil {
		t.Fatal("want the error")
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := store.Attach(ctx, attachment{auditEvent(10+i, acct1, region, "CreateTags", amiID(10+i))})
			_ = s.Update(c, func(tx image.Tx) error {
				if i%4 == 0 {
					return errors.New("refused")
				}
				return tx.SetSetting(c, region, acct1, fmt.Sprint("k", i), "v")
			})
		}()
	}
	wg.Wait()
	got, err := st.LookupEvents(ctx, audit.Query{Account: acct1, Region: region, Start: auditEpoch, End: auditEpoch.Add(time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{auditEvent(1, "", "", "", "").ID: true}
	for i := range 16 {
		if i%4 != 0 {
			want[auditEvent(10+i, "", "", "", "").ID] = true
		}
	}
	if len(got) != len(want) {
		t.Fatalf("events %v, want the %d of the successful updates", eventIDs(got), len(want))
	}
	for _, e := range got {
		if !want[e.ID] {
			t.Errorf("event %s of a failed update", e.ID)
		}
	}
}

// LookupEvents: newest first, by any attribute, inclusive time bounds,
// continuation after a cursor, accounts and regions apart; pruning removes
// events from every index.
func testAuditLookup(t *testing.T, h *harness) {
	s := h.open(t)
	st := auditStore(t, s)
	ctx := t.Context()
	err := st.UpdateAudit(ctx, func(tx audit.PruneTx) error {
		for i := range 10 {
			name := "ModifyImageAttribute"
			if i%2 == 1 {
				name = "CreateTags"
			}
			for _, e := range []*audit.Event{auditEvent(i, acct1, region, name, amiID(i%3)), auditEvent(100+i, acct2, region, name, amiID(i%3)),
				auditEvent(200+i, acct1, "eu-west-1", name, amiID(i%3))} {
				e.Time = auditEpoch.Add(time.Duration(i) * time.Second)
				if err := tx.InsertEvent(ctx, e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := audit.Query{Account: acct1, Region: region, Start: auditEpoch, End: auditEpoch.Add(time.Hour), Limit: 50}
	look := func(q audit.Query) []string {
		t.Helper()
		evs, err := st.LookupEvents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			if e.Account != q.Account || e.Region != q.Region {
				t.Errorf("event %s of %s/%s in %s/%s's lookup", e.ID, e.Account, e.Region, q.Account, q.Region)
			}
			out = append(out, e.ID[len(e.ID)-2:])
		}
		return out
	}
	check := func(name string, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	check("all", look(q), "09", "08", "07", "06", "05", "04", "03", "02", "01", "00")
	byName := q
	byName.Attribute = audit.Attribute{Key: audit.KeyEventName, Value: "CreateTags"}
	check("by name", look(byName), "09", "07", "05", "03", "01")
	byRes := q
	byRes.Attribute = audit.Attribute{Key: audit.KeyResourceName, Value: amiID(0)}
	check("by resource", look(byRes), "09", "06", "03", "00")
	// Every other attribute, with a value that matches and one that
	// does not (the engines answer most of them from event columns).
	for _, c := range []struct {
		key, hit, miss string
		want           []string
	}{
		{audit.KeyEventID, "00000000-0000-4000-8000-000000000007", "00000000-0000-4000-8000-000000000107", []string{"07"}},
		{audit.KeyReadOnly, "false", "true", []string{"09", "08", "07", "06", "05", "04", "03", "02", "01", "00"}},
		{audit.KeyEventSource, audit.SourceEC2, audit.SourceSTS, []string{"09", "08", "07", "06", "05", "04", "03", "02", "01", "00"}},
		{audit.KeyAccessKeyID, "AKIA" + acct1, "AKIA" + acct2, []string{"09", "08", "07", "06", "05", "04", "03", "02", "01", "00"}},
		{audit.KeyUsername, "root", "alice", []string{"09", "08", "07", "06", "05", "04", "03", "02", "01", "00"}},
		{audit.KeyResourceType, "AWS::EC2::Ami", "AWS::EC2::Ami|AWS::EC2::Ami", []string{"09", "08", "07", "06", "05", "04", "03", "02", "01", "00"}},
	} {
		by := q
		by.Attribute = audit.Attribute{Key: c.key, Value: c.hit}
		check("by "+c.key, look(by), c.want...)
		by.Attribute.Value = c.miss
		check("by "+c.key+" (no match)", look(by))
	}
	namePage := byName
	namePage.Limit = 2
	got, err := st.LookupEvents(ctx, namePage)
	if err != nil || len(got) != 2 {
		t.Fatalf("first page by name: %v %d", err, len(got))
	}
	namePage.AfterTime, namePage.AfterSeq = got[1].Time, got[1].Seq
	check("next page by name", look(namePage), "05", "03")
	timed := q
	timed.Start, timed.End = auditEpoch.Add(2*time.Second), auditEpoch.Add(4*time.Second)
	check("time range", look(timed), "04", "03", "02")
	page := q
	page.Limit = 3
	first, err := st.LookupEvents(ctx, page)
	if err != nil || len(first) != 3 {
		t.Fatalf("first page: %v %d", err, len(first))
	}
	page.AfterTime, page.AfterSeq = first[2].Time, first[2].Seq
	check("next page", look(page), "06", "05", "04")

	err = st.UpdateAudit(ctx, func(tx audit.PruneTx) error {
		n, err := tx.PruneBefore(ctx, auditEpoch.Add(2*time.Second), 100)
		if n != 6 { // two events of each account and region
			t.Errorf("PruneBefore deleted %d, want 6", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	check("after retention", look(byRes), "09", "06", "03")
	over, err := st.AccountsOver(ctx, 10)
	if err != nil || fmt.Sprint(over) != "["+acct1+"]" {
		t.Fatalf("AccountsOver(10) = %v, %v", over, err)
	}
	err = st.UpdateAudit(ctx, func(tx audit.PruneTx) error {
		_, err := tx.PruneAccount(ctx, acct1, 10, 100)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := st.ExportEvents(ctx, func(e *audit.Event) error {
		if e.Account == acct1 {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Errorf("account bound kept %d events, want 10", n)
	}
	check("after the account bound", look(byName), "09", "07", "05") // the 6 oldest of both regions went
}
