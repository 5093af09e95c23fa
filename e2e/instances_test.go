package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// run launches count instances of id as who.
func (e *env) run(who, id string, count int32) (*ec2.RunInstancesOutput, error) {
	return e.client(who).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(count), MaxCount: aws.Int32(count)})
}

// launch is run that must succeed; it returns the instance ids.
func (e *env) launch(who, id string, count int32) []string {
	e.t.Helper()
	out, err := e.run(who, id, count)
	if err != nil {
		e.t.Fatalf("run %s as %s: %v", id, who, err)
	}
	var ids []string
	for _, inst := range out.Instances {
		ids = append(ids, aws.ToString(inst.InstanceId))
	}
	return ids
}

func TestLaunchNeedsLaunchPermission(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "launch-me")
	grant(t, e, id, ec2types.LaunchPermission{OrganizationalUnitArn: aws.String(ou1ARN)}, false)

	// Member (in the OU) and nested (in an OU below it) may launch it.
	out := must[*ec2.RunInstancesOutput](t)(e.run(member, id, 1))
	if aws.ToString(out.OwnerId) != member || len(out.Instances) != 1 || aws.ToString(out.Instances[0].ImageId) != id {
		t.Fatalf("reservation %+v", out)
	}
	if s := out.Instances[0].State; s.Name != ec2types.InstanceStateNamePending || aws.ToInt32(s.Code) != 0 {
		t.Fatalf("RunInstances shows %v/%d, want pending/0", s.Name, aws.ToInt32(s.Code))
	}
	e.launch(nested, id, 1)

	// The stranger, outside the organization, gets EC2's answer.
	_, err := e.run(stranger, id, 1)
	if msg := apiErr(t, err, "AuthFailure", 400); msg != "Not authorized for images: ["+id+"]" {
		t.Fatalf("message %q", msg)
	}
	// EC2 checks the image before it answers a DryRun.
	_, err = e.client(stranger).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: aws.Bool(true)})
	apiErr(t, err, "AuthFailure", 400)
	_, err = e.client(member).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: aws.Bool(true)})
	apiErr(t, err, "DryRunOperation", 412)

	_, err = e.run(member, "ami-0123456789abcdef0", 1)
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
	_, err = e.run(member, "ami-nope", 1)
	apiErr(t, err, "InvalidAMIID.Malformed", 400)

	// A launch is recorded on the image.
	attr := must[*ec2.DescribeImageAttributeOutput](t)(e.client(owner).DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
		ImageId: aws.String(id), Attribute: ec2types.ImageAttributeNameLastLaunchedTime}))
	if attr.LastLaunchedTime == nil || aws.ToString(attr.LastLaunchedTime.Value) == "" {
		t.Fatal("lastLaunchedTime not set after a launch")
	}

	// After DisableImage nobody launches it, the owner included.
	must[*ec2.DisableImageOutput](t)(e.client(owner).DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(id)}))
	_, err = e.run(member, id, 1)
	apiErr(t, err, "AuthFailure", 400)
	_, err = e.run(owner, id, 1)
	if msg := apiErr(t, err, "InvalidAMIID.Unavailable", 400); msg != "AMI '"+id+"' is disabled, and cannot be run" {
		t.Fatalf("message %q", msg)
	}
	must[*ec2.EnableImageOutput](t)(e.client(owner).EnableImage(ctx, &ec2.EnableImageInput{ImageId: aws.String(id)}))
	e.launch(owner, id, 1)
	_, err = e.run(member, id, 1) // the grants did not come back
	apiErr(t, err, "AuthFailure", 400)

	// Deregistered: gone.
	must[*ec2.DeregisterImageOutput](t)(e.client(owner).DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}))
	_, err = e.run(owner, id, 1)
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
}

func TestDeprecatedImagesStillLaunch(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "old-but-fine")
	grant(t, e, id, ec2types.LaunchPermission{UserId: aws.String(member)}, false)
	at := e.clock.Now().Add(2 * time.Minute)
	must[*ec2.EnableImageDeprecationOutput](t)(e.client(owner).EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: &at}))
	e.clock.Advance(10 * time.Minute)
	if ids := e.visibleIDs(member, &ec2.DescribeImagesInput{}); slices.Contains(ids, id) {
		t.Fatal("deprecated image listed to a grantee")
	}
	e.launch(member, id, 1)
}

