package e2e

// Replays of the calls the Terraform AWS provider makes, in its order and
// with its parameters (internal/service/ec2 of hashicorp/terraform-provider-aws;
// the sequences are written down in /work/notes/replays.md). Each helper is
// named for the provider function it stands for.

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/instance"
)

// errTFNotFound is the provider's tfresource.NotFound.
var errTFNotFound = errors.New("not found")

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// skipUnlessServed skips a step whose action another issue brings, and runs
// it as soon as amigo answers it.
func skipUnlessServed(t *testing.T, err error, action, issue string) {
	t.Helper()
	if errCode(err) == "InvalidAction" {
		t.Skipf("%s is not served yet (%s)", action, issue)
	}
}

// tfWait is the provider's retry.StateChangeConf: refresh until a target
// state; a state that is neither pending nor target fails. A nil target
// means "until not found" (the delete waiters).
func tfWait(t *testing.T, what string, refresh func() (string, error), pending, target []string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		state, err := refresh()
		switch {
		case errors.Is(err, errTFNotFound) && target == nil:
			return ""
		case errors.Is(err, errTFNotFound):
		case err != nil:
			t.Fatalf("%s: %v", what, err)
		case slices.Contains(target, state):
			return state
		case !slices.Contains(pending, state):
			t.Fatalf("%s: unexpected state %q", what, state)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %q", what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tfFindInstanceByID is FindInstanceByID: a terminated instance is not found.
func tfFindInstanceByID(c *ec2.Client, id string) (*ec2types.Instance, error) {
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if errCode(err) == "InvalidInstanceID.NotFound" {
		return nil, errTFNotFound
	}
	if err != nil {
		return nil, err
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		return nil, errTFNotFound
	}
	inst := out.Reservations[0].Instances[0]
	if inst.State.Name == ec2types.InstanceStateNameTerminated || aws.ToString(inst.InstanceId) != id {
		return nil, errTFNotFound
	}
	return &inst, nil
}

func tfInstanceState(c *ec2.Client, id string) func() (string, error) {
	return func() (string, error) {
		inst, err := tfFindInstanceByID(c, id)
		if err != nil {
			return "", err
		}
		return string(inst.State.Name), nil
	}
}

// tfFindImageByID is FindImageByID: a deregistered image is not found.
func tfFindImageByID(c *ec2.Client, id string) (*ec2types.Image, error) {
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDeprecated: aws.Bool(true)})
	if errCode(err) == "InvalidAMIID.NotFound" {
		return nil, errTFNotFound
	}
	if err != nil {
		return nil, err
	}
	if len(out.Images) != 1 || out.Images[0].State == ec2types.ImageStateDeregistered {
		return nil, errTFNotFound
	}
	return &out.Images[0], nil
}

// tfWaitImageAvailable is waitImageAvailable (pending → available).
func tfWaitImageAvailable(t *testing.T, c *ec2.Client, id string) {
	t.Helper()
	tfWait(t, "image "+id, func() (string, error) {
		img, err := tfFindImageByID(c, id)
		if err != nil {
			return "", err
		}
		return string(img.State), nil
	}, []string{"pending"}, []string{"available"})
}

// slowEnv makes new images and instances take a moment of real time, as
// on EC2, so the replays see the transitional states.
func slowEnv(t *testing.T) *env {
	return startEnv(t, func(c *app.Config) {
		c.Image.PendingDelay, c.Image.Now = 300*time.Millisecond, time.Now
		c.Instance.Delays = instance.Delays{Pending: 300 * time.Millisecond, Stopping: 300 * time.Millisecond}
	})
}

