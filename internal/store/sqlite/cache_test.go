package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

const region = "us-east-1"

func cacheImage(id, owner, desc string) *image.Image {
	return &image.Image{Region: region, ID: id, OwnerID: owner, Name: "n-" + id, Description: desc,
		State: image.StateAvailable, CreationDate: time.UnixMilli(1700000000000).UTC()}
}

// storeWith opens a fresh store holding imgs, closed when the test ends.
func storeWith(t *testing.T, imgs ...*image.Image) *Store {
	t.Helper()
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	t.Cleanup(func() { s.Close() })
	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, img := range imgs {
			if err := tx.InsertImage(ctx, img); err != nil {
				return err
			}
		}
		return nil
	})
	return s
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

func setDescription(t *testing.T, s *Store, id, desc string) {
	t.Helper()
	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		img, err := tx.Image(ctx, region, id)
		if err != nil {
			return err
		}
		img.Description = desc
		return tx.UpdateImage(ctx, img)
	})
}

// readAll reads the image three ways (Image, FindImages by id, FindImages
// by owner) plus the owner's tags on it and a setting, in one View.
type readAll struct {
	byID, byIDs, byOwner string // descriptions; "" when absent
	tags                 string
	setting              string
}

func read(t *testing.T, s *Store, id, owner string) readAll {
	t.Helper()
	var r readAll
	mustView(t, s, func(ctx context.Context, tx image.Tx) error {
		img, err := tx.Image(ctx, region, id)
		switch {
		case err == nil:
			r.byID = img.Description
		case !errors.Is(err, resource.ErrNotFound):
			return err
		}
		imgs, err := tx.FindImages(ctx, image.Query{Region: region, IDs: []string{id}})
		if err != nil {
			return err
		}
		if len(imgs) == 1 {
			r.byIDs = imgs[0].Description
		}
		imgs, err = tx.FindImages(ctx, image.Query{Region: region, OwnerIDs: []string{owner}})
		if err != nil {
			return err
		}
		for _, img := range imgs {
			if img.ID == id {
				r.byOwner = img.Description
			}
		}
		tags, err := tx.Tags(ctx, region, owner, []string{id})
		if err != nil {
			return err
		}
		for _, tg := range tags[id] {
			r.tags += tg.Key + "=" + tg.Value + ";"
		}
		v, err := tx.Setting(ctx, region, owner, "color")
		switch {
		case err == nil:
			r.setting = v
		case !errors.Is(err, resource.ErrNotFound):
			return err
		}
		return nil
	})
	return r
}

// TestCacheReadsItsWrites: every kind of write is seen by the next View,
// whatever the cache held before it.
func TestCacheReadsItsWrites(t *testing.T) {
	const id, owner = "ami-00000000000000001", "111111111111"
	s := storeWith(t, cacheImage(id, owner, "one"))
	want := readAll{byID: "one", byIDs: "one", byOwner: "one"}
	check := func(step string) {
		t.Helper()
		for pass := range 2 { // the first pass may fill the cache, the second reads it
			if got := read(t, s, id, owner); got != want {
				t.Fatalf("%s, pass %d: read %+v, want %+v", step, pass, got, want)
			}
		}
	}
	check("insert")

	setDescription(t, s, id, "two")
	want.byID, want.byIDs, want.byOwner = "two", "two", "two"
	check("update")

	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		return tx.SetTags(ctx, region, owner, id, []resource.Tag{{Key: "k", Value: "v"}})
	})
	want.tags = "k=v;"
	check("set tags")

	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		return tx.SetSetting(ctx, region, owner, "color", "blue")
	})
	want.setting = "blue"
	check("set setting")

	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		return tx.SetSetting(ctx, region, owner, "color", "red")
	})
	want.setting = "red"
	check("change setting")

	// A failed update changes nothing, in the cache as on disk.
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx image.Tx) error {
		img, err := tx.Image(t.Context(), region, id)
		if err != nil {
			return err
		}
		img.Description = "never"
		if err := tx.UpdateImage(t.Context(), img); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing update: %v", err)
	}
	check("failed update")

	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		return tx.DeleteImage(ctx, region, id)
	})
	want = readAll{setting: "red"}
	check("delete")
}