func TestImdsV2ImageRequiresTokens(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	v2 := must[*ec2.RegisterImageOutput](t)(c.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name: aws.String("imds-v2"), RootDeviceName: aws.String("/dev/xvda"), Architecture: "arm64",
		VirtualizationType: aws.String("hvm"), ImdsSupport: ec2types.ImdsSupportValuesV20, BootMode: ec2types.BootModeValuesUefi,
		EnaSupport: aws.Bool(true),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture()), VolumeSize: aws.Int32(8)}}},
	})).ImageId
	plain := e.register(owner, "imds-any")

	// An arm64 image needs a Graviton type (EC2's default, m1.small, is x86).
	inst := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: v2, InstanceType: ec2types.InstanceTypeT4gMicro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).Instances[0]
	if mo := inst.MetadataOptions; mo.HttpTokens != ec2types.HttpTokensStateRequired || aws.ToInt32(mo.HttpPutResponseHopLimit) != 2 {
		t.Fatalf("imdsSupport v2.0 image: tokens %s, hop limit %d", mo.HttpTokens, aws.ToInt32(mo.HttpPutResponseHopLimit))
	}
	if inst.Architecture != ec2types.ArchitectureValuesArm64 || inst.BootMode != ec2types.BootModeValuesUefi || !aws.ToBool(inst.EnaSupport) ||
		len(inst.BlockDeviceMappings) != 1 || aws.ToString(inst.BlockDeviceMappings[0].DeviceName) != "/dev/xvda" {
		t.Fatalf("instance does not follow its image: %+v", inst)
	}
	// The request may still say otherwise.
	out := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: v2, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT4gMicro, MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{HttpTokens: ec2types.HttpTokensStateOptional}}))
	if mo := out.Instances[0].MetadataOptions; mo.HttpTokens != ec2types.HttpTokensStateOptional || aws.ToInt32(mo.HttpPutResponseHopLimit) != 2 {
		t.Fatalf("explicit options: tokens %s, hop limit %d", mo.HttpTokens, aws.ToInt32(mo.HttpPutResponseHopLimit))
	}
	inst = must[*ec2.RunInstancesOutput](t)(e.run(owner, plain, 1)).Instances[0]
	if mo := inst.MetadataOptions; mo.HttpTokens != ec2types.HttpTokensStateOptional || aws.ToInt32(mo.HttpPutResponseHopLimit) != 1 {
		t.Fatalf("plain image: tokens %s, hop limit %d", mo.HttpTokens, aws.ToInt32(mo.HttpPutResponseHopLimit))
	}
	// DescribeInstances agrees, and filters on it.
	got := must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("metadata-options.http-tokens"), Values: []string{"required"}}}}))
	if len(got.Reservations) != 1 || aws.ToString(got.Reservations[0].Instances[0].ImageId) != *v2 {
		t.Fatalf("http-tokens filter: %+v", got.Reservations)
	}
}

