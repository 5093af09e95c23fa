package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func testUpdateErrorKeepsNothing(t *testing.T, h *harness) {
	s := h.open(t)
	existing := fullImage(region, amiID(1))
	doomed := newImage(region, amiID(2), acct1, "doomed")
	insert(t, s, existing, doomed)

	boom := fmt.Errorf("wrapped: %w", errors.New("boom"))
	ctx := t.Context()
	err := s.UpdateInstances(ctx, func(tx instance.Tx) error {
		if err := tx.InsertImage(ctx, newImage(region, amiID(3), acct1, "new", image.Public)); err != nil {
			return err
		}
		changed := existing.Clone()
		changed.Name = "changed"
		changed.LaunchPermissions = nil
		if err := tx.UpdateImage(ctx, changed); err != nil {
			return err
		}
		if err := tx.DeleteImage(ctx, region, doomed.ID); err != nil {
			return err
		}
		if err := tx.SetTags(ctx, region, acct1, amiID(3), []resource.Tag{{Key: "k", Value: "v"}}); err != nil {
			return err
		}
		if err := tx.SetSetting(ctx, region, acct1, "s", "v"); err != nil {
			return err
		}
		if err := tx.InsertInstance(ctx, newInstance(region, instanceID(1), acct1, amiID(3))); err != nil {
			return err
		}
		inst, err := tx.Instance(ctx, region, instanceID(1))
		if err != nil {
			return err
		}
		inst.State = instance.StateStopped
		if err := tx.UpdateInstance(ctx, inst); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update error = %v, want the function's own error value", err)
	}

	viewInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		if _, err := tx.Image(ctx, region, amiID(3)); err != resource.ErrNotFound {
			t.Errorf("inserted image kept: error = %v", err)
		}
		got, err := tx.Image(ctx, region, existing.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(existing, got, equateEmpty); diff != "" {
			t.Errorf("updated image kept changes (-want +got):\n%s", diff)
		}
		if _, err := tx.Image(ctx, region, doomed.ID); err != nil {
			t.Errorf("deleted image stayed deleted: %v", err)
		}
		tags, err := tx.Tags(ctx, region, acct1, []string{amiID(3)})
		if err != nil {
			return err
		}
		if len(tags) != 0 {
			t.Errorf("tags kept: %v", tags)
		}
		if _, err := tx.Setting(ctx, region, acct1, "s"); err != resource.ErrNotFound {
			t.Errorf("setting kept: error = %v", err)
		}
		if _, err := tx.Instance(ctx, region, instanceID(1)); err != resource.ErrNotFound {
			t.Errorf("instance kept: error = %v", err)
		}
		return nil
	})
}