// data "aws_ami": one DescribeImages, then most_recent by CreationDate.
func TestTerraformDataAMI(t *testing.T) {
	e := startEnv(t)
	older := e.register(owner, "web-2026-01")
	e.clock.Advance(time.Second)
	newer := e.register(owner, "web-2026-02")
	e.register(owner, "db-2026-02")
	c := e.client(owner)
	out := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners: []string{"self"}, IncludeDeprecated: aws.Bool(false),
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"web-*"}},
			{Name: aws.String("virtualization-type"), Values: []string{"hvm"}}},
	}))
	if len(out.Images) != 2 {
		t.Fatalf("%d images, want 2", len(out.Images))
	}
	sort.Slice(out.Images, func(i, j int) bool {
		return aws.ToString(out.Images[i].CreationDate) > aws.ToString(out.Images[j].CreationDate)
	})
	img := out.Images[0]
	if aws.ToString(img.ImageId) != newer || aws.ToString(out.Images[1].ImageId) != older {
		t.Fatalf("most recent is %s, want %s", aws.ToString(img.ImageId), newer)
	}
	// Every attribute the data source sets is there.
	if aws.ToString(img.OwnerId) != owner || aws.ToString(img.ImageLocation) == "" || img.ImageType != ec2types.ImageTypeValuesMachine ||
		img.RootDeviceType != ec2types.DeviceTypeEbs || aws.ToString(img.RootDeviceName) != "/dev/xvda" || img.Hypervisor == "" ||
		aws.ToString(img.PlatformDetails) == "" || aws.ToString(img.UsageOperation) == "" || img.State != ec2types.ImageStateAvailable {
		t.Fatalf("image %+v", img)
	}
	// root_snapshot_id: the snapshot of the mapping at the root device.
	root := ""
	for _, m := range img.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == aws.ToString(img.RootDeviceName) && m.Ebs != nil {
			root = aws.ToString(m.Ebs.SnapshotId)
		}
	}
	// The image's own snapshot, which the owner can read.
	snaps := must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{root}}))
	if len(snaps.Snapshots) != 1 || aws.ToString(snaps.Snapshots[0].OwnerId) != owner {
		t.Fatalf("root snapshot %q: %+v", root, snaps.Snapshots)
	}
}

// aws_ami_launch_permission: create, read, destroy; destroying after the
// image is gone is tolerated.
func TestTerraformAMILaunchPermission(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "shared-by-terraform")
	c := e.client(owner)
	perms := []ec2types.LaunchPermission{{UserId: aws.String(member)}, {Group: ec2types.PermissionGroupAll},
		{OrganizationArn: aws.String(orgARN)}, {OrganizationalUnitArn: aws.String(ou1ARN)}}
	modify := func(lp ec2types.LaunchPermission, add bool) error {
		mods := &ec2types.LaunchPermissionModifications{Remove: []ec2types.LaunchPermission{lp}}
		if add {
			mods = &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{lp}}
		}
		_, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
			Attribute: aws.String("launchPermission"), LaunchPermission: mods})
		return err
	}
	// FindImageLaunchPermission.
	read := func(lp ec2types.LaunchPermission) bool {
		out := must[*ec2.DescribeImageAttributeOutput](t)(c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
			ImageId: aws.String(id), Attribute: ec2types.ImageAttributeNameLaunchPermission}))
		return slices.ContainsFunc(out.LaunchPermissions, func(p ec2types.LaunchPermission) bool {
			return aws.ToString(p.UserId) == aws.ToString(lp.UserId) && p.Group == lp.Group &&
				aws.ToString(p.OrganizationArn) == aws.ToString(lp.OrganizationArn) &&
				aws.ToString(p.OrganizationalUnitArn) == aws.ToString(lp.OrganizationalUnitArn)
		})
	}
	for _, lp := range perms {
		if err := modify(lp, true); err != nil {
			t.Fatal(err)
		}
		if !read(lp) {
			t.Fatalf("%+v not read back", lp)
		}
	}
	for _, lp := range perms[:3] {
		if err := modify(lp, false); err != nil {
			t.Fatal(err)
		}
		if read(lp) {
			t.Fatalf("%+v still read after destroy", lp)
		}
	}
	// When the image disappears, the refresh (HasLaunchPermission) sees an
	// InvalidAMIID.* error and drops the resource from the state.
	must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}))
	_, err := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: ec2types.ImageAttributeNameLaunchPermission})
	if !strings.HasPrefix(errCode(err), "InvalidAMIID.") {
		t.Fatalf("refresh after the image is gone: %v", err)
	}
}

