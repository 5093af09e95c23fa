package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/app"
)

// newSnapshot snapshots a new 8 GiB volume of who's.
func (e *env) newSnapshot(who string) string {
	e.t.Helper()
	out, err := e.client(who).CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(e.newVolume(who, 8))})
	if err != nil {
		e.t.Fatalf("create snapshot: %v", err)
	}
	return aws.ToString(out.SnapshotId)
}

// snapshotIDs lists the snapshot ids DescribeSnapshots gives who for in.
func (e *env) snapshotIDs(who string, in *ec2.DescribeSnapshotsInput) []string {
	e.t.Helper()
	out, err := e.client(who).DescribeSnapshots(ctx, in)
	if err != nil {
		e.t.Fatalf("describe snapshots as %s: %v", who, err)
	}
	ids := []string{}
	for _, s := range out.Snapshots {
		ids = append(ids, aws.ToString(s.SnapshotId))
	}
	return ids
}

func TestSnapshotLifecycle(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	vol := e.newVolume(owner, 8)
	created := must[*ec2.CreateSnapshotOutput](t)(c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol), Description: aws.String("nightly"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String("Team"), Value: aws.String("blue")}}}}}))
	id := aws.ToString(created.SnapshotId)
	if created.State != ec2types.SnapshotStatePending || aws.ToString(created.VolumeId) != vol || aws.ToInt32(created.VolumeSize) != 8 ||
		aws.ToString(created.OwnerId) != owner || tagMap(created.Tags)["Team"] != "blue" {
		t.Fatalf("CreateSnapshot answered %+v", created)
	}
	// The SDK's waiter sees it completed at once.
	if err := ec2.NewSnapshotCompletedWaiter(c).Wait(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}}, 5e9); err != nil {
		t.Fatal(err)
	}
	d := must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}}))
	if len(d.Snapshots) != 1 || aws.ToString(d.Snapshots[0].Progress) != "100%" || d.Snapshots[0].StorageTier != ec2types.StorageTierStandard ||
		aws.ToString(d.Snapshots[0].Description) != "nightly" {
		t.Fatalf("DescribeSnapshots: %+v", d.Snapshots)
	}
	for _, f := range []struct {
		name, value string
		want        int
	}{{"volume-id", vol, 1}, {"status", "completed", 1}, {"description", "night*", 1}, {"tag:Team", "blue", 1}, {"volume-size", "9", 0}, {"owner-id", member, 0}} {
		if got := e.snapshotIDs(owner, &ec2.DescribeSnapshotsInput{Filters: []ec2types.Filter{{Name: aws.String(f.name), Values: []string{f.value}}}}); len(got) != f.want {
			t.Errorf("filter %s=%s: %v", f.name, f.value, got)
		}
	}

	// Tags on snap- and vol- ids, and DescribeTags by resource type.
	must[*ec2.CreateTagsOutput](t)(c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id, vol}, Tags: []ec2types.Tag{{Key: aws.String("Stage"), Value: aws.String("prod")}}}))
	for typ, want := range map[string]string{"snapshot": id, "volume": vol} {
		out := must[*ec2.DescribeTagsOutput](t)(c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-type"), Values: []string{typ}}}}))
		for _, tg := range out.Tags {
			if aws.ToString(tg.ResourceId) != want || string(tg.ResourceType) != typ {
				t.Errorf("DescribeTags %s: %+v", typ, tg)
			}
		}
		if len(out.Tags) == 0 {
			t.Errorf("DescribeTags %s: none", typ)
		}
	}
	_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"snap-00000000000000999"}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	apiErr(t, err, "InvalidSnapshot.NotFound", 400)
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"vol-00000000000000999"}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	apiErr(t, err, "InvalidVolume.NotFound", 400)

	// A volume restored from the snapshot takes its size; a smaller one is refused.
	restored := must[*ec2.CreateVolumeOutput](t)(c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: aws.String(id)}))
	if aws.ToInt32(restored.Size) != 8 || aws.ToString(restored.SnapshotId) != id {
		t.Fatalf("restored %+v", restored)
	}
	_, err = c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: aws.String(id), Size: aws.Int32(4)})
	apiErr(t, err, "InvalidParameterValue", 400)

	// A registered AMI holds the snapshot until it is deregistered.
	img := must[*ec2.RegisterImageOutput](t)(c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("uses-snap"), RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(id)}}}}))
	_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
	if msg := apiErr(t, err, "InvalidSnapshot.InUse", 400); msg != "The snapshot "+id+" is currently in use by "+aws.ToString(img.ImageId) {
		t.Errorf("message %q", msg)
	}
	must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: img.ImageId}))
	_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id), DryRun: aws.Bool(true)})
	apiErr(t, err, "DryRunOperation", 412)
	must[*ec2.DeleteSnapshotOutput](t)(c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)}))
	_, err = c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
	if msg := apiErr(t, err, "InvalidSnapshot.NotFound", 400); msg != "The snapshot '"+id+"' does not exist." {
		t.Errorf("message %q", msg)
	}
	_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
	apiErr(t, err, "InvalidSnapshot.NotFound", 400)
	// Volumes made from it live on.
	must[*ec2.DescribeVolumesOutput](t)(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{aws.ToString(restored.VolumeId)}}))
}