// TestCacheKeepsNoSnapshotOlderThanACommit is the race the commit numbers
// exist for: a View whose snapshot predates a commit reads the old image
// from SQLite after the writer dropped it from the cache. That View must
// see its snapshot, and the old image must not enter the cache.
func TestCacheKeepsNoSnapshotOlderThanACommit(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	const id, other, owner = "ami-00000000000000001", "ami-00000000000000002", "111111111111"
	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		if err := tx.InsertImage(ctx, cacheImage(id, owner, "old")); err != nil {
			return err
		}
		return tx.InsertImage(ctx, cacheImage(other, owner, "x"))
	})

	mustView(t, s, func(ctx context.Context, tx image.Tx) error {
		// The first SQL read fixes the snapshot.
		if _, err := tx.Image(ctx, region, other); err != nil {
			return err
		}
		setDescription(t, s, id, "new") // committed and acknowledged
		img, err := tx.Image(ctx, region, id)
		if err != nil {
			return err
		}
		if img.Description != "old" {
			t.Errorf("View with an older snapshot read %q, want its snapshot's %q", img.Description, "old")
		}
		return nil
	})
	for range 2 {
		if got := read(t, s, id, owner); got.byID != "new" || got.byIDs != "new" || got.byOwner != "new" {
			t.Fatalf("after the old View: %+v, want description new everywhere", got)
		}
	}

	// The same for a listing: its ids come from the old snapshot and the
	// images it reads must not be kept.
	mustView(t, s, func(ctx context.Context, tx image.Tx) error {
		if _, err := tx.Tags(ctx, region, owner, []string{"ami-00000000000000003"}); err != nil {
			return err
		}
		setDescription(t, s, id, "newer")
		imgs, err := tx.FindImages(ctx, image.Query{Region: region, OwnerIDs: []string{owner}})
		if err != nil {
			return err
		}
		if len(imgs) != 2 || imgs[0].Description != "new" {
			t.Errorf("listing in the old snapshot: %d images, first %q; want 2, %q", len(imgs), imgs[0].Description, "new")
		}
		return nil
	})
	if got := read(t, s, id, owner); got.byID != "newer" || got.byOwner != "newer" {
		t.Fatalf("after the old listing: %+v, want newer", got)
	}
}

// TestCacheUnderConcurrentWrites: writers bump counters in descriptions
// while readers list and fetch; no reader ever sees a counter go back after
// it saw a newer one acknowledged, and the end state is exact.
func TestCacheUnderConcurrentWrites(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	const owner, n = "111111111111", 8
	ids := make([]string, n)
	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		for i := range ids {
			ids[i] = fmt.Sprintf("ami-%017d", i+1)
			if err := tx.InsertImage(ctx, cacheImage(ids[i], owner, "0")); err != nil {
				return err
			}
		}
		return nil
	})
	const rounds = 60
	var acked [n]struct {
		sync.Mutex
		v int
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := 1; v <= rounds; v++ {
				err := s.Update(ctx, func(tx image.Tx) error {
					img, err := tx.Image(ctx, region, ids[w])
					if err != nil {
						return err
					}
					img.Description = strconv.Itoa(v)
					return tx.UpdateImage(ctx, img)
				})
				if err != nil {
					errs <- err
					return
				}
				acked[w].Lock()
				acked[w].v = v
				acked[w].Unlock()
			}
		}()
	}
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for ctx.Err() == nil {
				w := r % n
				acked[w].Lock()
				floor := acked[w].v
				acked[w].Unlock()
				var got int
				err := s.View(ctx, func(tx image.Tx) error {
					var imgs []*image.Image
					var err error
					if r%2 == 0 {
						imgs, err = tx.FindImages(ctx, image.Query{Region: region, OwnerIDs: []string{owner}})
					} else {
						imgs, err = tx.FindImages(ctx, image.Query{Region: region, IDs: []string{ids[w]}})
					}
					for _, img := range imgs {
						if img.ID == ids[w] {
							got, _ = strconv.Atoi(img.Description)
						}
					}
					return err
				})
				if err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
				if got < floor && ctx.Err() == nil {
					errs <- fmt.Errorf("reader saw %s at %d after %d was acknowledged", ids[w], got, floor)
					return
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range ids {
		if got := read(t, s, id, owner); got.byID != strconv.Itoa(rounds) || got.byOwner != strconv.Itoa(rounds) {
			t.Errorf("%s at the end: %+v, want %d", id, got, rounds)
		}
	}
}

// TestSecondStoreOnOneFileRefused: the cache is exact only while one Store
// writes the file, so a second one is refused until the first closes.
func TestSecondStoreOnOneFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "amigo.db")
	s := openTest(t, path, DefaultOptions())
	if _, err := Open(path, DefaultOptions()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open: %v, want an in-use error", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, DefaultOptions())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCacheServesWithoutSQL: a warm by-id read needs no read transaction,
// which is the point of the cache.
func TestCacheServesWithoutSQL(t *testing.T) {
	const id, owner = "ami-00000000000000001", "111111111111"
	s := storeWith(t, cacheImage(id, owner, "d"))
	read(t, s, id, owner) // warm
	mustView(t, s, func(ctx context.Context, itx image.Tx) error {
		if _, err := itx.FindImages(ctx, image.Query{Region: region, IDs: []string{id}}); err != nil {
			return err
		}
		if _, err := itx.Tags(ctx, region, owner, []string{id}); err != nil {
			return err
		}
		if _, err := itx.Setting(ctx, region, owner, "color"); !errors.Is(err, resource.ErrNotFound) {
			return fmt.Errorf("setting: %v", err)
		}
		if itx.(*tx).sqlTx != nil {
			t.Error("a warm by-id read began a SQL transaction")
		}
		return nil
	})
}

// TestImageCopiesArePrivate: Image hands out copies its caller may change
// through and through without reaching the cache.
func TestImageCopiesArePrivate(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	const id, owner = "ami-00000000000000001", "111111111111"
	img := cacheImage(id, owner, "d")
	img.LaunchPermissions = []image.LaunchPermission{{Kind: image.PermUser, Value: "222222222222"}}
	img.BlockDeviceMappings = []image.BlockDeviceMapping{{DeviceName: "/dev/xvda", Ebs: &image.EbsBlockDevice{SnapshotID: "snap-1"}}}
	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error { return tx.InsertImage(ctx, img) })
	for range 3 {
		mustView(t, s, func(ctx context.Context, tx image.Tx) error {
			got, err := tx.Image(ctx, region, id)
			if err != nil {
				return err
			}
			if got.LaunchPermissions[0].Value != "222222222222" || got.BlockDeviceMappings[0].Ebs.SnapshotID != "snap-1" || got.Description != "d" {
				t.Fatalf("image changed through an earlier copy: %+v", got)
			}
			got.LaunchPermissions[0].Value = "333333333333"
			got.BlockDeviceMappings[0].Ebs.SnapshotID = "snap-2"
			got.Description = "changed"
			return nil
		})
	}
	mustView(t, s, func(ctx context.Context, tx image.Tx) error {
		imgs, err := tx.FindImages(ctx, image.Query{Region: region, OwnerIDs: []string{owner}})
		if err == nil && (len(imgs) != 1 || imgs[0].LaunchPermissions[0].Value != "222222222222" || imgs[0].BlockDeviceMappings[0].Ebs.SnapshotID != "snap-1") {
			t.Errorf("listing after changing copies: %+v", imgs[0])
		}
		return err
	})
}

