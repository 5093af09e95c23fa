package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func getToken(t *testing.T, s instance.Store, region, account, token, zone string) (*instance.TokenRecord, error) {
	t.Helper()
	var rec *instance.TokenRecord
	var lookup error
	viewInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		rec, lookup = tx.ClientToken(ctx, region, account, token, zone)
		if errors.Is(lookup, resource.ErrNotFound) {
			return nil
		}
		return lookup
	})
	return rec, lookup
}

// A token's record reads back whole; its key is region, account, token and
// zone; a second put replaces it.
func testClientTokens(t *testing.T, h *harness) {
	s := h.open(t)
	rec := &instance.TokenRecord{Region: region, Account: acct1, Token: "550e8400-e29b-41d4-a716-446655440000",
		Fingerprint: "0123456789abcdef0123456789abcdef", ReservationID: "r-0123456789abcdef0",
		InstanceIDs: []string{instanceID(1), instanceID(2)}, CreatedAt: at(2025, 1, 2, 3, 4, 5, 6)}
	zonal := *rec
	zonal.Zone, zonal.ReservationID, zonal.InstanceIDs = region+"b", "r-0123456789abcdef1", []string{instanceID(3)}
	updateInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		if err := tx.PutClientToken(ctx, rec); err != nil {
			return err
		}
		return tx.PutClientToken(ctx, &zonal)
	})
	for _, want := range []*instance.TokenRecord{rec, &zonal} {
		got, err := getToken(t, s, want.Region, want.Account, want.Token, want.Zone)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ClientToken mismatch (-stored +read):\n%s", diff)
		}
	}
	for _, k := range [][4]string{{region2, acct1, rec.Token, ""}, {region, acct2, rec.Token, ""},
		{region, acct1, "550E8400-E29B-41D4-A716-446655440000", ""}, {region, acct1, rec.Token, region + "c"}, {region, acct1, "bad\x00token", ""}} {
		if _, err := getToken(t, s, k[0], k[1], k[2], k[3]); !errors.Is(err, resource.ErrNotFound) {
			t.Errorf("ClientToken(%q) = %v, want ErrNotFound", k, err)
		}
	}
	again := *rec
	again.Fingerprint, again.ReservationID, again.InstanceIDs = "ffff", "r-00000000000000009", []string{instanceID(9)}
	updateInstances(t, s, func(ctx context.Context, tx instance.Tx) error { return tx.PutClientToken(ctx, &again) })
	if got, _ := getToken(t, s, region, acct1, rec.Token, ""); !cmp.Equal(got, &again) {
		t.Errorf("after a second put: %+v", got)
	}
	// ClientTokens lists every record (export), in key order.
	viewInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		all, err := tx.ClientTokens(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*instance.TokenRecord{&again, &zonal}, all); diff != "" {
			t.Errorf("ClientTokens (-want +got):\n%s", diff)
		}
		return nil
	})
}

// A token is written with its launch or not at all.
func testClientTokenWithItsLaunch(t *testing.T, h *harness) {
	s := h.open(t)
	failed := errors.New("launch failed")
	err := s.UpdateInstances(t.Context(), func(tx instance.Tx) error {
		ctx := t.Context()
		if err := tx.InsertInstance(ctx, fullInstance(region, instanceID(1))); err != nil {
			return err
		}
		if err := tx.PutClientToken(ctx, &instance.TokenRecord{Region: region, Account: acct1, Token: "tok", InstanceIDs: []string{instanceID(1)}}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("update: %v", err)
	}
	if _, err := getToken(t, s, region, acct1, "tok", ""); !errors.Is(err, resource.ErrNotFound) {
		t.Fatalf("token of a failed launch: %v", err)
	}
	r := h.reopen(t, s)
	updateInstances(t, r, func(ctx context.Context, tx instance.Tx) error {
		return tx.PutClientToken(ctx, &instance.TokenRecord{Region: region, Account: acct1, Token: "tok", InstanceIDs: []string{instanceID(1)}, CreatedAt: at(2025, 1, 1, 0, 0, 0, 0)})
	})
	r = h.reopen(t, r)
	if got, err := getToken(t, r, region, acct1, "tok", ""); err != nil || len(got.InstanceIDs) != 1 {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
}