func TestSnapshotErrors(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	id := e.newSnapshot(owner)
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"create: malformed volume", func() error {
			_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-malformedvolume")})
			return err
		}, "InvalidVolumeID.Malformed"},
		{"create: unknown volume", func() error {
			_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-00000000000000999")})
			return err
		}, "InvalidVolume.NotFound"},
		{"describe: malformed", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-malformedsnap"}})
			return err
		}, "InvalidSnapshotID.Malformed"},
		{"describe: ids with MaxResults", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}, MaxResults: aws.Int32(5)})
			return err
		}, "InvalidParameterCombination"},
		{"describe: bad owner", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"someone"}})
			return err
		}, "InvalidUserID.Malformed"},
		{"describe: unknown filter", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
			return err
		}, "InvalidParameterValue"},
		{"copy: encrypted=false", func() error {
			_, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(id), Encrypted: aws.Bool(false)})
			return err
		}, "InvalidParameterValue"},
		{"copy: key without encryption", func() error {
			_, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(id), KmsKeyId: aws.String("alias/x")})
			return err
		}, "InvalidParameterDependency"},
		{"copy: unknown source", func() error {
			_, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String("snap-00000000000000999")})
			return err
		}, "InvalidSnapshot.NotFound"},
		{"copy: malformed source", func() error {
			_, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String("snap-x")})
			return err
		}, "InvalidSnapshotID.Malformed"},
		{"modify: nothing", func() error {
			_, err := c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(id)})
			return err
		}, "InvalidParameterCombination"},
		{"modify: add and remove", func() error {
			_, err := c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(id), CreateVolumePermission: &ec2types.CreateVolumePermissionModifications{
				Add: []ec2types.CreateVolumePermission{{UserId: aws.String(member)}}, Remove: []ec2types.CreateVolumePermission{{UserId: aws.String(stranger)}}}})
			return err
		}, "InvalidParameterCombination"},
		{"modify: bad user", func() error {
			_, err := c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission,
				OperationType: ec2types.OperationTypeAdd, UserIds: []string{"12345"}})
			return err
		}, "InvalidUserID.Malformed"},
		{"modify: bad group", func() error {
			_, err := c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission,
				OperationType: ec2types.OperationTypeAdd, GroupNames: []string{"everyone"}})
			return err
		}, "InvalidParameterValue"},
		{"modify: flat without operation", func() error {
			_, err := c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission, UserIds: []string{member}})
			return err
		}, "MissingParameter"},
		{"modify: product codes", func() error {
			_, err := c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameProductCodes, OperationType: ec2types.OperationTypeAdd, UserIds: []string{member}})
			return err
		}, "InvalidParameter"},
		{"describe attribute: unknown", func() error {
			_, err := c.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: "launchPermission"})
			return err
		}, "InvalidRequest"},
		{"reset: product codes", func() error {
			_, err := c.ResetSnapshotAttribute(ctx, &ec2.ResetSnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameProductCodes})
			return err
		}, "InvalidRequest"},
		{"block public access: unblocked", func() error {
			_, err := c.EnableSnapshotBlockPublicAccess(ctx, &ec2.EnableSnapshotBlockPublicAccessInput{State: ec2types.SnapshotBlockPublicAccessStateUnblocked})
			return err
		}, "InvalidRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) { apiErr(t, tc.call(), tc.code, 400) })
	}
	_, err := e.client("readonly").CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-00000000000000999")})
	apiErr(t, err, "UnauthorizedOperation", 403)
}

