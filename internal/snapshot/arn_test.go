package snapshot_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// Each action asks IAM about the resource ARNs the issue names:
// arn:aws:ec2:<region>::snapshot/<id> and
// arn:aws:ec2:<region>:<account>:volume/<id>.
func TestActionsAuthorizeResourceARNs(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "amigo.db"), sqlite.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pages := resource.NewPages([]byte("0123456789abcdef0123456789abcdef"))
	vols := volume.NewService(st, pages, volume.Options{})
	snaps := snapshot.NewService(st, vols, pages, snapshot.Options{})
	var asked []string
	c := resource.Caller{Viewer: resource.Viewer{Account: "111122223333"}, Region: "us-east-1",
		Authorize: func(action, arn string) error { asked = append(asked, action+" "+arn); return nil }}
	ctx := t.Context()
	size := int32(8)
	v, _, err := snaps.CreateVolume(ctx, c, &volume.CreateRequest{AvailabilityZone: "us-east-1a", Size: &size})
	if err != nil {
		t.Fatal(err)
	}
	created, err := snaps.CreateSnapshot(ctx, c, &snapshot.CreateRequest{VolumeID: v.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := snaps.ModifyAttribute(ctx, c, &snapshot.ModifyRequest{SnapshotID: created.ID, Add: []snapshot.Permission{{UserID: "222233334444"}}}); err != nil {
		t.Fatal(err)
	}
	if err := snaps.DeleteSnapshot(ctx, c, created.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := vols.DeleteVolume(ctx, c, v.ID, false); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ec2:CreateVolume arn:aws:ec2:us-east-1:111122223333:volume/*",
		"ec2:CreateSnapshot arn:aws:ec2:us-east-1::snapshot/*",
		"ec2:ModifySnapshotAttribute arn:aws:ec2:us-east-1::snapshot/" + created.ID,
		"ec2:DeleteSnapshot arn:aws:ec2:us-east-1::snapshot/" + created.ID,
		"ec2:DeleteVolume arn:aws:ec2:us-east-1:111122223333:volume/" + v.ID,
	}
	if !slices.Equal(asked, want) {
		t.Errorf("asked\n%q\nwant\n%q", asked, want)
	}
}
