package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func findInstances(t *testing.T, s instance.Store, q instance.Query) []*instance.Instance {
	t.Helper()
	var insts []*instance.Instance
	viewInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		var err error
		insts, err = tx.FindInstances(ctx, q)
		return err
	})
	return insts
}

func instanceIDs(insts []*instance.Instance) []string {
	out := make([]string, len(insts))
	for i, inst := range insts {
		out[i] = inst.Region + "/" + inst.ID
	}
	return out
}

func getInstance(t *testing.T, s instance.Store, region, id string) *instance.Instance {
	t.Helper()
	var inst *instance.Instance
	viewInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		var err error
		inst, err = tx.Instance(ctx, region, id)
		return err
	})
	return inst
}

func testInstanceRoundTrip(t *testing.T, h *harness) {
	s := h.open(t)
	full := fullInstance(region, instanceID(1))
	minimal := &instance.Instance{Region: region, ID: instanceID(2), OwnerID: acct1, State: instance.StatePending}
	updateInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		for _, inst := range []*instance.Instance{full, minimal} {
			if err := tx.InsertInstance(ctx, inst); err != nil {
				return err
			}
		}
		return nil
	})
	for _, want := range []*instance.Instance{full, minimal} {
		got := getInstance(t, s, want.Region, want.ID)
		if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
			t.Errorf("Instance(%s) mismatch (-stored +read):\n%s", want.ID, diff)
		}
	}
	if got := getInstance(t, s, region, minimal.ID); !got.LaunchTime.IsZero() {
		t.Errorf("zero LaunchTime read back as %v", got.LaunchTime)
	}
	got := findInstances(t, s, instance.Query{Region: region})
	if diff := cmp.Diff([]*instance.Instance{full, minimal}, got, equateEmpty); diff != "" {
		t.Errorf("FindInstances mismatch (-stored +read):\n%s", diff)
	}

	// UpdateInstance replaces every field, the indexed ones included.
	changed := fullInstance(region, instanceID(1))
	changed.OwnerID = acct2
	changed.ImageID = amiID(7)
	changed.State = instance.StateStopped
	changed.TerminatedAt = nil
	changed.EnaSupport = ptr(true)
	changed.BlockDeviceMappings = changed.BlockDeviceMappings[1:]
	changed.HttpTokens = ""
	updateInstances(t, s, func(ctx context.Context, tx instance.Tx) error { return tx.UpdateInstance(ctx, changed) })
	if diff := cmp.Diff(changed, getInstance(t, s, region, full.ID), equateEmpty); diff != "" {
		t.Errorf("after UpdateInstance (-want +got):\n%s", diff)
	}
	if got := instanceIDs(findInstances(t, s, instance.Query{Region: region, ImageIDs: []string{full.ImageID}})); len(got) != 0 {
		t.Errorf("found by old image id: %v", got)
	}
	if got := instanceIDs(findInstances(t, s, instance.Query{Region: region, OwnerID: acct2, ImageIDs: []string{amiID(7)}})); len(got) != 1 {
		t.Errorf("not found by new owner and image id: %v", got)
	}

	ctx := t.Context()
	err := s.UpdateInstances(ctx, func(tx instance.Tx) error {
		if err := tx.InsertInstance(ctx, newInstance(region, instanceID(2), acct2, amiID(1))); err != resource.ErrExists {
			t.Errorf("InsertInstance(existing) error = %v, want resource.ErrExists", err)
		}
		if err := tx.UpdateInstance(ctx, newInstance(region, instanceID(3), acct1, amiID(1))); err != resource.ErrNotFound {
			t.Errorf("UpdateInstance(absent) error = %v, want resource.ErrNotFound", err)
		}
		if err := tx.UpdateInstance(ctx, newInstance(region2, instanceID(2), acct1, amiID(1))); err != resource.ErrNotFound {
			t.Errorf("UpdateInstance(other region) error = %v, want resource.ErrNotFound", err)
		}
		// The same id in another region is another instance.
		return tx.InsertInstance(ctx, newInstance(region2, instanceID(2), acct2, amiID(1)))
	})
	if err != nil {
		t.Fatal(err)
	}
	viewInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		if _, err := tx.Instance(ctx, region, instanceID(3)); err != resource.ErrNotFound {
			t.Errorf("Instance(absent) error = %v, want resource.ErrNotFound", err)
		}
		got, err := tx.Instance(ctx, region, instanceID(2))
		if err != nil {
			return err
		}
		if diff := cmp.Diff(minimal, got, equateEmpty); diff != "" {
			t.Errorf("failed insert or update changed the instance (-want +got):\n%s", diff)
		}
		got, err = tx.Instance(ctx, region2, instanceID(2))
		if err != nil {
			return err
		}
		if got.OwnerID != acct2 || got.Region != region2 {
			t.Errorf("Instance(%s) = %+v", region2, got)
		}
		return nil
	})
}