func TestSnapshotSharing(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	id := e.newSnapshot(owner)
	lookup := func(who string) error {
		_, err := e.client(who).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
		return err
	}
	apiErr(t, lookup(member), "InvalidSnapshot.NotFound", 400)

	// Packer's form: both the flat and the structured list, no Attribute.
	must[*ec2.ModifySnapshotAttributeOutput](t)(c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(id), UserIds: []string{member},
		CreateVolumePermission: &ec2types.CreateVolumePermissionModifications{Add: []ec2types.CreateVolumePermission{{UserId: aws.String(member)}}}}))
	attr := must[*ec2.DescribeSnapshotAttributeOutput](t)(c.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission}))
	if len(attr.CreateVolumePermissions) != 1 || aws.ToString(attr.CreateVolumePermissions[0].UserId) != member {
		t.Fatalf("permissions %+v", attr.CreateVolumePermissions)
	}
	must[*ec2.DescribeSnapshotsOutput](t)(e.client(member).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}}))
	// RestorableBy: the grantee finds it as self; an outsider does not.
	if got := e.snapshotIDs(member, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"self"}}); !slices.Equal(got, []string{id}) {
		t.Fatalf("grantee restorable-by self: %v", got)
	}
	if got := e.snapshotIDs(owner, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{member}}); !slices.Equal(got, []string{id}) {
		t.Fatalf("owner asking what it shares with the member: %v", got)
	}
	if got := e.snapshotIDs(stranger, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"self"}}); len(got) != 0 {
		t.Fatalf("outsider restorable-by self: %v", got)
	}
	apiErr(t, lookup(stranger), "InvalidSnapshot.NotFound", 400)

	// The grantee copies it, owns the copy, and cannot touch the original.
	cp := must[*ec2.CopySnapshotOutput](t)(e.client(member).CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(id), Description: aws.String("mine")}))
	copied := must[*ec2.DescribeSnapshotsOutput](t)(e.client(member).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{aws.ToString(cp.SnapshotId)}}))
	if s := copied.Snapshots[0]; aws.ToString(s.OwnerId) != member || aws.ToString(s.VolumeId) != "vol-ffffffff" {
		t.Fatalf("copy %+v", s)
	}
	_, err := e.client(stranger).CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(id)})
	apiErr(t, err, "InvalidSnapshot.NotFound", 400)
	_, err = e.client(member).DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
	if msg := apiErr(t, err, "AuthFailure", 400); msg != "Not authorized for snapshot:"+id {
		t.Errorf("message %q", msg)
	}
	_, err = e.client(member).DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission})
	apiErr(t, err, "AuthFailure", 400)
	// Copying from another served region.
	must[*ec2.CopySnapshotOutput](t)(e.clientIn(member, "eu-west-1").CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(id)}))

	// Public, then hidden by block-all-sharing, then refused by block-new-sharing.
	must[*ec2.ModifySnapshotAttributeOutput](t)(c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission,
		OperationType: ec2types.OperationTypeAdd, GroupNames: []string{"all"}}))
	must[*ec2.DescribeSnapshotsOutput](t)(e.client(stranger).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}}))
	if got := e.snapshotIDs(stranger, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"all"}}); !slices.Equal(got, []string{id}) {
		t.Fatalf("restorable-by all: %v", got)
	}
	must[*ec2.EnableSnapshotBlockPublicAccessOutput](t)(c.EnableSnapshotBlockPublicAccess(ctx, &ec2.EnableSnapshotBlockPublicAccessInput{State: ec2types.SnapshotBlockPublicAccessStateBlockAllSharing}))
	apiErr(t, lookup(stranger), "InvalidSnapshot.NotFound", 400)
	must[*ec2.DescribeSnapshotsOutput](t)(e.client(member).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})) // explicit grants stay
	got := must[*ec2.GetSnapshotBlockPublicAccessStateOutput](t)(c.GetSnapshotBlockPublicAccessState(ctx, &ec2.GetSnapshotBlockPublicAccessStateInput{}))
	if got.State != ec2types.SnapshotBlockPublicAccessStateBlockAllSharing || got.ManagedBy != ec2types.ManagedByAccount {
		t.Fatalf("Get: %+v", got)
	}
	must[*ec2.EnableSnapshotBlockPublicAccessOutput](t)(c.EnableSnapshotBlockPublicAccess(ctx, &ec2.EnableSnapshotBlockPublicAccessInput{State: ec2types.SnapshotBlockPublicAccessStateBlockNewSharing}))
	must[*ec2.DescribeSnapshotsOutput](t)(e.client(stranger).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}}))
	other := e.newSnapshot(owner)
	_, err = c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(other), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission,
		OperationType: ec2types.OperationTypeAdd, GroupNames: []string{"all"}})
	apiErr(t, err, "OperationNotPermitted", 400)
	must[*ec2.DisableSnapshotBlockPublicAccessOutput](t)(c.DisableSnapshotBlockPublicAccess(ctx, &ec2.DisableSnapshotBlockPublicAccessInput{}))

	// Reset makes it private again; the grantee's copy stays its own.
	must[*ec2.ResetSnapshotAttributeOutput](t)(c.ResetSnapshotAttribute(ctx, &ec2.ResetSnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission}))
	apiErr(t, lookup(member), "InvalidSnapshot.NotFound", 400)
	must[*ec2.DescribeSnapshotsOutput](t)(e.client(member).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{aws.ToString(cp.SnapshotId)}}))
}

