package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
)

type batchObserver struct{ largest, commits atomic.Int64 }

func (o *batchObserver) Commit(batch int, _, _ time.Duration) {
	o.commits.Add(1)
	for {
		l := o.largest.Load()
		if int64(batch) <= l || o.largest.CompareAndSwap(l, int64(batch)) {
			return
		}
	}
}

// TestGroupCommitKeepsEachOutcome runs many concurrent Updates, which group
// commit packs into shared transactions: each keeps its own outcome. Those
// that fail after writing leave nothing behind, the others all persist,
// and a conflict-prone read-modify-write of one shared image loses no
// increment.
func TestGroupCommitKeepsEachOutcome(t *testing.T) {
	dsn := pgtest.Start(t)
	obs := &batchObserver{}
	s := openTest(t, dsn, Options{MaxConns: 4, Observer: obs})
	defer s.Close()
	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		return tx.InsertImage(ctx, cacheImage("ami-shared", "111111111111", "0"))
	})
	errDomain := errors.New("domain says no")
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ctx := t.Context()
			errs[i] = s.Update(ctx, func(tx image.Tx) error {
				if err := tx.InsertImage(ctx, cacheImage(fmt.Sprintf("ami-%017x", i), "111111111111", "")); err != nil {
					return err
				}
				if i%3 == 0 {
					return errDomain // after writing: nothing may stay
				}
				if i%5 == 0 {
					img, err := tx.Image(ctx, region, "ami-shared")
					if err != nil {
						return err
					}
					var v int
					fmt.Sscan(img.Description, &v)
					img.Description = fmt.Sprint(v + 1)
					return tx.UpdateImage(ctx, img)
				}
				return nil
			})
		})
	}
	wg.Wait()
	increments := 0
	for i, err := range errs {
		if i%3 == 0 {
			if !errors.Is(err, errDomain) {
				t.Errorf("update %d: %v, want the domain error", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
		if i%5 == 0 {
			increments++
		}
	}
	mustView(t, s, func(ctx context.Context, tx image.Tx) error {
		for i := range n {
			_, err := tx.Image(ctx, region, fmt.Sprintf("ami-%017x", i))
			if i%3 == 0 && !errors.Is(err, resource.ErrNotFound) {
				t.Errorf("image %d of a failed update: %v, want not found", i, err)
			}
			if i%3 != 0 && err != nil {
				t.Errorf("image %d of an acknowledged update: %v", i, err)
			}
		}
		img, err := tx.Image(ctx, region, "ami-shared")
		if err != nil {
			return err
		}
		if img.Description != fmt.Sprint(increments) {
			t.Errorf("shared counter %s after %d acknowledged increments", img.Description, increments)
		}
		return nil
	})
	t.Logf("%d commits, largest batch %d", obs.commits.Load(), obs.largest.Load())
}