func TestDescribeAndTerminateInstances(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	id := e.register(owner, "fleet")
	web := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
		InstanceType: ec2types.InstanceTypeT3Micro,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("Role"), Value: aws.String("web")}}}}}))
	if len(web.Instances) != 2 || tagMap(web.Instances[0].Tags)["Role"] != "web" || web.Instances[0].InstanceType != ec2types.InstanceTypeT3Micro {
		t.Fatalf("run: %+v", web.Instances)
	}
	db := e.launch(owner, id, 1)

	describe := func(in *ec2.DescribeInstancesInput) (reservations, instances int, ids []string) {
		t.Helper()
		out := must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, in))
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				ids = append(ids, aws.ToString(i.InstanceId))
			}
		}
		return len(out.Reservations), len(ids), ids
	}
	if r, n, _ := describe(&ec2.DescribeInstancesInput{}); r != 2 || n != 3 {
		t.Fatalf("all: %d reservations, %d instances", r, n)
	}
	if r, n, _ := describe(&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Role"), Values: []string{"web"}}}}); r != 1 || n != 2 {
		t.Fatalf("tag:Role=web: %d reservations, %d instances", r, n)
	}
	if _, _, ids := describe(&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: db}}}); !slices.Equal(ids, db) {
		t.Fatalf("instance-id filter: %v", ids)
	}
	if _, n, _ := describe(&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("image-id"), Values: []string{id}}}}); n != 3 {
		t.Fatalf("image-id filter: %d", n)
	}
	// Instances are their owner's alone.
	_, err := e.client(member).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: db})
	if msg := apiErr(t, err, "InvalidInstanceID.NotFound", 400); msg != "The instance ID '"+db[0]+"' does not exist" {
		t.Fatalf("message %q", msg)
	}
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-xyz"}})
	apiErr(t, err, "InvalidInstanceID.Malformed", 400)
	_, err = e.client(member).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: db})
	apiErr(t, err, "InvalidInstanceID.NotFound", 400)

	term := must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: db}))
	if ch := term.TerminatingInstances; len(ch) != 1 || ch[0].CurrentState.Name != ec2types.InstanceStateNameShuttingDown ||
		aws.ToInt32(ch[0].CurrentState.Code) != 32 || ch[0].PreviousState.Name != ec2types.InstanceStateNameRunning {
		t.Fatalf("terminate: %+v", ch)
	}
	if _, _, ids := describe(&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"terminated"}}}}); !slices.Equal(ids, db) {
		t.Fatalf("terminated: %v", ids)
	}
	if _, n, _ := describe(&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}}}); n != 2 {
		t.Fatalf("running: %d", n)
	}
	again := must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: db}))
	if again.TerminatingInstances[0].CurrentState.Name != ec2types.InstanceStateNameTerminated {
		t.Fatalf("terminate twice: %+v", again.TerminatingInstances[0].CurrentState)
	}
	_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(db[0]), Name: aws.String("from-terminated")})
	apiErr(t, err, "IncorrectInstanceState", 400)

	// The SDK's paginator walks the instances in pages.
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	seen := 0
	for p.HasMorePages() {
		page := must[*ec2.DescribeInstancesOutput](t)(p.NextPage(ctx))
		for _, r := range page.Reservations {
			seen += len(r.Instances)
		}
	}
	if seen != 3 {
		t.Fatalf("paginator saw %d instances", seen)
	}
}

