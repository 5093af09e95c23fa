package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/app"
)

// The ties between images and snapshots (spec ec2-snapshots §6), through
// the SDK.

const storageMessage = "You do not have permission to access the storage of this ami"

// shareSnapshot grants who's snapshot's createVolumePermission to account
// (or "all").
func (e *env) shareSnapshot(who, snap, account string) {
	e.t.Helper()
	perm := ec2types.CreateVolumePermission{UserId: aws.String(account)}
	if account == "all" {
		perm = ec2types.CreateVolumePermission{Group: ec2types.PermissionGroupAll}
	}
	_, err := e.client(who).ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(snap),
		CreateVolumePermission: &ec2types.CreateVolumePermissionModifications{Add: []ec2types.CreateVolumePermission{perm}}})
	if err != nil {
		e.t.Fatalf("share %s with %s: %v", snap, account, err)
	}
}

// A grantee sees and launches a shared AMI, but copies it only once the
// owner shares the snapshots too; publishing the AMI never publishes its
// snapshots, so a third account can launch the public AMI but not copy it.
func TestCopySharedImageNeedsSnapshotPermission(t *testing.T) {
	e := startEnv(t)
	snap := e.newSnapshot(owner)
	ami := e.registerOn(owner, "shared", snap)
	must[*ec2.ModifyImageAttributeOutput](t)(e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(ami),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(member)}}}}))
	copyAs := func(who, name string) (*ec2.CopyImageOutput, error) {
		return e.clientIn(who, "eu-west-1").CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(ami), SourceRegion: aws.String(region), Name: aws.String(name)})
	}

	_, err := copyAs(member, "mine")
	if msg := apiErr(t, err, "InvalidRequest", 400); msg != storageMessage {
		t.Fatalf("message %q", msg)
	}
	if _, err := e.run(member, ami, 1); err != nil {
		t.Fatalf("the grantee launches without snapshot permission: %v", err)
	}
	// The snapshot ids show in the image, but the snapshot itself is hidden.
	_, err = e.client(member).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})
	if msg := apiErr(t, err, "InvalidSnapshot.NotFound", 400); msg != "The snapshot '"+snap+"' does not exist." {
		t.Fatalf("message %q", msg)
	}

	e.shareSnapshot(owner, snap, member)
	cp := aws.ToString(must[*ec2.CopyImageOutput](t)(copyAs(member, "mine")).ImageId)
	eu := e.clientIn(member, "eu-west-1")
	img := must[*ec2.DescribeImagesOutput](t)(eu.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{cp}})).Images[0]
	copySnap := aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId)
	if copySnap == snap || copySnap == "" {
		t.Fatalf("copy names snapshot %q", copySnap)
	}
	s := must[*ec2.DescribeSnapshotsOutput](t)(eu.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{copySnap}})).Snapshots[0]
	prefix := "Copied for DestinationAmi " + cp + " from SourceAmi " + ami + " for SourceSnapshot " + snap + ". Task created on "
	if aws.ToString(s.OwnerId) != member || aws.ToString(s.VolumeId) != "vol-ffffffff" || aws.ToInt32(s.VolumeSize) != 8 ||
		!strings.HasPrefix(aws.ToString(s.Description), prefix) || !strings.HasSuffix(aws.ToString(s.Description), ".") {
		t.Fatalf("copied snapshot %+v", s)
	}
	// The copy's snapshot keeps no permission of the source.
	attr := must[*ec2.DescribeSnapshotAttributeOutput](t)(eu.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String(copySnap),
		Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission}))
	if len(attr.CreateVolumePermissions) != 0 {
		t.Fatalf("copy's permissions %+v", attr.CreateVolumePermissions)
	}

	// Public AMI, private snapshot: anyone launches, no one else copies.
	must[*ec2.ModifyImageAttributeOutput](t)(e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(ami),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{Group: ec2types.PermissionGroupAll}}}}))
	if _, err := e.run(stranger, ami, 1); err != nil {
		t.Fatalf("launching the public AMI: %v", err)
	}
	_, err = copyAs(stranger, "theirs")
	if msg := apiErr(t, err, "InvalidRequest", 400); msg != storageMessage {
		t.Fatalf("message %q", msg)
	}
	// Once the snapshot is public too, the copy works.
	e.shareSnapshot(owner, snap, "all")
	must[*ec2.CopyImageOutput](t)(copyAs(stranger, "theirs"))
	// The owner copies its own image whatever the snapshots' permissions.
	must[*ec2.CopyImageOutput](t)(copyAs(owner, "own-copy"))
}

