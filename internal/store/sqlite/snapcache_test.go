package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

// TestSnapshotCacheReadsItsWrites: every snapshot write (insert, update,
// permissions, delete) is seen by the next View through every by-id read,
// whatever the cache held before it.
func TestSnapshotCacheReadsItsWrites(t *testing.T) {
	const id, owner, other = "snap-00000000000000001", "111111111111", "222222222222"
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	t.Cleanup(func() { s.Close() })
	update := func(fn func(ctx context.Context, tx snapshot.Tx) error) {
		t.Helper()
		if err := s.UpdateSnapshots(t.Context(), func(tx snapshot.Tx) error { return fn(t.Context(), tx) }); err != nil {
			t.Fatalf("UpdateSnapshots: %v", err)
		}
	}
	// read answers what each by-id read sees: the description through
	// Snapshot, FindSnapshots as the owner and as the other account, and
	// the permissions.
	type seen struct{ byID, asOwner, asOther, perms string }
	read := func() seen {
		t.Helper()
		var r seen
		err := s.ViewSnapshots(t.Context(), func(tx snapshot.Tx) error {
			ctx := t.Context()
			sn, err := tx.Snapshot(ctx, region, id)
			switch {
			case err == nil:
				r.byID = sn.Description
			case !errors.Is(err, resource.ErrNotFound):
				return err
			}
			for who, into := range map[string]*string{owner: &r.asOwner, other: &r.asOther} {
				snaps, err := tx.FindSnapshots(ctx, snapshot.Query{Region: region, IDs: []string{id}, VisibleTo: who})
				if err != nil {
					return err
				}
				if len(snaps) == 1 {
					*into = snaps[0].Description
				}
			}
			perms, err := tx.SnapshotPermissions(ctx, region, []string{id})
			for _, p := range perms[id] {
				r.perms += p.UserID + p.Group + ";"
			}
			return err
		})
		if err != nil {
			t.Fatalf("ViewSnapshots: %v", err)
		}
		return r
	}
	check := func(step string, want seen) {
		t.Helper()
		for pass := range 2 { // the first pass may fill the cache, the second reads it
			if got := read(); got != want {
				t.Fatalf("%s, pass %d: read %+v, want %+v", step, pass, got, want)
			}
		}
	}
	check("absent", seen{})
	snap := &snapshot.Snapshot{Region: region, ID: id, OwnerID: owner, VolumeSize: 8, State: snapshot.StateCompleted,
		StartTime: time.UnixMilli(1700000000000).UTC(), CompletedAt: time.UnixMilli(1700000000000).UTC(), Description: "one"}
	update(func(ctx context.Context, tx snapshot.Tx) error { return tx.InsertSnapshot(ctx, snap) })
	check("insert", seen{byID: "one", asOwner: "one"})

	update(func(ctx context.Context, tx snapshot.Tx) error {
		return tx.SetSnapshotPermissions(ctx, region, id, []snapshot.Permission{{UserID: other}})
	})
	check("grant", seen{byID: "one", asOwner: "one", asOther: "one", perms: other + ";"})

	update(func(ctx context.Context, tx snapshot.Tx) error {
		c := *snap
		c.Description = "two"
		return tx.UpdateSnapshot(ctx, &c)
	})
	check("update", seen{byID: "two", asOwner: "two", asOther: "two", perms: other + ";"})

	// A failed update changes nothing, in the cache as on disk.
	boom := errors.New("boom")
	err := s.UpdateSnapshots(t.Context(), func(tx snapshot.Tx) error {
		if err := tx.SetSnapshotPermissions(t.Context(), region, id, nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing update: %v", err)
	}
	check("failed update", seen{byID: "two", asOwner: "two", asOther: "two", perms: other + ";"})

	update(func(ctx context.Context, tx snapshot.Tx) error {
		return tx.SetSnapshotPermissions(ctx, region, id, nil)
	})
	check("revoke", seen{byID: "two", asOwner: "two"})

	update(func(ctx context.Context, tx snapshot.Tx) error { return tx.DeleteSnapshot(ctx, region, id) })
	check("delete", seen{})
}

// TestSnapshotCacheServesWithoutSQL: a warm DescribeSnapshots-by-id read
// (the snapshot, its permissions) needs no read transaction.
func TestSnapshotCacheServesWithoutSQL(t *testing.T) {
	const id, owner = "snap-00000000000000001", "111111111111"
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	t.Cleanup(func() { s.Close() })
	err := s.UpdateSnapshots(t.Context(), func(tx snapshot.Tx) error {
		return tx.InsertSnapshot(t.Context(), &snapshot.Snapshot{Region: region, ID: id, OwnerID: owner, VolumeSize: 8,
			State: snapshot.StateCompleted, Description: "d"})
	})
	if err != nil {
		t.Fatal(err)
	}
	find := func(tx snapshot.Tx) error {
		if _, err := tx.FindSnapshots(t.Context(), snapshot.Query{Region: region, IDs: []string{id}, VisibleTo: owner}); err != nil {
			return err
		}
		_, err := tx.SnapshotPermissions(t.Context(), region, []string{id})
		return err
	}
	if err := s.ViewSnapshots(t.Context(), find); err != nil { // warm
		t.Fatal(err)
	}
	err = s.ViewSnapshots(t.Context(), func(stx snapshot.Tx) error {
		if err := find(stx); err != nil {
			return err
		}
		if stx.(*tx).sqlTx != nil {
			t.Error("a warm by-id read began a SQL transaction")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
