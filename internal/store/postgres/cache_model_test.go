package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
)

const region = "us-east-1"

func cacheImage(id, owner, desc string) *image.Image {
	return &image.Image{Region: region, ID: id, OwnerID: owner, Name: "n-" + id, Description: desc,
		State: image.StateAvailable, CreationDate: time.UnixMilli(1700000000000).UTC()}
}

func mustUpdate(t *testing.T, s *Store, fn func(ctx context.Context, tx image.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), func(tx image.Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func mustView(t *testing.T, s *Store, fn func(ctx context.Context, tx image.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), func(tx image.Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// TestCachedFindAgreesWithSQL is the sqlite engine's randomized cache test
// against real PostgreSQL, with two stores on one database as two processes
// would be: random writes, each through one store or the other, and after
// each, random reads through the first checked, inside each View, against
// what the database alone answers from the same View. A write through the
// other store reaches the reader's cache only by notification, so every
// step is a cross-process read-after-write check too.
func TestCachedFindAgreesWithSQL(t *testing.T) {
	const seed1, seed2 = 20261202, 15
	rng := rand.New(rand.NewPCG(seed1, seed2))
	t.Logf("seed %d,%d", seed1, seed2)
	dsn := pgtest.Start(t)
	s := openTest(t, dsn, testOptions)
	defer s.Close()
	other := openTest(t, dsn, testOptions)
	defer other.Close()
	ctx := t.Context()

	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}
	org := "arn:aws:organizations::111111111111:organization/o-1"
	ous := []string{"arn:aws:organizations::111111111111:ou/o-1/ou-a", "arn:aws:organizations::111111111111:ou/o-1/ou-b"}
	states := []string{image.StateAvailable, image.StateAvailable, image.StatePending, image.StateDeregistered, image.StateDisabled}
	pick := func(ss []string) string { return ss[rng.IntN(len(ss))] }
	imgID := func(n int) string { return fmt.Sprintf("ami-%017x", n) }
	randImage := func(n int) *image.Image {
		img := cacheImage(imgID(n), pick(accounts), "")
		img.Name = fmt.Sprintf("%s-%d", pick([]string{"web", "db", "web-old"}), rng.IntN(5))
		img.Description = fmt.Sprintf("d%d", rng.Int())
		img.State = pick(states)
		if rng.IntN(4) == 0 {
			img.OwnerAlias = "amazon"
		}
		for range rng.IntN(3) {
			var p image.LaunchPermission
			switch rng.IntN(4) {
			case 0:
				p = image.Public
			case 1:
				p = image.LaunchPermission{Kind: image.PermUser, Value: pick(accounts)}
			case 2:
				p = image.LaunchPermission{Kind: image.PermOrg, Value: org}
			default:
				p = image.LaunchPermission{Kind: image.PermOU, Value: pick(ous)}
			}
			if !slices.Contains(img.LaunchPermissions, p) {
				img.LaunchPermissions = append(img.LaunchPermissions, p)
			}
		}
		return img
	}
	const n = 120
	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		for i := range n {
			if err := tx.InsertImage(ctx, randImage(i)); err != nil {
				return err
			}
		}
		return nil
	})
	randQuery := func() image.Query {
		q := image.Query{Region: region, IncludeDeregistered: rng.IntN(3) == 0}
		if rng.IntN(4) != 0 { // the cached path: by id
			for range 1 + rng.IntN(6) {
				q.IDs = append(q.IDs, imgID(rng.IntN(n+10)))
			}
		}
		if rng.IntN(3) == 0 {
			q.OwnerIDs = []string{pick(accounts)}
		}
		if rng.IntN(6) == 0 {
			q.OwnerAliases = []string{"amazon"}
		}
		if rng.IntN(2) == 0 {
			v := &resource.Viewer{Account: pick(accounts)}
			if rng.IntN(2) == 0 {
				v.OrgARN, v.OUARNs = org, ous[:1+rng.IntN(2)]
			}
			q.VisibleTo = v
		}
		if rng.IntN(5) == 0 {
			q.GrantedAny = []image.LaunchPermission{image.Public, {Kind: image.PermUser, Value: pick(accounts)}}
		}
		switch rng.IntN(6) {
		case 0:
			q.Name = fmt.Sprintf("web-%d", rng.IntN(5))
		case 1:
			q.NamePrefix = "web-"
		}
		if rng.IntN(5) == 0 {
			q.AfterID = imgID(rng.IntN(n))
		}
		if rng.IntN(4) == 0 {
			q.Limit = 1 + rng.IntN(20)
		}
		return q
	}

	opts := cmp.Options{cmpopts.EquateEmpty(), cmpopts.EquateApproxTime(time.Millisecond)}
	for step := range 400 {
		// A write through either store: replace, delete or re-create one
		// image, tag it, or change a setting.
		w := s
		if rng.IntN(2) == 0 {
			w = other
		}
		id := rng.IntN(n)
		account := pick(accounts)
		tagValue := fmt.Sprintf("v%d", step)
		kind := rng.IntN(8)
		if rng.IntN(3) == 0 {
			// The other store reads it too, so that its cache may hold a
			// version the next write through s makes stale.
			mustView(t, other, func(ctx context.Context, tx image.Tx) error {
				_, err := tx.FindImages(ctx, image.Query{Region: region, IDs: []string{imgID(id)}})
				return err
			})
		}
		err := w.Update(ctx, func(tx image.Tx) error {
			switch kind {
			case 0:
				err := tx.DeleteImage(ctx, region, imgID(id))
				if errors.Is(err, resource.ErrNotFound) {
					return tx.InsertImage(ctx, randImage(id))
				}
				return err
			case 1:
				return tx.SetTags(ctx, region, account, imgID(id), []resource.Tag{{Key: "k", Value: tagValue}})
			case 2:
				return tx.SetSetting(ctx, region, account, "s", tagValue)
			case 6, 7:
				// Read, modify, write: the read may come from the
				// writer's cache (checkedImage).
				img, err := tx.Image(ctx, region, imgID(id))
				if errors.Is(err, resource.ErrNotFound) {
					return tx.InsertImage(ctx, randImage(id))
				} else if err != nil {
					return err
				}
				img.Description = fmt.Sprintf("d%d", rng.Int())
				if r := randImage(id); kind == 7 {
					img.LaunchPermissions = r.LaunchPermissions
				}
				return tx.UpdateImage(ctx, img)
			default:
				img := randImage(id)
				if err := tx.UpdateImage(ctx, img); errors.Is(err, resource.ErrNotFound) {
					return tx.InsertImage(ctx, img)
				} else {
					return err
				}
			}
		})
		if err != nil {
			t.Fatalf("step %d: write: %v", step, err)
		}
		for range 3 {
			q := randQuery()
			mustView(t, s, func(ctx context.Context, itx image.Tx) error {
				ptx := itx.(*tx)
				got, err := itx.FindImages(ctx, q)
				if err != nil {
					return err
				}
				one, oneErr := itx.Image(ctx, region, imgID(id))
				tags, err := itx.Tags(ctx, region, account, []string{imgID(id), imgID(id + 1)})
				if err != nil {
					return err
				}
				setting, settingErr := itx.Setting(ctx, region, account, "s")

				want, err := ptx.findImagesSQL(ctx, q)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, got, opts); diff != "" {
					t.Fatalf("step %d: query %+v (viewer %+v): cached answer differs from the database's (-sql +cached):\n%s", step, q, q.VisibleTo, diff)
				}
				wantOne, _, wantOneErr := ptx.imageSQL(ctx, region, imgID(id))
				if diff := cmp.Diff(wantOne, one, opts); diff != "" || !errors.Is(oneErr, wantOneErr) && !errors.Is(wantOneErr, oneErr) {
					t.Fatalf("step %d: Image %s: %v, database %v (-sql +cached):\n%s", step, imgID(id), oneErr, wantOneErr, diff)
				}
				wantTags, err := ptx.tagsSQL(ctx, region, account, []string{imgID(id), imgID(id + 1)})
				if err != nil {
					return err
				}
				if diff := cmp.Diff(wantTags, tags, opts); diff != "" {
					t.Fatalf("step %d: Tags: (-sql +cached):\n%s", step, diff)
				}
				var wantSetting string
				wantSettingErr := ptx.tx.QueryRow(ctx, `SELECT value FROM settings WHERE region = $1 AND account = $2 AND name = 's'`, region, account).Scan(&wantSetting)
				if (wantSettingErr == nil) != (settingErr == nil) || setting != wantSetting {
					t.Fatalf("step %d: Setting %q (%v), database %q (%v)", step, setting, settingErr, wantSetting, wantSettingErr)
				}
				return nil
			})
		}
	}
	if hits, misses := s.CacheStats(); hits == 0 || misses == 0 {
		t.Fatalf("cache hits %d, misses %d: the test did not exercise both paths", hits, misses)
	} else {
		t.Logf("cache hits %d, misses %d", hits, misses)
	}
}