// aws_ami_copy create: CopyImage in the destination region (with a client
// token, as newer providers send), wait, deprecation, read; destroy
// (resourceAMIDelete, as for aws_ami_from_instance).
func TestTerraformAMICopy(t *testing.T) {
	e := slowEnv(t)
	src := e.register(owner, "to-copy")
	tfWaitImageAvailable(t, e.client(owner), src)
	dst := e.clientIn(owner, "eu-west-1")
	in := &ec2.CopyImageInput{ClientToken: aws.String("terraform-20261202090000000000000001"), Description: aws.String("copied"),
		Encrypted: aws.Bool(false), Name: aws.String("copied"), SourceImageId: aws.String(src), SourceRegion: aws.String(region),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("copied")}}}}}
	id := aws.ToString(must[*ec2.CopyImageOutput](t)(dst.CopyImage(ctx, in)).ImageId)
	// A retry of the same create (same token) is the same image.
	if again := aws.ToString(must[*ec2.CopyImageOutput](t)(dst.CopyImage(ctx, in)).ImageId); again != id {
		t.Fatalf("retried copy made %s, want %s", again, id)
	}
	tfWaitImageAvailable(t, dst, id)
	at := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Minute)
	must[*ec2.EnableImageDeprecationOutput](t)(dst.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: &at}))
	img, err := tfFindImageByID(dst, id)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(img.Name) != "copied" || aws.ToString(img.Description) != "copied" || aws.ToString(img.SourceImageId) != src ||
		aws.ToString(img.DeprecationTime) != at.Format("2006-01-02T15:04:05.000Z") || tagMap(img.Tags)["Name"] != "copied" {
		t.Fatalf("read %+v", img)
	}
	tfDestroyAMI(t, dst, img)
}

// tfDestroyAMI is resourceAMIDelete: DeregisterImage, then DeleteSnapshot
// of each ebs_block_device snapshot at once (no retry; every error is
// reported), then wait until DescribeImages says the image is gone.
func tfDestroyAMI(t *testing.T, c *ec2.Client, img *ec2types.Image) {
	t.Helper()
	id := aws.ToString(img.ImageId)
	must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}))
	var snaps []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
			snaps = append(snaps, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	if len(snaps) == 0 {
		t.Fatalf("%s names no snapshot", id)
	}
	for _, s := range snaps {
		if _, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(s)}); err != nil {
			t.Errorf("deleting snapshot %s: %v", s, err)
		}
	}
	tfWait(t, "image delete", func() (string, error) {
		img, err := tfFindImageByID(c, id)
		if err != nil {
			return "", err
		}
		return string(img.State), nil
	}, []string{"available", "pending", "failed"}, nil)
	// The snapshots are gone too.
	for _, s := range snaps {
		_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{s}})
		apiErr(t, err, "InvalidSnapshot.NotFound", 400)
	}
}

// tfRunInstance is resourceInstanceCreate's RunInstances with the
// provider's defaults for a t3 instance, then WaitInstanceCreated.
func tfRunInstance(t *testing.T, c *ec2.Client, imageID, token string) string {
	t.Helper()
	in := &ec2.RunInstancesInput{
		ClientToken: aws.String(token), ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		CreditSpecification:   &ec2types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")},
		DisableApiTermination: aws.Bool(false), EbsOptimized: aws.Bool(false),
		Monitoring: &ec2types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(false)},
		Placement:  &ec2types.Placement{AvailabilityZone: aws.String("")},
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web-disk")}}}},
	}
	out := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, in))
	id := aws.ToString(out.Instances[0].InstanceId)
	tfWait(t, "create "+id, tfInstanceState(c, id), []string{"pending"}, []string{"running"})
	return id
}