// DescribeSnapshots with RestorableByUserIds: the grantee finds the shared
// snapshot with self and with its own id; an outsider finds nothing and
// is told the snapshot does not exist when it names it.
func TestDescribeSnapshotsRestorableBy(t *testing.T) {
	e := startEnv(t)
	snap := e.newSnapshot(owner)
	e.shareSnapshot(owner, snap, member)
	for _, by := range []string{"self", member} {
		if got := e.snapshotIDs(member, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{by}}); !slices.Equal(got, []string{snap}) {
			t.Errorf("grantee, restorable by %s: %v", by, got)
		}
	}
	if got := e.snapshotIDs(member, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"self"}, OwnerIds: []string{owner}}); !slices.Equal(got, []string{snap}) {
		t.Errorf("grantee, restorable by self, owner %s: %v", owner, got)
	}
	for _, by := range []string{"self", stranger} {
		if got := e.snapshotIDs(stranger, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{by}}); len(got) != 0 {
			t.Errorf("outsider, restorable by %s: %v", by, got)
		}
	}
	_, err := e.client(stranger).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}, RestorableByUserIds: []string{"self"}})
	apiErr(t, err, "InvalidSnapshot.NotFound", 400)
}

// DeleteSnapshot is refused while any registered AMI, of any account and
// in any state but deregistered, names the snapshot; the oldest is named.
func TestDeleteSnapshotInUse(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	snap := e.newSnapshot(owner)
	ami := e.registerOn(owner, "uses-it", snap)
	del := func() error {
		_, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
		return err
	}
	want := "The snapshot " + snap + " is currently in use by " + ami
	if msg := apiErr(t, del(), "InvalidSnapshot.InUse", 400); msg != want {
		t.Fatalf("message %q, want %q", msg, want)
	}
	// Disabled still counts.
	must[*ec2.DisableImageOutput](t)(c.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(ami)}))
	apiErr(t, del(), "InvalidSnapshot.InUse", 400)
	// Another account's AMI on the shared snapshot blocks it as well.
	e.shareSnapshot(owner, snap, member)
	e.clock.Advance(1e9)
	theirs := e.registerOn(member, "borrowed", snap)
	must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ami)}))
	if msg := apiErr(t, del(), "InvalidSnapshot.InUse", 400); msg != "The snapshot "+snap+" is currently in use by "+theirs {
		t.Fatalf("message %q", msg)
	}
	must[*ec2.DeregisterImageOutput](t)(e.client(member).DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(theirs)}))
	if err := del(); err != nil {
		t.Fatalf("after both are deregistered: %v", err)
	}
	if msg := apiErr(t, del(), "InvalidSnapshot.NotFound", 400); msg != "The snapshot '"+snap+"' does not exist." {
		t.Fatalf("message %q", msg)
	}
}

