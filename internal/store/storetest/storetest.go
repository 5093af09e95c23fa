// Package storetest is the conformance suite every instance.Store engine must
// pass: one test body, run against each engine, so engines cannot drift apart
// silently.
//
// An engine's test calls Run (or RunEngine, to include the durability tests
// that reopen a store's data):
//
//	func TestConformance(t *testing.T) {
//		storetest.RunEngine(t, storetest.Engine{
//			Open:   func(t *testing.T) instance.Store { ... a new, empty store ... },
//			Reopen: func(t *testing.T, old instance.Store) instance.Store { ... same data as old ... },
//		})
//	}
//
// Beyond what internal/image/store.go spells out, the suite holds engines to
// these details, which callers rely on:
//   - ErrNotFound is resource.ErrNotFound itself, not a wrapper.
//   - Image and FindImages return launch permissions in the order they were
//     stored; empty slices may come back nil.
//
// The suite writes only what image.Tx allows (distinct launch permissions,
// distinct tag keys): what an engine does with anything else is not part
// of its contract, and the domain (internal/image) is tested for never
// asking it.
//   - Times keep millisecond precision (EC2's); locations are not kept.
//   - InsertImage and InsertInstance return resource.ErrExists itself when the
//     id exists in that region.
//   - Query.Region, InstanceQuery.Region, TagQuery.Region and
//     TagQuery.Account "" mean every one (export); results spanning regions
//     are still ordered by id (ListTags: resource id, then key).
//   - Tx write methods fail inside View.
//   - Update and View fail after Close.
package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
)

// Engine tells the suite how to obtain stores.
type Engine struct {
	// Open returns a new, empty store. The suite closes it; Open should
	// register cleanup only for what lies beneath (files, databases).
	Open func(t *testing.T) instance.Store
	// Reopen returns a new store over the data of old, which the suite has
	// closed. Nil skips the durability tests.
	Reopen func(t *testing.T, old instance.Store) instance.Store
}

// Run runs the suite on stores from open, skipping the tests that need to
// reopen a store's data.
func Run(t *testing.T, open func(t *testing.T) instance.Store) {
	RunEngine(t, Engine{Open: open})
}

// RunEngine runs the whole suite on e. Subtests run in parallel with each
// other, each on its own store.
func RunEngine(t *testing.T, e Engine) {
	if e.Open == nil {
		t.Fatal("storetest: Engine.Open is nil")
	}
	h := &harness{e: e}
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"ImageRoundTrip", testImageRoundTrip},
		{"NotFound", testNotFound},
		{"InsertDuplicateFails", testInsertDuplicate},
		{"RegionsAreSeparate", testRegionsAreSeparate},
		{"UpdateImageReplaces", testUpdateImageReplaces},
		{"DeleteImage", testDeleteImage},
		{"ImageIDByName", testImageIDByName},
		{"CountImages", testCountImages},
		{"CountImagesQuota", testCountImagesQuota},
		{"FindImages", testFindImages},
		{"FindImagesPagination", testFindImagesPagination},
		{"FindImagesMatchesDomain", testFindImagesMatchesDomain},
		{"FindImagesEveryRegion", testFindImagesEveryRegion},
		{"ImageIDAfter", testImageIDAfter},
		{"FindImagesInRanges", testFindImagesInRanges},
		{"MalformedLookups", testMalformedLookups},
		{"Tags", testTags},
		{"ListTags", testListTags},
		{"Settings", testSettings},
		{"ListSettings", testListSettings},
		{"InstanceRoundTrip", testInstanceRoundTrip},
		{"FindInstances", testFindInstances},
		{"Volumes", testVolumes},
		{"Snapshots", testSnapshots},
		{"ImageUsingSnapshot", testImageUsingSnapshot},
		{"ClientTokens", testClientTokens},
		{"ClientTokenWithItsLaunch", testClientTokenWithItsLaunch},
		{"UpdateErrorKeepsNothing", testUpdateErrorKeepsNothing},
		{"UpdateCanceledContext", testUpdateCanceledContext},
		{"ConcurrentFailuresAreIsolated", testConcurrentFailuresAreIsolated},
		{"ConcurrentReadModifyWrite", testConcurrentReadModifyWrite},
		{"ViewSeesCommitted", testViewSeesCommitted},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"ViewSnapshot", testViewSnapshot},
		{"ClosedStoreFails", testClosedStoreFails},
		{"DurableAfterReopen", testDurableAfterReopen},
		{"AuditAttachments", testAuditAttachments},
		{"AuditLookup", testAuditLookup},
		{"OutboxClaimOrder", testOutboxClaimOrder},
		{"OutboxSupersede", testOutboxSupersede},
		{"OutboxFailedUpdateKeepsNothing", testOutboxFailedUpdateKeepsNothing},
		{"OutboxConcurrentClaims", testOutboxConcurrentClaims},
		{"OutboxDurable", testOutboxDurable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, h)
		})
	}
}

type harness struct{ e Engine }

// handle closes its store exactly once, whether a test closes it or the
// cleanup does, so engines need not tolerate a second Close.
type handle struct {
	instance.Store
	once sync.Once
	err  error
}

func (h *handle) Close() error {
	h.once.Do(func() { h.err = h.Store.Close() })
	return h.err
}

// open returns a fresh store, closed when t ends.
func (h *harness) open(t *testing.T) *handle {
	t.Helper()
	s := h.e.Open(t)
	if s == nil {
		t.Fatal("storetest: Engine.Open returned nil")
	}
	hd := &handle{Store: s}
	t.Cleanup(func() {
		if err := hd.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return hd
}

// reopen closes s and opens its data again; the test is skipped when the
// engine cannot reopen.
func (h *harness) reopen(t *testing.T, s *handle) *handle {
	t.Helper()
	if h.e.Reopen == nil {
		t.Skip("storetest: engine has no Reopen")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := h.e.Reopen(t, s.Store)
	if r == nil {
		t.Fatal("storetest: Engine.Reopen returned nil")
	}
	hd := &handle{Store: r}
	t.Cleanup(func() {
		if err := hd.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return hd
}

// update runs fn in an Update and fails the test on error.
func update(t *testing.T, s instance.Store, fn func(ctx context.Context, tx image.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.Update(ctx, func(tx image.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test on error.
func view(t *testing.T, s instance.Store, fn func(ctx context.Context, tx image.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.View(ctx, func(tx image.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func insert(t *testing.T, s instance.Store, imgs ...*image.Image) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, img := range imgs {
			if err := tx.InsertImage(ctx, img); err != nil {
				return err
			}
		}
		return nil
	})
}

func getImage(t *testing.T, s instance.Store, region, id string) *image.Image {
	t.Helper()
	var img *image.Image
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		var err error
		img, err = tx.Image(ctx, region, id)
		return err
	})
	return img
}

func find(t *testing.T, s instance.Store, q image.Query) []*image.Image {
	t.Helper()
	var imgs []*image.Image
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		var err error
		imgs, err = tx.FindImages(ctx, q)
		return err
	})
	return imgs
}

func ids(imgs []*image.Image) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.ID
	}
	return out
}

// updateInstances and viewInstances are update and view through the
// transactions that hold instances.
func updateInstances(t *testing.T, s instance.Store, fn func(ctx context.Context, tx instance.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.UpdateInstances(ctx, func(tx instance.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func viewInstances(t *testing.T, s instance.Store, fn func(ctx context.Context, tx instance.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.ViewInstances(ctx, func(tx instance.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}