func testUpdateCanceledContext(t *testing.T, h *harness) {
	s := h.open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Update(ctx, func(tx image.Tx) error {
		return tx.InsertImage(ctx, newImage(region, amiID(1), acct1, "x"))
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context: error = %v, want context.Canceled", err)
	}
	if got := find(t, s, image.Query{Region: region, IncludeDeregistered: true}); len(got) != 0 {
		t.Errorf("canceled Update wrote %v", ids(got))
	}
}

// testConcurrentFailuresAreIsolated runs many updates at once, some failing
// by their own choice and some on a store error, so that an engine that
// batches them must undo the failures alone.
func testConcurrentFailuresAreIsolated(t *testing.T, h *harness) {
	s := h.open(t)
	taken := newImage(region, amiID(1000), acct1, "taken")
	insert(t, s, taken)

	const n = 48
	var (
		start    = make(chan struct{})
		wg       sync.WaitGroup
		returned [n]error // what each fn returned last
		got      [n]error // what each Update returned
	)
	for i := range n {
		wg.Go(func() {
			<-start
			ctx := t.Context()
			got[i] = s.Update(ctx, func(tx image.Tx) error {
				returned[i] = func() error {
					if err := tx.InsertImage(ctx, newImage(region, amiID(i+1), acct1, fmt.Sprint(i))); err != nil {
						return err
					}
					if err := tx.SetTags(ctx, region, acct1, amiID(i+1), []resource.Tag{{Key: "n", Value: fmt.Sprint(i)}}); err != nil {
						return err
					}
					switch i % 3 {
					case 0:
						return fmt.Errorf("function %d fails", i)
					case 1:
						return nil
					default:
						return tx.InsertImage(ctx, taken) // a store error
					}
				}()
				return returned[i]
			})
		})
	}
	close(start)
	wg.Wait()

	view(t, s, func(ctx context.Context, tx image.Tx) error {
		for i := range n {
			ok := i%3 == 1
			switch {
			case ok && got[i] != nil:
				t.Errorf("update %d failed: %v", i, got[i])
			case !ok && got[i] == nil:
				t.Errorf("update %d succeeded, want its error", i)
			case !ok && got[i] != returned[i]:
				t.Errorf("update %d error = %v, want its function's %v", i, got[i], returned[i])
			}
			_, err := tx.Image(ctx, region, amiID(i+1))
			switch {
			case ok && err != nil:
				t.Errorf("image of successful update %d: %v", i, err)
			case !ok && err != resource.ErrNotFound:
				t.Errorf("image of failed update %d: error = %v, want resource.ErrNotFound", i, err)
			}
			tags, err := tx.Tags(ctx, region, acct1, []string{amiID(i + 1)})
			if err != nil {
				return err
			}
			if want := map[string][]resource.Tag{amiID(i + 1): {{Key: "n", Value: fmt.Sprint(i)}}}; ok && !cmp.Equal(want, tags) {
				t.Errorf("tags of successful update %d = %v", i, tags)
			} else if !ok && len(tags) != 0 {
				t.Errorf("tags of failed update %d kept: %v", i, tags)
			}
		}
		return nil
	})
}

// testConcurrentReadModifyWrite has many goroutines read one image and write
// it back with one more launch permission each. Serialisable updates lose
// none of them.
func testConcurrentReadModifyWrite(t *testing.T, h *harness) {
	for _, n := range []int{24, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := h.open(t)
			insert(t, s, newImage(region, amiID(1), acct1, "shared"))
			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make([]error, n)
			want := make([]string, n)
			for i := range n {
				want[i] = fmt.Sprintf("%012d", 500000000000+i)
				wg.Go(func() {
					<-start
					ctx := t.Context()
					errs[i] = s.Update(ctx, func(tx image.Tx) error {
						img, err := tx.Image(ctx, region, amiID(1))
						if err != nil {
							return err
						}
						img.LaunchPermissions = append(img.LaunchPermissions, image.LaunchPermission{Kind: image.PermUser, Value: want[i]})
						img.Description = want[i]
						return tx.UpdateImage(ctx, img)
					})
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("update %d: %v", i, err)
				}
			}
			img := getImage(t, s, region, amiID(1))
			var gotAccts []string
			for _, p := range img.LaunchPermissions {
				gotAccts = append(gotAccts, p.Value)
			}
			slices.Sort(gotAccts)
			if diff := cmp.Diff(want, gotAccts); diff != "" {
				t.Errorf("launch permissions after %d concurrent updates (-want +got):\n%s", n, diff)
			}
			// The last writer's description matches its permission, the
			// last one in the list.
			if last := img.LaunchPermissions[len(img.LaunchPermissions)-1].Value; img.Description != last {
				t.Errorf("description %q, last permission %q: writes interleaved", img.Description, last)
			}
		})
	}
}