// TestReadOnlyAlongsideOwner: an export reads a file a server owns, sees
// its later writes (it has no cache to go stale), cannot write, and does
// not keep a server from taking a file it opened first.
func TestReadOnlyAlongsideOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "amigo.db")
	ro := DefaultOptions()
	ro.ReadOnly = true

	// A read-only store opens only an existing file, and takes no lock:
	// a server can take a file it opened first.
	if _, err := Open(path, ro); err == nil {
		t.Fatal("a read-only open of a missing file succeeded")
	}
	if err := openTest(t, path, DefaultOptions()).Close(); err != nil {
		t.Fatal(err)
	}
	first := openTest(t, path, ro)
	owner := openTest(t, path, DefaultOptions())
	defer owner.Close()
	defer first.Close()

	const id, owned = "ami-00000000000000001", "111111111111"
	mustUpdate(t, owner, func(ctx context.Context, tx image.Tx) error {
		return tx.InsertImage(ctx, cacheImage(id, owned, "one"))
	})
	reader := openTest(t, path, ro)
	defer reader.Close()
	for _, want := range []string{"one", "two"} {
		for _, s := range []*Store{first, reader} {
			if got := read(t, s, id, owned); got.byID != want || got.byOwner != want {
				t.Fatalf("read-only store read %+v, want %q", got, want)
			}
		}
		setDescription(t, owner, id, "two")
	}
	err := reader.Update(t.Context(), func(image.Tx) error { return nil })
	if !errors.Is(err, errReadOnlyStore) {
		t.Fatalf("Update on a read-only store: %v", err)
	}
}

// TestReadOnlyCreatesNothing: an export of a store on a read-only mount
// must not need to create a file (the lock file used to be created). The
// mount is played: root may write anywhere but on a real read-only mount.
func TestReadOnlyCreatesNothing(t *testing.T) {
	writable := folderWritable
	folderWritable = func(string) bool { return false }
	defer func() { folderWritable = writable }()
	dir := t.TempDir()
	path := filepath.Join(dir, "amigo.db")
	owner := openTest(t, path, DefaultOptions())
	const id, owned = "ami-00000000000000001", "111111111111"
	mustUpdate(t, owner, func(ctx context.Context, tx image.Tx) error {
		return tx.InsertImage(ctx, cacheImage(id, owned, "one"))
	})
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + "-lock")
	list := func() []string {
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	before := list()
	ro := DefaultOptions()
	ro.ReadOnly = true
	reader := openTest(t, path, ro)
	if got := read(t, reader, id, owned); got.byID != "one" {
		t.Fatalf("read %+v", got)
	}
	if err := reader.Close(); err != nil {
		t.Fatal(err)
	}
	if after := list(); !slices.Equal(before, after) {
		t.Errorf("a read-only open changed the folder from %v to %v", before, after)
	}
}