// DeregisterImage with DeleteAssociatedSnapshots deletes what only this
// image needed and reports each snapshot: success, skipped (another image
// uses it), missing-permissions (another account's).
func TestDeregisterDeleteAssociatedSnapshots(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	only, shared, theirs := e.newSnapshot(owner), e.newSnapshot(owner), e.newSnapshot(member)
	e.shareSnapshot(member, theirs, owner)
	ebs := func(dev, snap string) ec2types.BlockDeviceMapping {
		return ec2types.BlockDeviceMapping{DeviceName: aws.String(dev), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snap)}}
	}
	ami := aws.ToString(must[*ec2.RegisterImageOutput](t)(c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("three"),
		RootDeviceName: aws.String("/dev/xvda"), BlockDeviceMappings: []ec2types.BlockDeviceMapping{
			ebs("/dev/xvda", only), ebs("/dev/xvdb", shared), ebs("/dev/xvdc", theirs)}})).ImageId)
	e.registerOn(owner, "keeps-shared", shared)

	out := must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ami), DeleteAssociatedSnapshots: aws.Bool(true)}))
	got := map[string]ec2types.SnapshotReturnCodes{}
	for _, r := range out.DeleteSnapshotResults {
		got[aws.ToString(r.SnapshotId)] = r.ReturnCode
	}
	want := map[string]ec2types.SnapshotReturnCodes{only: "success", shared: "skipped", theirs: "missing-permissions"}
	if len(got) != len(want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	for id, code := range want {
		if got[id] != code {
			t.Errorf("%s: %s, want %s", id, got[id], code)
		}
	}
	_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{only}})
	apiErr(t, err, "InvalidSnapshot.NotFound", 400)
	must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{shared, theirs}}))

	// Without the flag nothing is touched and no result set comes back.
	keep := e.newSnapshot(owner)
	plain := e.registerOn(owner, "plain", keep)
	out = must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(plain)}))
	if len(out.DeleteSnapshotResults) != 0 {
		t.Fatalf("results without the flag: %+v", out.DeleteSnapshotResults)
	}
	must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{keep}}))
}

// RegisterImage checks each snapshot (spec §6.2), strictly by default.
func TestRegisterImageSnapshotChecks(t *testing.T) {
	e := startEnv(t)
	mine, private := e.newSnapshot(owner), e.newSnapshot(member)
	register := func(who, snap string, size *int32, dryRun bool) (string, error) {
		out, err := e.client(who).RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("checked-" + snap), RootDeviceName: aws.String("/dev/xvda"),
			DryRun: aws.Bool(dryRun), BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
				Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snap), VolumeSize: size}}}})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.ImageId), nil
	}
	cases := []struct {
		name, who, snap string
		size            *int32
		dryRun          bool
		code, message   string
	}{
		{"unknown", owner, "snap-0123456789abcdef0", nil, false, "InvalidSnapshot.NotFound", "The snapshot 'snap-0123456789abcdef0' does not exist."},
		{"unknown, dry run", owner, "snap-0123456789abcdef0", nil, true, "InvalidSnapshot.NotFound", "The snapshot 'snap-0123456789abcdef0' does not exist."},
		{"another account's private snapshot", owner, private, nil, false, "InvalidSnapshot.NotFound", "The snapshot '" + private + "' does not exist."},
		{"malformed", owner, "snap-123", nil, false, "InvalidSnapshotID.Malformed", `Invalid id: "snap-123" (expecting "snap-...")`},
		{"smaller than the snapshot", owner, mine, aws.Int32(4), false, "InvalidBlockDeviceMapping",
			"Volume of size 4GB is smaller than snapshot '" + mine + "', expect size >= 8GB"},
		{"dry run", owner, mine, nil, true, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := register(tc.who, tc.snap, tc.size, tc.dryRun)
			status := 400
			if tc.code == "DryRunOperation" {
				status = 412
			}
			if msg := apiErr(t, err, tc.code, status); msg != tc.message {
				t.Fatalf("message %q, want %q", msg, tc.message)
			}
		})
	}
	// Without VolumeSize the mapping records the snapshot's.
	id := must[string](t)(register(owner, mine, nil, false))
	img := must[*ec2.DescribeImagesOutput](t)(e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
	if got := aws.ToInt32(img.BlockDeviceMappings[0].Ebs.VolumeSize); got != 8 {
		t.Fatalf("volume size %d, want the snapshot's 8", got)
	}
	// A shared snapshot of another account may back the caller's AMI.
	e.shareSnapshot(member, private, owner)
	must[string](t)(register(owner, private, aws.Int32(16), false))
}

