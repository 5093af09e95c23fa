package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/volume"
)

func volID(n int) string  { return fmt.Sprintf("vol-%017x", n) }
func snapID(n int) string { return fmt.Sprintf("snap-%017x", n) }

// The engine's times come back in UTC; the fixtures use another zone.
var sameInstant = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func updateSnapshots(t *testing.T, s instance.Store, fn func(ctx context.Context, tx snapshot.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.UpdateSnapshots(ctx, func(tx snapshot.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func viewSnapshots(t *testing.T, s instance.Store, fn func(ctx context.Context, tx snapshot.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.ViewSnapshots(ctx, func(tx snapshot.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func testVolumes(t *testing.T, h *harness) {
	s := h.open(t)
	full := &volume.Volume{Region: region, ID: volID(1), OwnerID: acct1, Size: 80, SnapshotID: snapID(9),
		AvailabilityZone: "us-east-1a", ZoneID: "use1-az6", VolumeType: "gp3", Iops: ptr(int32(3000)), Throughput: ptr(int32(125)),
		Encrypted: true, KmsKeyID: "arn:aws:kms:us-east-1:111122223333:key/k", MultiAttach: true, InitRate: ptr(int32(100)),
		CreateTime: at(2024, 1, 2, 3, 4, 5, 6), AvailableAt: at(2024, 1, 2, 3, 4, 6, 7)}
	vols := []*volume.Volume{full,
		{Region: region, ID: volID(2), OwnerID: acct2, Size: 8, VolumeType: "gp2", CreateTime: at(2024, 1, 2, 3, 4, 5, 6)},
		{Region: region, ID: volID(3), OwnerID: acct1, Size: 8, VolumeType: "gp2", CreateTime: at(2024, 1, 2, 3, 4, 5, 6)},
		{Region: region2, ID: volID(1), OwnerID: acct1, Size: 8, VolumeType: "gp2", CreateTime: at(2024, 1, 2, 3, 4, 5, 6)},
	}
	updateSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
		for _, v := range vols {
			if err := tx.InsertVolume(ctx, v); err != nil {
				return err
			}
		}
		if err := tx.InsertVolume(ctx, full); err != resource.ErrExists {
			return fmt.Errorf("duplicate InsertVolume: %v, want ErrExists", err)
		}
		return nil
	})
	viewSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
		got, err := tx.Volume(ctx, region, full.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(full, got, sameInstant); diff != "" {
			t.Errorf("Volume mismatch (-stored +read):\n%s", diff)
		}
		if _, err := tx.Volume(ctx, region, volID(99)); err != resource.ErrNotFound {
			t.Errorf("missing volume: %v", err)
		}
		for _, tc := range []struct {
			q    volume.Query
			want []string
		}{
			{volume.Query{Region: region, OwnerID: acct1}, []string{volID(1), volID(3)}},
			{volume.Query{Region: region, IDs: []string{volID(2), volID(3)}}, []string{volID(2), volID(3)}},
			{volume.Query{Region: region, AfterID: volID(1), Limit: 1}, []string{volID(2)}},
			{volume.Query{}, []string{volID(1), volID(1), volID(2), volID(3)}},
		} {
			got, err := tx.FindVolumes(ctx, tc.q)
			if err != nil {
				return err
			}
			var ids []string
			for _, v := range got {
				ids = append(ids, v.ID)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("FindVolumes(%+v) (-want +got):\n%s", tc.q, diff)
			}
		}
		return nil
	})
	// An attachment round-trips through UpdateVolume, and so does its
	// removal; the other region's volume of the same id is untouched.
	attached := *vols[2]
	attached.Attachment = &volume.Attachment{InstanceID: "i-0123456789abcdef0", Device: "/dev/xvda",
		AttachTime: at(2024, 1, 2, 3, 4, 5, 0), DeleteOnTermination: true}
	updateSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
		if err := tx.UpdateVolume(ctx, &attached); err != nil {
			return err
		}
		missing := attached
		missing.ID = volID(99)
		if err := tx.UpdateVolume(ctx, &missing); err != resource.ErrNotFound {
			return fmt.Errorf("UpdateVolume of a missing volume: %v, want ErrNotFound", err)
		}
		return nil
	})
	viewSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
		got, err := tx.Volume(ctx, region, attached.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(&attached, got, sameInstant); diff != "" {
			t.Errorf("attached volume mismatch (-stored +read):\n%s", diff)
		}
		return nil
	})
	updateSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
		detached := attached
		detached.Attachment = nil
		if err := tx.UpdateVolume(ctx, &detached); err != nil {
			return err
		}
		got, err := tx.Volume(ctx, region, attached.ID)
		if err != nil {
			return err
		}
		if got.Attachment != nil {
			return fmt.Errorf("detached volume still has %+v", got.Attachment)
		}
		return nil
	})
	updateSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
		if err := tx.DeleteVolume(ctx, region, volID(1)); err != nil {
			return err
		}
		if err := tx.DeleteVolume(ctx, region, volID(1)); err != resource.ErrNotFound {
			return fmt.Errorf("second DeleteVolume: %v, want ErrNotFound", err)
		}
		if _, err := tx.Volume(ctx, region2, volID(1)); err != nil {
			return fmt.Errorf("the other region's volume went too: %v", err)
		}
		return nil
	})
}

