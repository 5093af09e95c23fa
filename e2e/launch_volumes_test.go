package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Volumes made by RunInstances and released by TerminateInstances (spec
// ec2-snapshots §2.5). Images are registered from real snapshots
// (CreateVolume, CreateSnapshot), as EC2 requires.

// registerFrom registers who's EBS image with a root device and a data
// device, both from snapshots who made; the data device is kept at
// termination. It returns the image and the root and data snapshots.
func (e *env) registerFrom(who, name string) (img, rootSnap, dataSnap string) {
	e.t.Helper()
	rootSnap, dataSnap = e.snapshotOfAvailable(who), e.snapshotOfAvailable(who)
	out, err := e.client(who).RegisterImage(ctx, &ec2.RegisterImageInput{
		Name: aws.String(name), RootDeviceName: aws.String("/dev/xvda"), Architecture: "x86_64", VirtualizationType: aws.String("hvm"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(rootSnap), VolumeSize: aws.Int32(8), VolumeType: ec2types.VolumeTypeGp3}},
			{DeviceName: aws.String("/dev/sdb"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(dataSnap), VolumeSize: aws.Int32(8), DeleteOnTermination: aws.Bool(false)}},
		},
	})
	if err != nil {
		e.t.Fatalf("register %s: %v", name, err)
	}
	return aws.ToString(out.ImageId), rootSnap, dataSnap
}

// snapshotOfAvailable is newSnapshot for servers with a pending delay:
// it waits (the SDK's VolumeAvailable waiter, polling quickly) until the
// new volume may be snapshotted.
func (e *env) snapshotOfAvailable(who string) string {
	e.t.Helper()
	c := e.client(who)
	vol := e.newVolume(who, 8)
	w := ec2.NewVolumeAvailableWaiter(c, func(o *ec2.VolumeAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vol}}, 30*time.Second); err != nil {
		e.t.Fatalf("volume %s never became available: %v", vol, err)
	}
	out, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)})
	if err != nil {
		e.t.Fatalf("create snapshot: %v", err)
	}
	return aws.ToString(out.SnapshotId)
}

// volumesOf describes who's volumes with filters, by id.
func (e *env) volumesOf(who string, filters ...ec2types.Filter) map[string]ec2types.Volume {
	e.t.Helper()
	out, err := e.client(who).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: filters})
	if err != nil {
		e.t.Fatalf("describe volumes as %s: %v", who, err)
	}
	vs := map[string]ec2types.Volume{}
	for _, v := range out.Volumes {
		vs[aws.ToString(v.VolumeId)] = v
	}
	return vs
}

func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

