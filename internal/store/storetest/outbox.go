package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/outbox"
)

// The outbox contract (internal/outbox): messages written in a
// transaction exist exactly when it commits; Claim hands out the due head
// of each key once per lease, oldest due first; Retry and Done end a
// lease; a newer message drops the untouched ones due after it.

const topic = "test-topic"

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func outboxOf(t *testing.T, s *handle) outbox.Store {
	t.Helper()
	o, ok := s.Store.(outbox.Store)
	if !ok {
		t.Fatalf("%T does not implement outbox.Store", s.Store)
	}
	return o
}

func msg(id, key string, due time.Time) outbox.Message {
	return outbox.Message{ID: id, Topic: topic, Key: key, NotBefore: due, Created: due, Body: []byte(`{"id":"` + id + `"}`)}
}

func enqueue(t *testing.T, s *handle, msgs ...outbox.Message) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, m := range msgs {
			if err := tx.Enqueue(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

func claimIDs(t *testing.T, o outbox.Store, now time.Time, limit int) ([]string, []outbox.Message) {
	t.Helper()
	got, err := o.Claim(t.Context(), topic, now, time.Minute, limit)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	ids := []string{}
	for _, m := range got {
		ids = append(ids, m.ID)
	}
	return ids, got
}

func backlog(t *testing.T, o outbox.Store) int {
	t.Helper()
	n, err := o.Backlog(t.Context(), topic)
	if err != nil {
		t.Fatalf("Backlog: %v", err)
	}
	return n
}

func testOutboxClaimOrder(t *testing.T, h *harness) {
	s := h.open(t)
	o := outboxOf(t, s)
	enqueue(t, s, msg("a1", "A", t0), msg("b1", "B", t0.Add(time.Second)), msg("a2", "A", t0.Add(2*time.Second)))
	enqueue(t, s, msg("c1", "C", t0.Add(time.Hour)), outbox.Message{ID: "other", Topic: "other", Key: "A", NotBefore: t0, Created: t0, Body: []byte("{}")})
	if n := backlog(t, o); n != 4 {
		t.Errorf("Backlog = %d, want 4 (other topics not counted)", n)
	}

	// Heads only, oldest due first, each once per lease; not yet due stays.
	ids, got := claimIDs(t, o, t0.Add(5*time.Second), 10)
	if diff := cmp.Diff([]string{"a1", "b1"}, ids); diff != "" {
		t.Fatalf("first claim (-want +got):\n%s", diff)
	}
	want := msg("a1", "A", t0)
	want.Seq, want.Attempts = got[0].Seq, 0
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("claimed message (-want +got):\n%s", diff)
	}
	if ids, _ := claimIDs(t, o, t0.Add(5*time.Second), 10); len(ids) != 0 {
		t.Fatalf("claim during the leases = %v, want none", ids)
	}

	// Done lets the key's next message out; Retry puts a message back for later.
	if err := o.Done(t.Context(), []int64{got[0].Seq}); err != nil {
		t.Fatal(err)
	}
	if err := o.Retry(t.Context(), got[1].Seq, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ids, _ := claimIDs(t, o, t0.Add(5*time.Second), 10); !cmp.Equal(ids, []string{"a2"}) {
		t.Fatalf("claim after Done and Retry = %v, want [a2]", ids)
	}
	ids, got = claimIDs(t, o, t0.Add(time.Minute), 10)
	if !cmp.Equal(ids, []string{"b1"}) || got[0].Attempts != 1 {
		t.Fatalf("claim at the retry time = %v (attempts %v), want [b1] with 1 attempt", ids, got)
	}

	// A lease that ran out (its deliverer died) is claimed again.
	ids, got = claimIDs(t, o, t0.Add(3*time.Minute), 10)
	if !cmp.Equal(ids, []string{"a2", "b1"}) {
		t.Fatalf("claim after the leases ended = %v, want [a2 b1]", ids)
	}
	if err := o.Done(t.Context(), []int64{got[0].Seq, got[1].Seq}); err != nil {
		t.Fatal(err)
	}
	// The limit holds.
	if ids, _ := claimIDs(t, o, t0.Add(2*time.Hour), 1); !cmp.Equal(ids, []string{"c1"}) {
		t.Fatalf("claim with limit 1 = %v, want [c1]", ids)
	}
}

func testOutboxSupersede(t *testing.T, h *harness) {
	s := h.open(t)
	o := outboxOf(t, s)
	// pending → available planned for later; then a change now.
	enqueue(t, s, msg("created", "A", t0), msg("planned", "A", t0.Add(time.Hour)), msg("keep", "B", t0.Add(time.Hour)))
	enqueue(t, s, msg("unrelated", "A", t0.Add(time.Minute)))
	if n := backlog(t, o); n != 4 {
		t.Errorf("Backlog = %d, want 4 (nothing superseded)", n)
	}
	now := msg("now", "A", t0.Add(time.Minute))
	now.Supersedes = true
	enqueue(t, s, now)
	if n := backlog(t, o); n != 4 {
		t.Errorf("Backlog = %d, want 4 (planned dropped)", n)
	}
	ids, got := claimIDs(t, o, t0.Add(2*time.Hour), 10)
	if !cmp.Equal(ids, []string{"created", "keep"}) {
		t.Fatalf("claim = %v, want [created keep]", ids)
	}
	// A message already attempted happened: a newer one does not drop it.
	if err := o.Retry(t.Context(), got[0].Seq, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	later := msg("later", "A", t0.Add(2*time.Hour))
	later.Supersedes = true
	enqueue(t, s, later)
	if n := backlog(t, o); n != 5 {
		t.Errorf("Backlog = %d, want 5 (an attempted message is kept)", n)
	}
}

func testOutboxFailedUpdateKeepsNothing(t *testing.T, h *harness) {
	s := h.open(t)
	o := outboxOf(t, s)
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx image.Tx) error {
		if err := tx.Enqueue(t.Context(), msg("x", "A", t0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if n := backlog(t, o); n != 0 {
		t.Errorf("Backlog after a failed Update = %d, want 0", n)
	}
	err = s.View(t.Context(), func(tx image.Tx) error { return tx.Enqueue(t.Context(), msg("y", "A", t0)) })
	if err == nil {
		t.Error("Enqueue inside View succeeded")
	}
}

// Claims racing from many goroutines (processes, on a shared PostgreSQL)
// hand each message out once.
func testOutboxConcurrentClaims(t *testing.T, h *harness) {
	s := h.open(t)
	o := outboxOf(t, s)
	const keys, per = 20, 3
	var all []outbox.Message
	for k := range keys {
		for i := range per {
			all = append(all, msg(fmt.Sprintf("k%d-%d", k, i), fmt.Sprintf("K%d", k), t0))
		}
	}
	enqueue(t, s, all...)
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		last = map[string]int{}
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for range 50 {
				got, err := o.Claim(context.Background(), topic, t0, time.Hour, 5)
				if err != nil {
					t.Error(err)
					return
				}
				var seqs []int64
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
					var k, i int
					fmt.Sscanf(m.ID, "k%d-%d", &k, &i)
					if prev, ok := last[m.Key]; ok && i != prev+1 || !ok && i != 0 {
						t.Errorf("%s delivered out of order (after %d)", m.ID, prev)
					}
					last[m.Key] = i
					seqs = append(seqs, m.Seq)
				}
				mu.Unlock()
				if err := o.Done(context.Background(), seqs); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, m := range all {
		if seen[m.ID] != 1 {
			t.Errorf("%s claimed %d times, want 1", m.ID, seen[m.ID])
		}
	}
	if n := backlog(t, o); n != 0 {
		t.Errorf("Backlog = %d, want 0", n)
	}
}

func testOutboxDurable(t *testing.T, h *harness) {
	s := h.open(t)
	enqueue(t, s, msg("a1", "A", t0), msg("a2", "A", t0))
	s = h.reopen(t, s)
	o := outboxOf(t, s)
	if n := backlog(t, o); n != 2 {
		t.Errorf("Backlog after reopen = %d, want 2", n)
	}
	if ids, _ := claimIDs(t, o, t0, 10); !cmp.Equal(ids, []string{"a1"}) {
		t.Errorf("claim after reopen = %v, want [a1]", ids)
	}
}