func TestCreateImageFromInstance(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	src := must[*ec2.RegisterImageOutput](t)(c.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name: aws.String("base"), RootDeviceName: aws.String("/dev/xvda"), Architecture: "x86_64",
		VirtualizationType: aws.String("hvm"), EnaSupport: aws.Bool(true), BootMode: ec2types.BootModeValuesUefiPreferred,
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture()), VolumeSize: aws.Int32(8)}},
			{DeviceName: aws.String("/dev/sdb"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(100), VolumeType: ec2types.VolumeTypeGp3}},
			{DeviceName: aws.String("/dev/sdc"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(10)}},
		},
	})).ImageId
	inst := e.launch(owner, *src, 1)[0]

	must[*ec2.ModifyInstanceAttributeOutput](t)(c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(inst), SriovNetSupport: &ec2types.AttributeValue{Value: aws.String("simple")}}))
	_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(inst), SriovNetSupport: &ec2types.AttributeValue{Value: aws.String("complex")}})
	apiErr(t, err, "InvalidParameterValue", 400)
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(inst), InstanceType: &ec2types.AttributeValue{Value: aws.String("m5.large")}})
	apiErr(t, err, "IncorrectInstanceState", 400) // only a stopped instance changes type

	out := must[*ec2.CreateImageOutput](t)(c.CreateImage(ctx, &ec2.CreateImageInput{
		InstanceId: aws.String(inst), Name: aws.String("baked"), Description: aws.String("from an instance"), NoReboot: aws.Bool(true),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/sdb"), Ebs: &ec2types.EbsBlockDevice{DeleteOnTermination: aws.Bool(false)}},
			{DeviceName: aws.String("/dev/sdc"), NoDevice: aws.String("")},
		},
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{{Key: aws.String("Stage"), Value: aws.String("baked")}}},
			{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String("Stage"), Value: aws.String("baked")}}},
		},
	}))
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}})).Images[0]
	if aws.ToString(img.SourceInstanceId) != inst || aws.ToString(img.SriovNetSupport) != "simple" || !aws.ToBool(img.EnaSupport) ||
		img.BootMode != ec2types.BootModeValuesUefiPreferred || img.State != ec2types.ImageStateAvailable || tagMap(img.Tags)["Stage"] != "baked" ||
		aws.ToString(img.ImageLocation) != owner+"/baked" {
		t.Fatalf("created image: %+v", img)
	}
	if len(img.BlockDeviceMappings) != 2 {
		t.Fatalf("mappings %+v", img.BlockDeviceMappings)
	}
	for _, m := range img.BlockDeviceMappings {
		sid := aws.ToString(m.Ebs.SnapshotId)
		if sid == "" || sid == snapshot {
			t.Fatalf("%s: snapshot %q, want a new one", aws.ToString(m.DeviceName), sid)
		}
		if aws.ToString(m.DeviceName) == "/dev/sdb" && aws.ToBool(m.Ebs.DeleteOnTermination) {
			t.Fatal("DeleteOnTermination override lost")
		}
	}
	if ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("source-instance-id"), Values: []string{inst}}}}); !slices.Equal(ids, []string{*out.ImageId}) {
		t.Fatalf("source-instance-id filter: %v", ids)
	}

	_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("baked")})
	apiErr(t, err, "InvalidAMIName.Duplicate", 400)
	_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("resized"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdb"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(500)}}}})
	apiErr(t, err, "InvalidBlockDeviceMapping", 400)
	_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("nothing")})
	apiErr(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String("i-123"), Name: aws.String("nothing")})
	apiErr(t, err, "InvalidInstanceID.Malformed", 400)
	_, err = e.client(member).CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("not-mine")})
	apiErr(t, err, "InvalidInstanceID.NotFound", 400)

	// GetInstanceUefiData and DescribeImageReferences.
	uefi := must[*ec2.GetInstanceUefiDataOutput](t)(c.GetInstanceUefiData(ctx, &ec2.GetInstanceUefiDataInput{InstanceId: aws.String(inst)}))
	if aws.ToString(uefi.InstanceId) != inst || aws.ToString(uefi.UefiData) != "" {
		t.Fatalf("uefi data: %+v", uefi)
	}
	_, err = c.GetInstanceUefiData(ctx, &ec2.GetInstanceUefiDataInput{InstanceId: aws.String("i-0123456789abcdef0")})
	apiErr(t, err, "InvalidInstanceID.NotFound", 400)
	refs := must[*ec2.DescribeImageReferencesOutput](t)(c.DescribeImageReferences(ctx, &ec2.DescribeImageReferencesInput{
		ImageIds: []string{*src, *out.ImageId}, IncludeAllResourceTypes: aws.Bool(true)}))
	want := "arn:aws:ec2:" + region + ":" + owner + ":instance/" + inst
	if len(refs.ImageReferences) != 1 || aws.ToString(refs.ImageReferences[0].Arn) != want ||
		aws.ToString(refs.ImageReferences[0].ImageId) != *src || refs.ImageReferences[0].ResourceType != ec2types.ImageReferenceResourceTypeEc2Instance {
		t.Fatalf("references: %+v", refs.ImageReferences)
	}
	_, err = c.DescribeImageReferences(ctx, &ec2.DescribeImageReferencesInput{ImageIds: []string{*src}})
	apiErr(t, err, "InvalidParameterCombination", 400)
	must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inst}}))
	refs = must[*ec2.DescribeImageReferencesOutput](t)(c.DescribeImageReferences(ctx, &ec2.DescribeImageReferencesInput{
		ImageIds: []string{*src}, ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance}}}))
	if len(refs.ImageReferences) != 0 {
		t.Fatalf("terminated instance still referenced: %+v", refs.ImageReferences)
	}
}