func TestLaunchCreatesAndTerminateReleasesVolumes(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	img, rootSnap, dataSnap := e.registerFrom(owner, "with-volumes")
	run := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro,
		Placement: &ec2types.Placement{AvailabilityZone: aws.String("us-east-1b")},
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{
			// The image's root, larger; a new blank provisioned-IOPS device.
			{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(20)}},
			{DeviceName: aws.String("/dev/sdc"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(50), VolumeType: ec2types.VolumeTypeIo2, Iops: aws.Int32(1000)}},
		},
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: []ec2types.Tag{{Key: aws.String("Team"), Value: aws.String("blue")}}},
		},
	}))
	inst := run.Instances[0]
	id := aws.ToString(inst.InstanceId)
	if aws.ToString(inst.RootDeviceName) != "/dev/xvda" || inst.RootDeviceType != ec2types.DeviceTypeEbs || len(inst.BlockDeviceMappings) != 3 {
		t.Fatalf("RunInstances answered root %s %s, mappings %+v", aws.ToString(inst.RootDeviceName), inst.RootDeviceType, inst.BlockDeviceMappings)
	}
	devices := map[string]string{} // device → volume id
	for _, m := range inst.BlockDeviceMappings {
		devices[aws.ToString(m.DeviceName)] = aws.ToString(m.Ebs.VolumeId)
	}

	// DescribeVolumes shows the three volumes attached, in the instance's
	// zone, with the merged settings and the launch's volume tags.
	vols := e.volumesOf(owner, filter("attachment.instance-id", id))
	want := []struct {
		device, snap string
		size         int32
		typ          ec2types.VolumeType
		iops         int32
		dot          bool
	}{
		{"/dev/xvda", rootSnap, 20, ec2types.VolumeTypeGp3, 3000, true},
		{"/dev/sdb", dataSnap, 8, ec2types.VolumeTypeGp2, 100, false},
		{"/dev/sdc", "", 50, ec2types.VolumeTypeIo2, 1000, true},
	}
	if len(vols) != len(want) {
		t.Fatalf("volumes attached to %s: %d, want %d", id, len(vols), len(want))
	}
	for _, w := range want {
		v, ok := vols[devices[w.device]]
		if !ok {
			t.Fatalf("no volume %s for %s", devices[w.device], w.device)
		}
		if v.State != ec2types.VolumeStateInUse || aws.ToString(v.AvailabilityZone) != "us-east-1b" || aws.ToString(v.SnapshotId) != w.snap ||
			aws.ToInt32(v.Size) != w.size || v.VolumeType != w.typ || aws.ToInt32(v.Iops) != w.iops || tagMap(v.Tags)["Team"] != "blue" || len(v.Tags) != 1 {
			t.Errorf("%s: %+v", w.device, v)
		}
		if len(v.Attachments) != 1 {
			t.Fatalf("%s attachments: %+v", w.device, v.Attachments)
		}
		a := v.Attachments[0]
		if aws.ToString(a.InstanceId) != id || aws.ToString(a.Device) != w.device || a.State != ec2types.VolumeAttachmentStateAttached ||
			aws.ToBool(a.DeleteOnTermination) != w.dot || !aws.ToTime(a.AttachTime).Equal(aws.ToTime(inst.LaunchTime)) || aws.ToString(a.VolumeId) != aws.ToString(v.VolumeId) {
			t.Errorf("%s attachment: %+v", w.device, a)
		}
	}
	for _, f := range []struct {
		f    ec2types.Filter
		want int
	}{
		{filter("attachment.device", "/dev/sdb"), 1},
		{filter("attachment.status", "attached"), 3},
		{filter("attachment.delete-on-termination", "false"), 1},
		{filter("status", "in-use"), 3},
		{filter("availability-zone", "us-east-1b"), 3},
	} {
		if got := len(e.volumesOf(owner, f.f)); got != f.want {
			t.Errorf("filter %s=%v: %d volumes, want %d", aws.ToString(f.f.Name), f.f.Values, got, f.want)
		}
	}

	// The instance lists them too, in DescribeInstances and as its
	// blockDeviceMapping attribute, and finds itself by volume id.
	desc := must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{filter("block-device-mapping.volume-id", devices["/dev/sdb"])}}))
	if len(desc.Reservations) != 1 || len(desc.Reservations[0].Instances[0].BlockDeviceMappings) != 3 {
		t.Fatalf("DescribeInstances by volume id: %+v", desc.Reservations)
	}
	attr := must[*ec2.DescribeInstanceAttributeOutput](t)(c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(id), Attribute: ec2types.InstanceAttributeNameBlockDeviceMapping}))
	var attrVols []string
	for _, m := range attr.BlockDeviceMappings {
		attrVols = append(attrVols, aws.ToString(m.Ebs.VolumeId))
	}
	if !slices.Equal(attrVols, []string{devices["/dev/xvda"], devices["/dev/sdb"], devices["/dev/sdc"]}) {
		t.Errorf("blockDeviceMapping attribute: %v", attrVols)
	}

	// An attached volume cannot be deleted.
	_, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(devices["/dev/xvda"])})
	if msg := apiErr(t, err, "VolumeInUse", 400); msg != "Volume "+devices["/dev/xvda"]+" is currently attached to "+id {
		t.Errorf("VolumeInUse message %q", msg)
	}

	// deleteOnTermination changed on the instance changes on the volume:
	// /dev/sdc is now kept.
	must[*ec2.ModifyInstanceAttributeOutput](t)(c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		BlockDeviceMappings: []ec2types.InstanceBlockDeviceMappingSpecification{{DeviceName: aws.String("/dev/sdc"),
			Ebs: &ec2types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(false)}}}}))
	if got := e.volumesOf(owner, filter("attachment.delete-on-termination", "false")); len(got) != 2 {
		t.Errorf("after ModifyInstanceAttribute, kept volumes: %d, want 2", len(got))
	}

	// Stopping keeps every volume in-use.
	must[*ec2.StopInstancesOutput](t)(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}))
	if got := e.volumesOf(owner, filter("status", "in-use")); len(got) != 3 {
		t.Errorf("stopped instance's in-use volumes: %d, want 3", len(got))
	}

	// Termination deletes the root and detaches the two kept volumes,
	// which keep their snapshot and tags.
	must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}))
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{devices["/dev/xvda"]}})
	apiErr(t, err, "InvalidVolume.NotFound", 400)
	kept := must[*ec2.DescribeVolumesOutput](t)(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{devices["/dev/sdb"], devices["/dev/sdc"]}}))
	snapOf := map[string]string{devices["/dev/sdb"]: dataSnap, devices["/dev/sdc"]: ""}
	for _, v := range kept.Volumes {
		vid := aws.ToString(v.VolumeId)
		if v.State != ec2types.VolumeStateAvailable || len(v.Attachments) != 0 || tagMap(v.Tags)["Team"] != "blue" || aws.ToString(v.SnapshotId) != snapOf[vid] {
			t.Errorf("kept volume %s: %+v", vid, v)
		}
	}
	tags := must[*ec2.DescribeTagsOutput](t)(c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{filter("resource-id", devices["/dev/xvda"])}}))
	if len(tags.Tags) != 0 {
		t.Errorf("the deleted volume's tags remain: %+v", tags.Tags)
	}
	term := must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}))
	if got := term.Reservations[0].Instances[0].BlockDeviceMappings; len(got) != 0 {
		t.Errorf("terminated instance still lists volumes: %+v", got)
	}
	// Detached, they can be deleted.
	must[*ec2.DeleteVolumeOutput](t)(c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(devices["/dev/sdc"])}))
}