// tfReadInstance is resourceInstanceRead, call for call.
func tfReadInstance(t *testing.T, c *ec2.Client, id string) *ec2types.Instance {
	t.Helper()
	inst, err := tfFindInstanceByID(c, id)
	if err != nil {
		t.Fatalf("FindInstanceByID: %v", err)
	}
	itype := string(inst.InstanceType)
	var burstable bool
	t.Run("DescribeInstanceTypes", func(t *testing.T) {
		out, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{inst.InstanceType}})
		skipUnlessServed(t, err, "DescribeInstanceTypes", "this issue, phase 2")
		if err != nil || len(out.InstanceTypes) != 1 || string(out.InstanceTypes[0].InstanceType) != itype {
			t.Fatalf("%v %+v", err, out)
		}
		burstable = aws.ToBool(out.InstanceTypes[0].BurstablePerformanceSupported)
	})
	// flattenInstanceLaunchTemplate → findInstanceTagValue.
	tags := must[*ec2.DescribeTagsOutput](t)(c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: aws.String("resource-id"), Values: []string{id}}, {Name: aws.String("key"), Values: []string{"aws:ec2launchtemplate:id"}}}}))
	if len(tags.Tags) != 0 {
		t.Fatalf("launch template tags %+v", tags.Tags)
	}
	attr := func(name ec2types.InstanceAttributeName) *ec2.DescribeInstanceAttributeOutput {
		t.Helper()
		out, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: name})
		if err != nil {
			t.Fatalf("DescribeInstanceAttribute %s: %v", name, err)
		}
		if aws.ToString(out.InstanceId) != id {
			t.Fatalf("DescribeInstanceAttribute %s names %q", name, aws.ToString(out.InstanceId))
		}
		return out
	}
	if v := attr(ec2types.InstanceAttributeNameInstanceInitiatedShutdownBehavior).InstanceInitiatedShutdownBehavior; v == nil || aws.ToString(v.Value) != "stop" {
		t.Fatalf("instanceInitiatedShutdownBehavior %+v", v)
	}
	// volume_tags is configured (tfRunInstance tags the volumes), so
	// readVolumeTags: getInstanceVolIDs, then DescribeTags on those ids.
	byInstance := must[*ec2.DescribeVolumesOutput](t)(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: []string{id}}}}))
	var attached []string
	for _, v := range byInstance.Volumes {
		attached = append(attached, aws.ToString(v.VolumeId))
	}
	volTags := must[*ec2.DescribeTagsOutput](t)(c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: aws.String("resource-id"), Values: attached}}}))
	if len(attached) == 0 || len(volTags.Tags) != len(attached) || aws.ToString(volTags.Tags[0].Value) != "web-disk" {
		t.Fatalf("volume tags of %v: %+v", attached, volTags.Tags)
	}
	// readBlockDevicesFromInstance: DescribeVolumes by the ids of the
	// instance's EBS mappings; the one at RootDeviceName is root_block_device.
	devices := map[string]ec2types.InstanceBlockDeviceMapping{}
	var volumes []string
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs != nil {
			devices[aws.ToString(m.Ebs.VolumeId)] = m
			volumes = append(volumes, aws.ToString(m.Ebs.VolumeId))
		}
	}
	if len(volumes) == 0 {
		t.Fatalf("the instance lists no EBS volume: %+v", inst.BlockDeviceMappings)
	}
	vols := must[*ec2.DescribeVolumesOutput](t)(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: volumes}))
	if len(vols.Volumes) != len(volumes) {
		t.Fatalf("DescribeVolumes(%v): %+v", volumes, vols.Volumes)
	}
	root := false
	for _, v := range vols.Volumes {
		m := devices[aws.ToString(v.VolumeId)]
		if m.Ebs.DeleteOnTermination == nil || v.Size == nil || v.VolumeType == "" || v.Encrypted == nil {
			t.Errorf("volume %s lacks what the provider reads: %+v (mapping %+v)", aws.ToString(v.VolumeId), v, m)
		}
		if aws.ToString(m.DeviceName) == aws.ToString(inst.RootDeviceName) {
			root = true
			if !aws.ToBool(m.Ebs.DeleteOnTermination) || aws.ToString(v.SnapshotId) == "" {
				t.Errorf("root volume %+v, mapping %+v", v, m)
			}
		}
	}
	if !root {
		t.Errorf("no volume at the root device %s", aws.ToString(inst.RootDeviceName))
	}
	if v := attr(ec2types.InstanceAttributeNameDisableApiTermination).DisableApiTermination; v == nil || aws.ToBool(v.Value) {
		t.Fatalf("disableApiTermination %+v", v)
	}
	attr(ec2types.InstanceAttributeNameUserData)
	if v := attr(ec2types.InstanceAttributeNameDisableApiStop).DisableApiStop; v == nil || aws.ToBool(v.Value) {
		t.Fatalf("disableApiStop %+v", v)
	}
	t.Run("DescribeInstanceCreditSpecifications", func(t *testing.T) {
		if !burstable {
			t.Skip("not burstable, or no instance type answer")
		}
		out, err := c.DescribeInstanceCreditSpecifications(ctx, &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: []string{id}})
		skipUnlessServed(t, err, "DescribeInstanceCreditSpecifications", "this issue, phase 2")
		if err != nil || len(out.InstanceCreditSpecifications) != 1 || aws.ToString(out.InstanceCreditSpecifications[0].CpuCredits) != "unlimited" {
			t.Fatalf("%v %+v", err, out)
		}
	})
	return inst
}