func TestDescribeSnapshotsPages(t *testing.T) {
	e := startEnv(t)
	for range 6 {
		e.newSnapshot(owner)
	}
	p := ec2.NewDescribeSnapshotsPaginator(e.client(owner), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, MaxResults: aws.Int32(5)})
	seen, pages := map[string]bool{}, 0
	for p.HasMorePages() {
		out := must[*ec2.DescribeSnapshotsOutput](t)(p.NextPage(ctx))
		pages++
		for _, s := range out.Snapshots {
			seen[aws.ToString(s.SnapshotId)] = true
		}
	}
	if len(seen) != 6 || pages != 2 {
		t.Fatalf("%d snapshots in %d pages", len(seen), pages)
	}
}

// With --pending-delay a new volume is creating and a new snapshot pending
// until the delay has passed on the domain clock; a pending snapshot
// cannot be copied or restored yet.
func TestSnapshotPendingDelay(t *testing.T) {
	e := startEnv(t, func(c *app.Config) { c.Image.PendingDelay = 2 * time.Second })
	c := e.client(owner)
	vol := e.newVolume(owner, 8)
	_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)})
	apiErr(t, err, "IncorrectState", 400)
	state := func() ec2types.VolumeState {
		out := must[*ec2.DescribeVolumesOutput](t)(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vol}}))
		return out.Volumes[0].State
	}
	if got := state(); got != ec2types.VolumeStateCreating {
		t.Fatalf("volume %s before the delay", got)
	}
	e.clock.Advance(2 * time.Second)
	if got := state(); got != ec2types.VolumeStateAvailable {
		t.Fatalf("volume %s after the delay", got)
	}
	id := aws.ToString(must[*ec2.CreateSnapshotOutput](t)(c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)})).SnapshotId)
	snap := func() ec2types.Snapshot {
		out := must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}}))
		return out.Snapshots[0]
	}
	if s := snap(); s.State != ec2types.SnapshotStatePending || aws.ToString(s.Progress) != "" {
		t.Fatalf("before the delay: %s %q", s.State, aws.ToString(s.Progress))
	}
	_, err = c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(id)})
	apiErr(t, err, "IncorrectState", 400)
	_, err = c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: aws.String(id)})
	apiErr(t, err, "IncorrectState", 400)
	e.clock.Advance(2 * time.Second)
	if s := snap(); s.State != ec2types.SnapshotStateCompleted || aws.ToString(s.Progress) != "100%" {
		t.Fatalf("after the delay: %s %q", s.State, aws.ToString(s.Progress))
	}
}

