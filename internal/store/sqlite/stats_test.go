package sqlite

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
)

// recorder is a store.Observer that keeps what it hears.
type recorder struct {
	mu      sync.Mutex
	batches []int
}

func (r *recorder) Commit(batch int, total, sync time.Duration) {
	if total < sync || sync < 0 {
		panic(fmt.Sprintf("commit took %v with an fsync of %v", total, sync))
	}
	r.mu.Lock()
	r.batches = append(r.batches, batch)
	r.mu.Unlock()
}

// The observer hears every commit with the number of updates it carried:
// queued updates fold into one, a failed one is not counted.
func TestObserverSeesGroupCommits(t *testing.T) {
	rec := &recorder{}
	opts := DefaultOptions()
	opts.Observer = rec
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), opts)
	defer s.Close()
	release := make(chan struct{})
	started := make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.Update(t.Context(), func(image.Tx) error { close(started); <-release; return nil })
	}()
	<-started
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_ = s.Update(t.Context(), func(tx image.Tx) error {
				return tx.SetSetting(t.Context(), "r", "a", fmt.Sprint(i), "v")
			})
		})
	}
	waitFor(t, func() bool { return len(s.queue) == n })
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	sum := 0
	for _, b := range rec.batches {
		sum += b
	}
	if sum != n+1 || len(rec.batches) > 2 || int64(len(rec.batches)) != s.commits.Load() {
		t.Fatalf("batches %v (%d commits) for %d updates", rec.batches, s.commits.Load(), n+1)
	}
}

func TestCacheStatsAndImagesPerRegion(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	ctx := t.Context()
	for i, region := range []string{"us-east-1", "us-east-1", "eu-west-1"} {
		img := &image.Image{Region: region, ID: fmt.Sprintf("ami-%017x", i+1), OwnerID: "111122223333",
			Name: fmt.Sprintf("img-%d", i), State: image.StateAvailable, CreationDate: time.Unix(1_700_000_000, 0)}
		if err := s.Update(ctx, func(tx image.Tx) error { return tx.InsertImage(ctx, img) }); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := s.ImagesPerRegion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 2 || counts["us-east-1"] != 2 || counts["eu-west-1"] != 1 {
		t.Fatalf("counts %v", counts)
	}
	h0, m0 := s.CacheStats()
	for range 2 {
		err := s.View(ctx, func(tx image.Tx) error {
			_, err := tx.Image(ctx, "us-east-1", "ami-00000000000000001")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	h, m := s.CacheStats()
	if h-h0 != 1 || m-m0 != 1 {
		t.Fatalf("two reads of one image: %d hits, %d misses; want 1 and 1", h-h0, m-m0)
	}
}