func testSnapshots(t *testing.T, h *harness) {
	s := h.open(t)
	full := &snapshot.Snapshot{Region: region, ID: snapID(1), OwnerID: acct1, OwnerAlias: "amazon", VolumeID: volID(1), VolumeSize: 80,
		State: snapshot.StateCompleted, StateMessage: "m", StartTime: at(2024, 1, 2, 3, 4, 5, 6), CompletedAt: at(2024, 1, 2, 3, 4, 6, 7),
		Description: "d", Encrypted: true, KmsKeyID: "k", TransferType: "time-based", CompletionMinutes: ptr(int32(15)), Public: true}
	snaps := []*snapshot.Snapshot{full,
		{Region: region, ID: snapID(2), OwnerID: acct2, State: snapshot.StateCompleted},
		{Region: region, ID: snapID(3), OwnerID: acct2, State: snapshot.StateCompleted},
		{Region: region, ID: snapID(4), OwnerID: acct2, State: snapshot.StateCompleted},
		{Region: region2, ID: snapID(1), OwnerID: acct2, State: snapshot.StateCompleted},
	}
	grants := []snapshot.Permission{{UserID: acct3}, {Group: snapshot.GroupAll}, {UserID: acct1}}
	updateSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
		for _, sn := range snaps {
			if err := tx.InsertSnapshot(ctx, sn); err != nil {
				return err
			}
		}
		if err := tx.InsertSnapshot(ctx, full); err != resource.ErrExists {
			return fmt.Errorf("duplicate InsertSnapshot: %v, want ErrExists", err)
		}
		if err := tx.SetSnapshotPermissions(ctx, region, snapID(3), grants); err != nil {
			return err
		}
		return tx.SetSnapshotPermissions(ctx, region, snapID(4), []snapshot.Permission{{UserID: acct3}})
	})
	viewSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
		got, err := tx.Snapshot(ctx, region, full.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(full, got, sameInstant); diff != "" {
			t.Errorf("Snapshot mismatch (-stored +read):\n%s", diff)
		}
		perms, err := tx.SnapshotPermissions(ctx, region, []string{snapID(3), snapID(4), snapID(2)})
		if err != nil {
			return err
		}
		want := map[string][]snapshot.Permission{snapID(3): grants, snapID(4): {{UserID: acct3}}}
		if diff := cmp.Diff(want, perms); diff != "" {
			t.Errorf("SnapshotPermissions (-want +got):\n%s", diff)
		}
		for _, tc := range []struct {
			q    snapshot.Query
			want []string
		}{
			// acct1 owns 1 (public too) and is granted 3; acct3 is granted 3 and 4.
			{snapshot.Query{Region: region, VisibleTo: acct1}, []string{snapID(1), snapID(3)}},
			{snapshot.Query{Region: region, VisibleTo: acct3}, []string{snapID(1), snapID(3), snapID(4)}},
			{snapshot.Query{Region: region, OwnerIDs: []string{acct2}, AfterID: snapID(2)}, []string{snapID(3), snapID(4)}},
			{snapshot.Query{Region: region, IDs: []string{snapID(4), snapID(1)}, Limit: 1}, []string{snapID(1)}},
			{snapshot.Query{}, []string{snapID(1), snapID(1), snapID(2), snapID(3), snapID(4)}},
		} {
			got, err := tx.FindSnapshots(ctx, tc.q)
			if err != nil {
				return err
			}
			var ids []string
			for _, sn := range got {
				ids = append(ids, sn.ID)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("FindSnapshots(%+v) (-want +got):\n%s", tc.q, diff)
			}
		}
		return nil
	})
	updateSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
		full.Public, full.Description = false, "changed"
		if err := tx.UpdateSnapshot(ctx, full); err != nil {
			return err
		}
		if err := tx.UpdateSnapshot(ctx, &snapshot.Snapshot{Region: region, ID: snapID(99)}); err != resource.ErrNotFound {
			return fmt.Errorf("UpdateSnapshot of a missing one: %v", err)
		}
		if err := tx.DeleteSnapshot(ctx, region, snapID(3)); err != nil {
			return err
		}
		if err := tx.DeleteSnapshot(ctx, region, snapID(3)); err != resource.ErrNotFound {
			return fmt.Errorf("second DeleteSnapshot: %v", err)
		}
		perms, err := tx.SnapshotPermissions(ctx, region, []string{snapID(3)})
		if err != nil || len(perms) != 0 {
			return fmt.Errorf("permissions outlived their snapshot: %v %v", perms, err)
		}
		got, err := tx.Snapshot(ctx, region, full.ID)
		if err != nil || got.Public || got.Description != "changed" {
			return fmt.Errorf("after update: %+v %v", got, err)
		}
		return nil
	})
}