func testViewSeesCommitted(t *testing.T, h *harness) {
	s := h.open(t)
	for i := range 10 {
		v := fmt.Sprint(i)
		update(t, s, func(ctx context.Context, tx image.Tx) error {
			return tx.SetSetting(ctx, region, acct1, "counter", v)
		})
		// From another goroutine too: visibility must not depend on
		// reusing the updating goroutine's connection.
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx := t.Context()
			err := s.View(ctx, func(tx image.Tx) error {
				got, err := tx.Setting(ctx, region, acct1, "counter")
				if err != nil {
					return err
				}
				if got != v {
					t.Errorf("View after Update %d reads %q", i, got)
				}
				return nil
			})
			if err != nil {
				t.Errorf("View: %v", err)
			}
		}()
		<-done
	}
}

func testViewIsReadOnly(t *testing.T, h *harness) {
	s := h.open(t)
	img := newImage(region, amiID(1), acct1, "web")
	insert(t, s, img)
	inst := newInstance(region, instanceID(1), acct1, img.ID)
	updateInstances(t, s, func(ctx context.Context, tx instance.Tx) error { return tx.InsertInstance(ctx, inst) })
	ctx := t.Context()
	err := s.ViewInstances(ctx, func(tx instance.Tx) error {
		stopped := *inst
		stopped.State = instance.StateStopped
		changed := img.Clone()
		changed.Name = "changed"
		writes := map[string]error{
			"InsertImage":    tx.InsertImage(ctx, newImage(region, amiID(2), acct1, "new")),
			"UpdateImage":    tx.UpdateImage(ctx, changed),
			"DeleteImage":    tx.DeleteImage(ctx, region, img.ID),
			"SetTags":        tx.SetTags(ctx, region, acct1, img.ID, []resource.Tag{{Key: "k", Value: "v"}}),
			"SetSetting":     tx.SetSetting(ctx, region, acct1, "s", "v"),
			"InsertInstance": tx.InsertInstance(ctx, newInstance(region, instanceID(2), acct1, img.ID)),
			"UpdateInstance": tx.UpdateInstance(ctx, &stopped),
		}
		for name, err := range writes {
			if err == nil {
				t.Errorf("%s inside View succeeded", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	if got := ids(find(t, s, image.Query{Region: region, IncludeDeregistered: true})); !slices.Equal(got, []string{img.ID}) {
		t.Errorf("images after writes in View: %v", got)
	}
	if got := getImage(t, s, region, img.ID); got.Name != "web" {
		t.Errorf("image renamed in View: %q", got.Name)
	}
	if got := instanceIDs(findInstances(t, s, instance.Query{})); len(got) != 1 {
		t.Errorf("instances after writes in View: %v", got)
	}
	if got := getInstance(t, s, region, inst.ID); got.State != instance.StateRunning {
		t.Errorf("instance changed in View: %q", got.State)
	}
}

// testViewSnapshot commits an update while a View is open: the View keeps
// reading what it saw first, and the update does not wait for the View.
func testViewSnapshot(t *testing.T, h *harness) {
	s := h.open(t)
	insert(t, s, newImage(region, amiID(1), acct1, "before"))
	updated := make(chan error, 1)
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		img, err := tx.Image(ctx, region, amiID(1))
		if err != nil {
			return err
		}
		if img.Name != "before" {
			t.Fatalf("name %q", img.Name)
		}
		go func() {
			updated <- s.Update(t.Context(), func(tx image.Tx) error {
				img := img.Clone()
				img.Name = "after"
				if err := tx.UpdateImage(t.Context(), img); err != nil {
					return err
				}
				return tx.InsertImage(t.Context(), newImage(region, amiID(2), acct1, "after"))
			})
		}()
		select {
		case err := <-updated:
			if err != nil {
				t.Errorf("Update during View: %v", err)
			}
			updated <- nil
		case <-time.After(10 * time.Second):
			t.Error("Update waited for an open View")
			return nil
		}
		img, err = tx.Image(ctx, region, amiID(1))
		if err != nil {
			return err
		}
		if img.Name != "before" {
			t.Errorf("View saw a later commit: name %q", img.Name)
		}
		found, err := tx.FindImages(ctx, image.Query{Region: region})
		if err != nil {
			return err
		}
		if got := ids(found); !slices.Equal(got, []string{amiID(1)}) {
			t.Errorf("View saw a later insert: %v", got)
		}
		return nil
	})
	<-updated
	if got := getImage(t, s, region, amiID(1)); got.Name != "after" {
		t.Errorf("after the View: name %q, want the update's", got.Name)
	}
}

func testClosedStoreFails(t *testing.T, h *harness) {
	s := h.open(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	ran := false
	if err := s.Update(ctx, func(tx image.Tx) error { ran = true; return nil }); err == nil {
		t.Error("Update after Close succeeded")
	}
	if ran {
		t.Error("Update after Close ran its function")
	}
	if err := s.View(ctx, func(tx image.Tx) error { return nil }); err == nil {
		t.Error("View after Close succeeded")
	}
	if err := s.UpdateInstances(ctx, func(tx instance.Tx) error { ran = true; return nil }); err == nil || ran {
		t.Error("UpdateInstances after Close succeeded")
	}
	if err := s.ViewInstances(ctx, func(tx instance.Tx) error { return nil }); err == nil {
		t.Error("ViewInstances after Close succeeded")
	}
}

func testDurableAfterReopen(t *testing.T, h *harness) {
	s := h.open(t)
	full := fullImage(region, amiID(1))
	insert(t, s, full, newImage(region, amiID(2), acct1, "deleted"))
	updateInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		if err := tx.SetTags(ctx, region, acct2, full.ID, []resource.Tag{{Key: "Team", Value: "blue"}}); err != nil {
			return err
		}
		if err := tx.SetSetting(ctx, region, acct1, "block-public-access", "block-new-sharing"); err != nil {
			return err
		}
		if err := tx.InsertInstance(ctx, fullInstance(region, instanceID(1))); err != nil {
			return err
		}
		return tx.DeleteImage(ctx, region, amiID(2))
	})

	// Updates racing with Close: whatever was acknowledged must be on disk,
	// whatever failed must not.
	const n = 32
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(tx image.Tx) error {
				return tx.InsertImage(t.Context(), newImage(region, amiID(100+i), acct1, "racer"))
			})
		})
	}
	time.Sleep(time.Millisecond)
	r := h.reopen(t, s)
	wg.Wait()
	s = r

	if diff := cmp.Diff(full, getImage(t, s, region, full.ID), equateEmpty); diff != "" {
		t.Errorf("image after reopen (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(fullInstance(region, instanceID(1)), getInstance(t, s, region, instanceID(1)), equateEmpty); diff != "" {
		t.Errorf("instance after reopen (-want +got):\n%s", diff)
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		if _, err := tx.Image(ctx, region, amiID(2)); err != resource.ErrNotFound {
			t.Errorf("deleted image after reopen: error = %v", err)
		}
		tags, err := tx.Tags(ctx, region, acct2, []string{full.ID})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(map[string][]resource.Tag{full.ID: {{Key: "Team", Value: "blue"}}}, tags); diff != "" {
			t.Errorf("tags after reopen (-want +got):\n%s", diff)
		}
		if v, err := tx.Setting(ctx, region, acct1, "block-public-access"); err != nil || v != "block-new-sharing" {
			t.Errorf("setting after reopen = %q, %v", v, err)
		}
		acked := 0
		for i, uerr := range errs {
			_, err := tx.Image(ctx, region, amiID(100+i))
			switch {
			case uerr == nil && err != nil:
				t.Errorf("acknowledged update %d lost: %v", i, err)
			case uerr != nil && err != resource.ErrNotFound:
				t.Errorf("update %d failed (%v) but its image is there (%v)", i, uerr, err)
			case uerr == nil:
				acked++
			}
		}
		t.Logf("%d of %d updates racing with Close were acknowledged", acked, n)
		return nil
	})
}