// Encrypted snapshots are never public, and those under the account's
// default EBS key are not shared at all; a copy with a customer key can be
// shared with accounts.
func TestEncryptedSnapshotGates(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	vol := must[*ec2.CreateVolumeOutput](t)(c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), Encrypted: aws.Bool(true)}))
	if !aws.ToBool(vol.Encrypted) || aws.ToString(vol.KmsKeyId) == "" {
		t.Fatalf("encrypted volume %+v", vol)
	}
	snap := must[*ec2.CreateSnapshotOutput](t)(c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId}))
	if !aws.ToBool(snap.Encrypted) || aws.ToString(snap.KmsKeyId) != aws.ToString(vol.KmsKeyId) {
		t.Fatalf("snapshot encryption %+v", snap)
	}
	share := func(id string, perm ec2types.CreateVolumePermission) error {
		_, err := c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(id),
			CreateVolumePermission: &ec2types.CreateVolumePermissionModifications{Add: []ec2types.CreateVolumePermission{perm}}})
		return err
	}
	if msg := apiErr(t, share(aws.ToString(snap.SnapshotId), ec2types.CreateVolumePermission{UserId: aws.String(member)}), "OperationNotPermitted", 400); msg != "Encrypted snapshots with EBS default key cannot be shared" {
		t.Errorf("message %q", msg)
	}
	cp := must[*ec2.CopySnapshotOutput](t)(c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: snap.SnapshotId,
		Encrypted: aws.Bool(true), KmsKeyId: aws.String("alias/team")}))
	if msg := apiErr(t, share(aws.ToString(cp.SnapshotId), ec2types.CreateVolumePermission{Group: ec2types.PermissionGroupAll}), "OperationNotPermitted", 400); msg != "Encrypted snapshots cannot be shared publicly" {
		t.Errorf("message %q", msg)
	}
	if err := share(aws.ToString(cp.SnapshotId), ec2types.CreateVolumePermission{UserId: aws.String(member)}); err != nil {
		t.Fatal(err)
	}
	// The grantee's volume from it stays encrypted.
	v := must[*ec2.CreateVolumeOutput](t)(e.client(member).CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: cp.SnapshotId, Encrypted: aws.Bool(false)}))
	if !aws.ToBool(v.Encrypted) {
		t.Fatal("a volume from an encrypted snapshot is not encrypted")
	}
}

// An outcome rule on CreateSnapshot or CopySnapshot keeps the new snapshot
// pending for `after`, then it reads error with the rule's message
// (snapshots fail into error, images into failed); the SDK's
// snapshot-completed waiter sees the failure.
func TestSnapshotOutcomeFault(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	good := e.newSnapshot(owner)
	vol := e.newVolume(owner, 8)
	doc := `rules:
  - {action: CreateSnapshot, outcome: {state: failed, after: 5s, message: "Snapshot failed: rehearsal."}}
  - {action: CopySnapshot, resource: ` + good + `, outcome: {state: failed, after: 10s}}
`
	if r := e.faultsDo(t, "PUT", doc, nil); r.status != 200 {
		t.Fatalf("PUT faults: HTTP %d: %s", r.status, r.body)
	}
	created := must[*ec2.CreateSnapshotOutput](t)(c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)}))
	if created.State != ec2types.SnapshotStatePending || created.StateMessage != nil {
		t.Fatalf("CreateSnapshot answered %s %v", created.State, aws.ToString(created.StateMessage))
	}
	doomed := aws.ToString(created.SnapshotId)
	cp := aws.ToString(must[*ec2.CopySnapshotOutput](t)(c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(good)})).SnapshotId)
	snap := func(id string) ec2types.Snapshot {
		return must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})).Snapshots[0]
	}
	for _, id := range []string{doomed, cp} {
		if s := snap(id); s.State != ec2types.SnapshotStatePending || s.StateMessage != nil {
			t.Fatalf("%s before its time: %s %q", id, s.State, aws.ToString(s.StateMessage))
		}
	}
	e.clock.Advance(5 * time.Second)
	if s := snap(doomed); s.State != ec2types.SnapshotStateError || aws.ToString(s.StateMessage) != "Snapshot failed: rehearsal." {
		t.Fatalf("created snapshot after 5s: %s %q", s.State, aws.ToString(s.StateMessage))
	}
	if s := snap(cp); s.State != ec2types.SnapshotStatePending {
		t.Fatalf("copy after 5s: %s", s.State)
	}
	fast := func(o *ec2.SnapshotCompletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	}
	err := ec2.NewSnapshotCompletedWaiter(c, fast).Wait(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{doomed}}, 5*time.Second)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "failure") {
		t.Fatalf("waiter: %v, want a failure", err)
	}
	_, err = c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: aws.String(doomed)})
	apiErr(t, err, "IncorrectState", 400)
	e.clock.Advance(5 * time.Second)
	if s := snap(cp); s.State != ec2types.SnapshotStateError || aws.ToString(s.StateMessage) != "Failed by a fault injection rule." {
		t.Fatalf("copy after 10s: %s %q", s.State, aws.ToString(s.StateMessage))
	}
	wantLines(t, e.scrape(t),
		`amigo_faults_injected_total{action="CreateSnapshot",kind="outcome"} 1`,
		`amigo_faults_injected_total{action="CopySnapshot",kind="outcome"} 1`)
}