func testImageUsingSnapshot(t *testing.T, h *harness) {
	s := h.open(t)
	uses := func(id string, state string, snaps ...int) *image.Image {
		img := newImage(region, id, acct1, id)
		img.State = state
		for i, n := range snaps {
			img.BlockDeviceMappings = append(img.BlockDeviceMappings, image.BlockDeviceMapping{
				DeviceName: fmt.Sprintf("/dev/xvd%c", 'a'+i), Ebs: &image.EbsBlockDevice{SnapshotID: snapID(n)}})
		}
		return img
	}
	check := func(step string, want map[int]string) {
		t.Helper()
		viewSnapshots(t, s, func(ctx context.Context, tx snapshot.Tx) error {
			for n, w := range want {
				got, err := tx.ImageUsingSnapshot(ctx, region, snapID(n))
				if err != nil {
					return err
				}
				if got != w {
					t.Errorf("%s: ImageUsingSnapshot(%s) = %q, want %q", step, snapID(n), got, w)
				}
			}
			return nil
		})
	}
	gone := uses(amiID(1), image.StateDeregistered, 1)
	live := uses(amiID(2), image.StatePending, 2, 5, 2)
	other := uses(amiID(3), image.StateAvailable, 3)
	other.Region = region2
	// Two images name snapshot 6: the older one is named, whatever its id.
	newer, older := uses(amiID(7), image.StateAvailable, 6), uses(amiID(8), image.StateAvailable, 6)
	older.CreationDate = newer.CreationDate.Add(-time.Hour)
	insert(t, s, gone, live, other, newer, older)
	check("inserted", map[int]string{1: "", 2: amiID(2), 3: "", 4: "", 5: amiID(2), 6: amiID(8)})

	// An update follows the mappings and the state.
	live.BlockDeviceMappings = live.BlockDeviceMappings[1:2] // snapshot 5 only
	older.State = image.StateDeregistered
	gone.State = image.StateAvailable
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, img := range []*image.Image{live, older, gone} {
			if err := tx.UpdateImage(ctx, img); err != nil {
				return err
			}
		}
		return nil
	})
	check("updated", map[int]string{1: amiID(1), 2: "", 5: amiID(2), 6: amiID(7)})

	// Read and written back in one transaction with its permissions as
	// read (what DeregisterImage does): the references still follow.
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		img, err := tx.Image(ctx, region, amiID(1))
		if err != nil {
			return err
		}
		img.State = image.StateDeregistered
		return tx.UpdateImage(ctx, img)
	})
	check("deregistered after a read", map[int]string{1: ""})

	// A deleted image takes its references along.
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		return tx.DeleteImage(ctx, region, amiID(7))
	})
	check("deleted", map[int]string{6: ""})
}