func testFindInstances(t *testing.T, h *harness) {
	s := h.open(t)
	pop := []*instance.Instance{
		newInstance(region, instanceID(1), acct1, amiID(1)),
		newInstance(region, instanceID(2), acct1, amiID(2)),
		newInstance(region, instanceID(3), acct2, amiID(1)),
		newInstance(region, instanceID(5), acct1, amiID(3)),
		newInstance(region, instanceID(6), acct2, amiID(2)),
		newInstance(region2, instanceID(4), acct1, amiID(1)),
		newInstance(region2, instanceID(2), acct2, amiID(1)),
	}
	pop[1].State = instance.StateTerminated
	for i, r := range []string{"r-a", "r-b", "r-a", "r-c", "r-b", "r-a", "r-a"} {
		pop[i].ReservationID = r
	}
	// Insert out of order: results are ordered by id.
	updateInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		for _, i := range []int{4, 0, 6, 2, 5, 1, 3} {
			if err := tx.InsertInstance(ctx, pop[i]); err != nil {
				return err
			}
		}
		return nil
	})
	r1 := func(ns ...int) []string {
		var out []string
		for _, n := range ns {
			out = append(out, region+"/"+instanceID(n))
		}
		return out
	}
	r2 := func(n int) string { return region2 + "/" + instanceID(n) }
	tests := []struct {
		name string
		q    instance.Query
		want []string
	}{
		{"region", instance.Query{Region: region}, r1(1, 2, 3, 5, 6)},
		{"every region, ordered by id", instance.Query{},
			[]string{r1(1)[0], r2(2), r1(2)[0], r1(3)[0], r2(4), r1(5)[0], r1(6)[0]}},
		{"OwnerID", instance.Query{Region: region, OwnerID: acct1}, r1(1, 2, 5)},
		{"OwnerID every region", instance.Query{OwnerID: acct2}, []string{r2(2), r1(3)[0], r1(6)[0]}},
		{"IDs", instance.Query{Region: region, IDs: []string{instanceID(5), instanceID(1), instanceID(9), instanceID(4), instanceID(5)}}, r1(1, 5)},
		{"ImageIDs", instance.Query{Region: region, ImageIDs: []string{amiID(1), amiID(3)}}, r1(1, 3, 5)},
		{"OwnerID and ImageIDs", instance.Query{Region: region, OwnerID: acct2, ImageIDs: []string{amiID(2)}}, r1(6)},
		{"IDs and OwnerID disagree", instance.Query{Region: region, OwnerID: acct2, IDs: []string{instanceID(1)}}, nil},
		{"AfterID", instance.Query{Region: region, AfterID: instanceID(2)}, r1(3, 5, 6)},
		{"Limit", instance.Query{Region: region, Limit: 2}, r1(1, 2)},
		{"AfterID and Limit", instance.Query{Region: region, OwnerID: acct1, AfterID: instanceID(1), Limit: 1}, r1(2)},
		{"AfterID past the end", instance.Query{Region: region, AfterID: instanceID(9)}, nil},
		{"other region", instance.Query{Region: region2, ImageIDs: []string{amiID(1)}}, []string{r2(2), r2(4)}},
		{"ReservationIDs", instance.Query{Region: region, ReservationIDs: []string{"r-b", "r-c", "r-z", "r-b"}}, r1(2, 5, 6)},
		{"ReservationIDs every region", instance.Query{ReservationIDs: []string{"r-a"}}, []string{r1(1)[0], r2(2), r1(3)[0], r2(4)}},
		{"ReservationIDs and OwnerID", instance.Query{Region: region, OwnerID: acct1, ReservationIDs: []string{"r-a", "r-b"}}, r1(1, 2)},
	}
	viewInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		for _, tc := range tests {
			got, err := tx.FindInstances(ctx, tc.q)
			if err != nil {
				t.Errorf("%s: FindInstances error: %v", tc.name, err)
				continue
			}
			if !slices.IsSortedFunc(got, func(a, b *instance.Instance) int { return strings.Compare(a.ID, b.ID) }) {
				t.Errorf("%s: not ordered by id: %v", tc.name, instanceIDs(got))
			}
			// Ties between regions may come in either order.
			slices.SortStableFunc(got, func(a, b *instance.Instance) int {
				if c := strings.Compare(a.ID, b.ID); c != 0 {
					return c
				}
				return strings.Compare(a.Region, b.Region)
			})
			if diff := cmp.Diff(tc.want, instanceIDs(got), equateEmpty); diff != "" {
				t.Errorf("%s: FindInstances(%+v) (-want +got):\n%s", tc.name, tc.q, diff)
			}
		}
		// Records come back whole.
		got, err := tx.FindInstances(ctx, instance.Query{Region: region, IDs: []string{instanceID(2)}})
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*instance.Instance{pop[1]}, got, equateEmpty); diff != "" {
			t.Errorf("FindInstances record (-want +got):\n%s", diff)
		}
		return nil
	})

	// Pages of two cover the region exactly once.
	var paged []string
	q := instance.Query{Region: region, Limit: 2}
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("pagination does not end")
		}
		res := findInstances(t, s, q)
		paged = append(paged, instanceIDs(res)...)
		if len(res) < q.Limit {
			break
		}
		q.AfterID = res[len(res)-1].ID
	}
	if diff := cmp.Diff(r1(1, 2, 3, 5, 6), paged); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}
