package image

import (
	"context"
	"testing"
	"time"
)

func TestSettle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := now.Add(time.Second)
	img := &Image{State: StatePending, AvailableAt: &at}
	if img.Settle(now) || img.State != StatePending {
		t.Fatal("settled before its time")
	}
	if !img.Settle(at) || img.State != StateAvailable || img.AvailableAt != nil {
		t.Fatalf("not settled when due: %s %v", img.State, img.AvailableAt)
	}
	if img.Settle(at.Add(time.Hour)) {
		t.Fatal("settled twice")
	}
	disabled := &Image{State: StateDisabled, AvailableAt: &at}
	if disabled.Settle(at) || disabled.State != StateDisabled {
		t.Fatal("Settle changed a non-pending image")
	}
}

func TestPendingFallsBackToCreationDate(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := created
	s := &Service{opts: Options{PendingDelay: time.Minute, Now: func() time.Time { return now }}}
	img := &Image{CreationDate: created}
	s.startPending(img)
	if img.State != StatePending || img.AvailableAt == nil || !img.AvailableAt.Equal(created.Add(time.Minute)) {
		t.Fatalf("startPending: %s %v", img.State, img.AvailableAt)
	}
	// A store that did not keep AvailableAt: the delay counts from creation.
	img.AvailableAt = nil
	now = created.Add(59 * time.Second)
	if s.settle(img) || img.State != StatePending {
		t.Fatal("settled early")
	}
	now = created.Add(time.Minute)
	if !s.settle(img) || img.State != StateAvailable {
		t.Fatal("not settled when due")
	}
	s.opts.PendingDelay = 0
	fresh := &Image{CreationDate: created}
	s.startPending(fresh)
	if fresh.State != StateAvailable || fresh.AvailableAt != nil {
		t.Fatalf("no delay: %s %v", fresh.State, fresh.AvailableAt)
	}
}

// An Outcome in the context makes the new image fail at its time, with
// its reason, instead of becoming available.
func TestPlannedOutcomeFails(t *testing.T) {
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	img := &Image{CreationDate: created, State: StateAvailable}
	ctx := WithOutcome(context.Background(), Outcome{After: 5 * time.Second, Reason: StateReason{Code: "Server.InternalError", Message: "boom"}})
	planOutcome(ctx, img)
	if img.Settle(created.Add(4*time.Second)) || img.State != StatePending || img.StateReason != nil {
		t.Fatalf("before its time: %s %+v", img.State, img.StateReason)
	}
	if !img.Settle(created.Add(5*time.Second)) || img.State != StateFailed || img.FailsWith != nil || img.AvailableAt != nil ||
		img.StateReason == nil || img.StateReason.Message != "boom" {
		t.Fatalf("at its time: %s %+v", img.State, img.StateReason)
	}
	plain := &Image{CreationDate: created, State: StateAvailable}
	planOutcome(context.Background(), plain)
	if plain.State != StateAvailable || plain.FailsWith != nil {
		t.Fatal("no outcome in the context changed the image")
	}
}
