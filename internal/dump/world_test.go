package dump

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// world is the instance services over one store.
type world struct {
	insts *instance.Service
	vols  *volume.Service
}

func newWorld(t *testing.T, st instance.Store) world {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }
	imgs, err := image.NewService(context.Background(), st, image.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	vols := volume.NewService(st, imgs.Pages(), volume.Options{Now: now})
	snaps := snapshot.NewService(st, vols, imgs.Pages(), snapshot.Options{Now: now})
	return world{insts: instance.NewService(st, imgs, instance.Options{Now: now, Snapshots: snaps, Volumes: vols}), vols: vols}
}

func (w world) volumes(t *testing.T, c resource.Caller) map[string]volume.Described {
	t.Helper()
	vs, _, err := w.vols.DescribeVolumes(context.Background(), c, &volume.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]volume.Described{}
	for _, v := range vs {
		out[v.ID] = v
	}
	return out
}

// The instance world survives export and import: a launch's instance, its
// attached volumes with their tags, and its client token, so that the SDK
// retry of the launch is answered from the imported store instead of
// launching again, and termination there still deletes or detaches the
// volumes.
func TestRoundTripInstanceWorld(t *testing.T) {
	ctx := context.Background()
	const acct, region = "111122223333", "us-east-1"
	c := resource.Caller{Region: region, Viewer: resource.Viewer{Account: acct}}
	a := openSQLite(t)
	created := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	yes := true
	err := a.UpdateInstances(ctx, func(tx instance.Tx) error {
		if err := tx.InsertSnapshot(ctx, &snapshot.Snapshot{Region: region, ID: "snap-0123456789abcdef0", OwnerID: acct,
			VolumeID: "vol-0123456789abcdef0", VolumeSize: 10, State: snapshot.StateCompleted, StartTime: created, CompletedAt: created}); err != nil {
			return err
		}
		return tx.InsertImage(ctx, &image.Image{Region: region, ID: "ami-0123456789abcdef0", OwnerID: acct, Name: "world",
			State: image.StateAvailable, CreationDate: created, Architecture: "x86_64", ImageType: "machine",
			RootDeviceName: "/dev/xvda", RootDeviceType: "ebs", VirtualizationType: "hvm", Hypervisor: "xen",
			BlockDeviceMappings: []image.BlockDeviceMapping{{DeviceName: "/dev/xvda", Ebs: &image.EbsBlockDevice{
				SnapshotID: "snap-0123456789abcdef0", VolumeType: "gp3", DeleteOnTermination: &yes}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	one, no, size := int32(1), false, int32(20)
	run := &instance.RunRequest{ImageID: "ami-0123456789abcdef0", MinCount: &one, MaxCount: &one, InstanceType: "t3.micro",
		ClientToken:         "world-token",
		BlockDeviceMappings: []image.BlockDeviceMapping{{DeviceName: "/dev/sdf", Ebs: &image.EbsBlockDevice{VolumeSize: &size, DeleteOnTermination: &no}}},
		TagSpecifications:   []resource.TagSpecification{{ResourceType: "volume", Tags: []resource.Tag{{Key: "Team", Value: "blue"}}}}}
	res, err := newWorld(t, a).insts.RunInstances(ctx, c, run)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Instances[0].ID
	before := newWorld(t, a).volumes(t, c)
	if len(before) != 2 {
		t.Fatalf("launch made %d volumes, want 2", len(before))
	}

	data := export(t, a)
	if !bytes.Contains(data, []byte(`"kind":"client_token"`)) || !bytes.Contains(data, []byte(`"Attachment":{"InstanceID":"`+id)) {
		t.Fatalf("export misses the token or the attachments:\n%s", data)
	}
	b := openPostgres(t)
	if _, err := Import(ctx, b, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if again := export(t, b); !bytes.Equal(data, again) {
		t.Fatalf("exports differ\n%s", firstDiff(data, again, again))
	}
	w := newWorld(t, b)
	if diff := cmp.Diff(before, w.volumes(t, c)); diff != "" {
		t.Errorf("volumes after import (-before +after):\n%s", diff)
	}
	// The retry with the same token answers the same reservation.
	replayed, err := w.insts.RunInstances(ctx, c, run)
	if err != nil {
		t.Fatal(err)
	}
	if replayed.ID != res.ID || len(replayed.Instances) != 1 || replayed.Instances[0].ID != id {
		t.Fatalf("replay after import: %s %+v, want %s with %s", replayed.ID, replayed.Instances, res.ID, id)
	}
	if _, err := w.insts.TerminateInstances(ctx, c, []string{id}, false); err != nil {
		t.Fatal(err)
	}
	after := w.volumes(t, c)
	root, data2 := instance.VolumeID(id, "/dev/xvda"), instance.VolumeID(id, "/dev/sdf")
	if _, ok := after[root]; ok || len(after) != 1 {
		t.Fatalf("after termination: %v, want only %s", after, data2)
	}
	if v := after[data2]; v.State != volume.StateAvailable || v.Attachment != nil || len(v.Tags) != 1 {
		t.Errorf("kept volume: %+v", v)
	}
}