// TestCrossStoreReadAfterWrite: a write acknowledged by one store is seen
// by the very next read through another store on the same database (as
// two processes), with the value cached there beforehand, many times and
// from several goroutines at once.
func TestCrossStoreReadAfterWrite(t *testing.T) {
	dsn := pgtest.Start(t)
	a := openTest(t, dsn, Options{MaxConns: 8})
	defer a.Close()
	b := openTest(t, dsn, Options{MaxConns: 8})
	defer b.Close()
	const workers, rounds = 8, 60
	mustUpdate(t, a, func(ctx context.Context, tx image.Tx) error {
		for w := range workers {
			if err := tx.InsertImage(ctx, cacheImage(fmt.Sprintf("ami-%017x", w), "111111111111", "0")); err != nil {
				return err
			}
		}
		return nil
	})
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			id := fmt.Sprintf("ami-%017x", w)
			for i := range rounds {
				writer, reader := a, b
				if i%2 == 1 {
					writer, reader = b, a
				}
				desc := fmt.Sprint(i + 1)
				// Read first, twice, so the reader holds the old value (the
				// second read comes from its cache).
				for range 2 {
					_ = reader.View(ctx, func(tx image.Tx) error { _, err := tx.Image(ctx, region, id); return err })
				}
				err := writer.Update(ctx, func(tx image.Tx) error {
					img, err := tx.Image(ctx, region, id)
					if err != nil {
						return err
					}
					img.Description = desc
					return tx.UpdateImage(ctx, img)
				})
				if err != nil {
					errs <- err
					return
				}
				var got string
				err = reader.View(ctx, func(tx image.Tx) error {
					imgs, err := tx.FindImages(ctx, image.Query{Region: region, IDs: []string{id}})
					if err == nil && len(imgs) == 1 {
						got = imgs[0].Description
					}
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				if got != desc {
					errs <- fmt.Errorf("%s round %d: read %q after the write of %q was acknowledged", id, i, got, desc)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ha, _ := a.CacheStats()
	hb, _ := b.CacheStats()
	if ha == 0 || hb == 0 {
		t.Fatalf("cache hits %d and %d: the reads never used the cache", ha, hb)
	}
}

// TestStaleCachedReadInUpdate: an Update that reads an image through a
// cache the database has moved past (another process's commit, not yet
// heard of) must not write over that commit: its check fails, and its
// retry reads the database. The stale entry is planted, as a lagging
// listener would leave it.
func TestStaleCachedReadInUpdate(t *testing.T) {
	dsn := pgtest.Start(t)
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprintf("group=%v", group), func(t *testing.T) {
			a := openTest(t, dsn, testOptions)
			defer a.Close()
			b := openTest(t, dsn, testOptions)
			defer b.Close()
			id := fmt.Sprintf("ami-%017x", map[bool]int{false: 1, true: 2}[group])
			mustUpdate(t, a, func(ctx context.Context, tx image.Tx) error {
				return tx.InsertImage(ctx, cacheImage(id, "111111111111", "a"))
			})
			// a caches the image as it is now, with its version (the first
			// View waits for a's listener to hear of the insert, whose
			// invalidation would refuse what it read).
			for range 2 {
				mustView(t, a, func(ctx context.Context, tx image.Tx) error { _, err := tx.Image(ctx, region, id); return err })
			}
			old, ver := a.cache.ImageVersion(region, id)
			if old == nil || ver == 0 {
				t.Fatalf("cache holds %v, version %d; want the image and its version", old, ver)
			}
			// b appends to the description; a's listener drops the entry
			// in its own time, and the entry is planted back as it was.
			appendDesc := func(s *Store, suffix string) {
				mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
					img, err := tx.Image(ctx, region, id)
					if err != nil {
						return err
					}
					img.Description += suffix
					return tx.UpdateImage(ctx, img)
				})
			}
			appendDesc(b, "b")
			// Plant only after a's listener has dropped the entry for b's
			// write: a drop arriving after the plant would take the stale
			// entry away before a reads it, and nothing would be tested.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				if img, v := a.cache.ImageVersion(region, id); img == nil || v != ver {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("a's listener never dropped the entry for b's write")
				}
			}
			a.cache.PutImageVersion(a.cache.Now(), old, ver)
			if got, _ := a.cache.ImageVersion(region, id); got == nil || got.Description != "a" {
				t.Fatal("could not plant the stale entry")
			}
			if group {
				// Enough Updates at once that some share a transaction.
				var wg sync.WaitGroup
				for i := range 40 {
					wg.Go(func() {
						if i == 0 {
							appendDesc(a, "c")
							return
						}
						mustUpdate(t, a, func(ctx context.Context, tx image.Tx) error {
							return tx.SetSetting(ctx, region, "111111111111", fmt.Sprint(i), "x")
						})
					})
				}
				wg.Wait()
			} else {
				appendDesc(a, "c")
				if a.retries.Load() == 0 {
					t.Fatal("no retry: the check did not catch the stale read")
				}
			}
			var got string
			mustView(t, b, func(ctx context.Context, tx image.Tx) error {
				img, err := tx.Image(ctx, region, id)
				if err == nil {
					got = img.Description
				}
				return err
			})
			if got != "abc" {
				t.Fatalf("description %q after a, b and c each appended; want %q (an update was lost)", got, "abc")
			}
		})
	}
}
