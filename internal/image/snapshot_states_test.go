package image_test

import (
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/snapshot"
)

// RegisterImage and the state of its snapshots (spec ec2-snapshots §6.2):
// a snapshot in error is refused; a pending one is accepted and keeps the
// image pending until it completes.
func TestRegisterImageSnapshotStates(t *testing.T) {
	e := it.New(t, image.Options{})
	owner := it.Caller(it.Owner)
	const broken, pending = "snap-00000000000000e01", "snap-00000000000000e02"
	done := it.Epoch.Add(time.Hour)
	err := e.Store.Update(ctx, func(tx image.Tx) error {
		if err := tx.InsertSnapshot(ctx, &snapshot.Snapshot{Region: it.Region, ID: broken, OwnerID: it.Owner, VolumeSize: 8,
			State: snapshot.StateError, StartTime: it.Epoch}); err != nil {
			return err
		}
		return tx.InsertSnapshot(ctx, &snapshot.Snapshot{Region: it.Region, ID: pending, OwnerID: it.Owner, VolumeSize: 8,
			State: snapshot.StateCompleted, StartTime: it.Epoch, CompletedAt: done})
	})
	if err != nil {
		t.Fatal(err)
	}
	on := func(snap string) func(*image.RegisterRequest) {
		return func(r *image.RegisterRequest) { r.BlockDeviceMappings[0].Ebs.SnapshotID = snap }
	}

	r := it.RegisterRequest("broken")
	on(broken)(r)
	_, err = e.Svc.RegisterImage(ctx, owner, r)
	it.WantError(t, err, "IncorrectState", 400, "Snapshot '"+broken+"' is not in a completed state.")

	id := e.Register(t, owner, "waits", on(pending))
	state := func() string {
		t.Helper()
		imgs, _, err := e.Svc.DescribeImages(ctx, owner, &image.DescribeRequest{ImageIDs: []string{id}})
		if err != nil || len(imgs) != 1 {
			t.Fatalf("describe: %v %v", imgs, err)
		}
		return imgs[0].State
	}
	if got := state(); got != image.StatePending {
		t.Fatalf("state %s while the snapshot is pending", got)
	}
	e.Clock.Set(done)
	if got := state(); got != image.StateAvailable {
		t.Fatalf("state %s once the snapshot completed", got)
	}
}