// aws_instance create, read, stop and start (aws_ec2_instance_state and an
// instance_type change), destroy.
func TestTerraformInstance(t *testing.T) {
	e := slowEnv(t)
	c := e.client(owner)
	img, _, _ := e.registerFrom(owner, "base") // root and data volumes from real snapshots
	tfWaitImageAvailable(t, c, img)

	id := tfRunInstance(t, c, img, "terraform-20261202090000000000000002")
	inst := tfReadInstance(t, c, id)
	if aws.ToString(inst.ImageId) != img || inst.InstanceType != ec2types.InstanceTypeT3Micro || aws.ToString(inst.Placement.AvailabilityZone) == "" ||
		tagMap(inst.Tags)["Name"] != "web" || inst.State.Name != ec2types.InstanceStateNameRunning || aws.ToInt32(inst.State.Code) != 16 {
		t.Fatalf("read %+v", inst)
	}

	// aws_ec2_instance_state { state = "stopped" }: WaitInstanceReady,
	// StopInstanceWithContext, read.
	ready := []string{"running", "stopped"}
	tfWait(t, "ready", tfInstanceState(c, id), []string{"pending", "stopping"}, ready)
	stop := must[*ec2.StopInstancesOutput](t)(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}, Force: aws.Bool(false)}))
	if ch := stop.StoppingInstances[0]; aws.ToString(ch.InstanceId) != id || ch.PreviousState.Name != "running" || ch.CurrentState.Name != "stopping" ||
		aws.ToInt32(ch.CurrentState.Code) != 64 {
		t.Fatalf("stop answer %+v", ch)
	}
	tfWait(t, "stop", tfInstanceState(c, id), []string{"pending", "running", "shutting-down", "stopping"}, []string{"stopped"})
	// …then state = "running".
	tfWait(t, "ready", tfInstanceState(c, id), []string{"pending", "stopping"}, ready)
	start := must[*ec2.StartInstancesOutput](t)(c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}))
	if ch := start.StartingInstances[0]; ch.PreviousState.Name != "stopped" || ch.CurrentState.Name != "pending" || aws.ToInt32(ch.CurrentState.Code) != 0 {
		t.Fatalf("start answer %+v", ch)
	}
	tfWait(t, "start", tfInstanceState(c, id), []string{"pending", "stopped"}, []string{"running"})

	// instance_type change: modifyInstanceAttributeWithStopStart.
	must[*ec2.StopInstancesOutput](t)(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}))
	tfWait(t, "stop", tfInstanceState(c, id), []string{"pending", "running", "shutting-down", "stopping"}, []string{"stopped"})
	must[*ec2.ModifyInstanceAttributeOutput](t)(c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		InstanceType: &ec2types.AttributeValue{Value: aws.String("t3.small")}}))
	must[*ec2.StartInstancesOutput](t)(c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}))
	tfWait(t, "start", tfInstanceState(c, id), []string{"pending", "stopped"}, []string{"running"})
	if inst := tfReadInstance(t, c, id); inst.InstanceType != ec2types.InstanceTypeT3Small {
		t.Fatalf("type after the change: %s", inst.InstanceType)
	}

	// Destroy: resourceInstanceDelete.
	must[*ec2.ModifyInstanceAttributeOutput](t)(c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		DisableApiTermination: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}}))
	must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}))
	tfWait(t, "delete", tfInstanceState(c, id), []string{"pending", "running", "shutting-down", "stopping", "stopped"}, nil)
	// The root volume went with the instance; the data volume
	// (deleteOnTermination false in the image) stays, detached.
	left := must[*ec2.DescribeVolumesOutput](t)(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"web-disk"}}}}))
	if len(left.Volumes) != 1 || left.Volumes[0].State != ec2types.VolumeStateAvailable {
		t.Errorf("volumes after destroy: %+v", left.Volumes)
	}
	// A second destroy (state drift) finds nothing to do.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil && errCode(err) != "InvalidInstanceID.NotFound" {
		t.Fatal(err)
	}
}

// aws_ami_from_instance create and read; destroy (DeregisterImage, then
// DeleteSnapshot for the image's snapshots, then wait until it is gone).
func TestTerraformAMIFromInstance(t *testing.T) {
	e := slowEnv(t)
	c := e.client(owner)
	base := e.register(owner, "base")
	tfWaitImageAvailable(t, c, base)
	inst := tfRunInstance(t, c, base, "terraform-20261202090000000000000003")

	out := must[*ec2.CreateImageOutput](t)(c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("from-instance"),
		Description: aws.String("made by terraform"), NoReboot: aws.Bool(false),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("from-instance")}}}}}))
	id := aws.ToString(out.ImageId)
	tfWaitImageAvailable(t, c, id)
	img, err := tfFindImageByID(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(img.SourceInstanceId) != inst || aws.ToString(img.Description) != "made by terraform" || tagMap(img.Tags)["Name"] != "from-instance" ||
		len(img.BlockDeviceMappings) == 0 {
		t.Fatalf("read %+v", img)
	}

	tfDestroyAMI(t, c, img)
}