// A launch that fails on its second device leaves no volume behind: the
// volumes are written in the launch's transaction.
func TestFailedLaunchLeavesNoVolumes(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	img, rootSnap, _ := e.registerFrom(owner, "fails")
	private := e.newSnapshot(stranger) // not shared with owner
	before := e.volumesOf(owner)
	for _, tc := range []struct {
		name string
		bdm  []ec2types.BlockDeviceMapping
		code string
		msg  string
	}{
		{"smaller than its snapshot", []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdb"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(4)}}},
			"InvalidBlockDeviceMapping", ""},
		{"throughput on gp2", []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdb"), Ebs: &ec2types.EbsBlockDevice{Throughput: aws.Int32(200)}}},
			"InvalidBlockDeviceMapping", "throughput cannot be specified with the volumeType of device '/dev/sdb'"},
		{"another account's private snapshot", []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdd"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(private)}}},
			"InvalidSnapshot.NotFound", "The snapshot '" + private + "' does not exist."},
		{"io1 without iops", []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sde"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(100), VolumeType: ec2types.VolumeTypeIo1}}},
			"InvalidBlockDeviceMapping", "The parameter iops must be specified for io1 volumes."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(2), MaxCount: aws.Int32(2), BlockDeviceMappings: tc.bdm})
			if msg := apiErr(t, err, tc.code, 400); tc.msg != "" && msg != tc.msg {
				t.Errorf("message %q, want %q", msg, tc.msg)
			}
		})
	}
	_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(4)}}}})
	if msg := apiErr(t, err, "InvalidBlockDeviceMapping", 400); msg != "Volume of size 4GB is smaller than snapshot '"+rootSnap+"', expect size >= 8GB" {
		t.Errorf("message %q", msg)
	}
	if after := e.volumesOf(owner); len(after) != len(before) {
		t.Errorf("failed launches left volumes: %d before, %d after", len(before), len(after))
	}
	if out := must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})); len(out.Reservations) != 0 {
		t.Errorf("failed launches left instances: %+v", out.Reservations)
	}
}

// Launching another account's shared AMI needs no permission on its
// snapshots; the volumes belong to the launcher, name the owner's
// snapshots, and the launcher still cannot see those snapshots.
func TestSharedImageVolumesBelongToTheLauncher(t *testing.T) {
	e := startEnv(t)
	img, rootSnap, _ := e.registerFrom(owner, "shared")
	must[*ec2.ModifyImageAttributeOutput](t)(e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img),
		LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(member)}}}}))
	ownerBefore := e.volumesOf(owner)
	id := e.launch(member, img, 1)[0]
	mine := e.volumesOf(member, filter("attachment.instance-id", id))
	if len(mine) != 2 {
		t.Fatalf("member's volumes of %s: %d, want 2", id, len(mine))
	}
	root := mine[e.volumeAt(member, id, "/dev/xvda")]
	if aws.ToString(root.SnapshotId) != rootSnap || root.State != ec2types.VolumeStateInUse {
		t.Errorf("member's root volume: %+v", root)
	}
	if got := e.volumesOf(owner); len(got) != len(ownerBefore) {
		t.Errorf("the image owner gained volumes: %d → %d", len(ownerBefore), len(got))
	}
	_, err := e.client(member).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{rootSnap}})
	apiErr(t, err, "InvalidSnapshot.NotFound", 400)
	must[*ec2.TerminateInstancesOutput](t)(e.client(member).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}))
	if left := e.volumesOf(member); len(left) != 1 {
		t.Errorf("after termination the member keeps %d volumes, want the data volume", len(left))
	}
}

// volumeAt is the id of the volume at device of who's instance.
func (e *env) volumeAt(who, instanceID, device string) string {
	e.t.Helper()
	out, err := e.client(who).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range out.Reservations[0].Instances[0].BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == device {
			return aws.ToString(m.Ebs.VolumeId)
		}
	}
	e.t.Fatalf("%s has no volume at %s", instanceID, device)
	return ""
}
