package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
)

// testCountImages: the quota's count is the owner's images in one region
// that are not deregistered; pending and disabled ones count, and an
// update sees its own inserts.
func testCountImages(t *testing.T, h *harness) {
	s := h.open(t)
	const owner, other = "111111111111", "222222222222"
	gone := newImage(region, amiID(1), owner, "gone")
	gone.State = image.StateDeregistered
	pending := newImage(region, amiID(2), owner, "pending")
	pending.State = image.StatePending
	disabled := newImage(region, amiID(3), owner, "disabled")
	disabled.State = image.StateDisabled
	insert(t, s, gone, pending, disabled,
		newImage(region, amiID(4), owner, "available"),
		newImage(region, amiID(5), other, "someone else's"),
		newImage(region2, amiID(6), owner, "elsewhere"))
	tests := []struct {
		name, region, owner string
		want                int
	}{
		{"pending, disabled and available count", region, owner, 3},
		{"per owner", region, other, 1},
		{"per region", region2, owner, 1},
		{"none", region2, other, 0},
		{"malformed owner", region, "owner\x00", 0},
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, tc := range tests {
			if got, err := tx.CountImages(ctx, tc.region, tc.owner); err != nil || got != tc.want {
				t.Errorf("%s: CountImages(%q, %q) = %d, %v; want %d", tc.name, tc.region, tc.owner, got, err, tc.want)
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		if err := tx.InsertImage(ctx, newImage(region, amiID(7), owner, "new")); err != nil {
			return err
		}
		if got, err := tx.CountImages(ctx, region, owner); err != nil || got != 4 {
			t.Errorf("CountImages after an insert in the same update = %d, %v; want 4", got, err)
		}
		return nil
	})
}

var errQuota = errors.New("quota reached")

// testCountImagesQuota: concurrent updates that each count and insert
// below a quota never overshoot it, as the image quota relies on.
func testCountImagesQuota(t *testing.T, h *harness) {
	const n, quota, owner = 24, 10, "111111111111"
	s := h.open(t)
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			ctx := t.Context()
			errs[i] = s.Update(ctx, func(tx image.Tx) error {
				have, err := tx.CountImages(ctx, region, owner)
				if err != nil {
					return err
				}
				if have >= quota {
					return errQuota
				}
				return tx.InsertImage(ctx, newImage(region, amiID(i+1), owner, fmt.Sprint("img-", i)))
			})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, errQuota):
			t.Errorf("update %d: %v", i, err)
		}
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		got, err := tx.CountImages(ctx, region, owner)
		if err != nil || got != quota || ok != quota {
			t.Errorf("after %d concurrent registrations under a quota of %d: %d images, %d successes (%v)", n, quota, got, ok, err)
		}
		return nil
	})
}