// With --allow-unknown-snapshots a made-up id is an external reference:
// registering, copying, launching and deregistering with
// DeleteAssociatedSnapshots all work; ids amigo holds keep EC2's rules.
func TestAllowUnknownSnapshots(t *testing.T) {
	e := startEnv(t, func(c *app.Config) { c.Image.AllowUnknownSnapshots = true })
	c := e.client(owner)
	ami := e.registerOn(owner, "external", "snap-0123456789abcdef0")
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})).Images[0]
	if aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId) != "snap-0123456789abcdef0" {
		t.Fatalf("mapping %+v", img.BlockDeviceMappings[0].Ebs)
	}
	// Invisible to the snapshot actions.
	_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-0123456789abcdef0"}})
	apiErr(t, err, "InvalidSnapshot.NotFound", 400)
	// Readable by whoever sees the image: a grantee copies it, and the copy
	// gets a real snapshot.
	must[*ec2.ModifyImageAttributeOutput](t)(c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(ami),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(member)}}}}))
	cp := aws.ToString(must[*ec2.CopyImageOutput](t)(e.client(member).CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(ami),
		SourceRegion: aws.String(region), Name: aws.String("copy")})).ImageId)
	copied := must[*ec2.DescribeImagesOutput](t)(e.client(member).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{cp}})).Images[0]
	must[*ec2.DescribeSnapshotsOutput](t)(e.client(member).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{
		SnapshotIds: []string{aws.ToString(copied.BlockDeviceMappings[0].Ebs.SnapshotId)}}))
	e.launch(member, ami, 1)
	out := must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ami), DeleteAssociatedSnapshots: aws.Bool(true)}))
	if len(out.DeleteSnapshotResults) != 1 || out.DeleteSnapshotResults[0].ReturnCode != "success" {
		t.Fatalf("results %+v", out.DeleteSnapshotResults)
	}
	// A snapshot amigo holds still follows the rules.
	private := e.newSnapshot(member)
	_, err = c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("not-mine"), RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(private)}}}})
	apiErr(t, err, "InvalidSnapshot.NotFound", 400)
}

// The catalogue's images come with public snapshots of their owners, so
// any account copies them, as Amazon's public AMIs.
func TestCatalogImagesHavePublicSnapshots(t *testing.T) {
	e := startEnv(t, withCatalog(t))
	c := e.client(stranger)
	imgs := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})).Images
	if len(imgs) == 0 {
		t.Fatal("no catalogue image")
	}
	src := imgs[0]
	snap := aws.ToString(src.BlockDeviceMappings[0].Ebs.SnapshotId)
	s := must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})).Snapshots[0]
	if aws.ToString(s.OwnerId) != aws.ToString(src.OwnerId) || aws.ToString(s.OwnerAlias) != "amazon" || s.State != ec2types.SnapshotStateCompleted {
		t.Fatalf("catalogue snapshot %+v", s)
	}
	if got := e.snapshotIDs(stranger, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"amazon"}, SnapshotIds: []string{snap}}); !slices.Equal(got, []string{snap}) {
		t.Fatalf("owner amazon: %v", got)
	}
	must[*ec2.CopyImageOutput](t)(e.clientIn(stranger, "eu-west-1").CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: src.ImageId,
		SourceRegion: aws.String(region), Name: aws.String("my-al2023")}))
	// The catalogue owner's snapshot is not the stranger's to delete.
	_, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
	apiErr(t, err, "AuthFailure", 400)
}

// Outposts and Local Zones are not modelled: their parameters answer
// UnsupportedOperation.
func TestSnapshotOutpostsUnsupported(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	snap := e.newSnapshot(owner)
	arn := "arn:aws:outposts:us-east-1:111122223333:outpost/op-0123456789abcdef0"
	_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(e.newVolume(owner, 8)), OutpostArn: aws.String(arn)})
	apiErr(t, err, "UnsupportedOperation", 400)
	_, err = c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(snap), DestinationOutpostArn: aws.String(arn)})
	apiErr(t, err, "UnsupportedOperation", 400)
}
