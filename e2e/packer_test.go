package e2e

// Replays of the calls Packer's amazon-ebs builder makes before and after
// its build, in the order of builder/ebs/builder.go's steps and with their
// parameters (hashicorp/packer-plugin-amazon; see /work/notes/replays.md).

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// packerRegions are the build region and ami_regions of the template.
var packerRegions = []string{region, "eu-west-1", "ap-southeast-2"}

// Packer's waiters run with aws_polling set short (AWS_POLL_DELAY_SECONDS).
func pollFast[O any](o *O) {
	switch w := any(o).(type) {
	case *ec2.ImageAvailableWaiterOptions:
		w.MinDelay, w.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	case *ec2.InstanceRunningWaiterOptions:
		w.MinDelay, w.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	case *ec2.InstanceStoppedWaiterOptions:
		w.MinDelay, w.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	case *ec2.InstanceTerminatedWaiterOptions:
		w.MinDelay, w.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	}
}

// StepPreValidate and StepSourceAMIInfo.
func TestPackerPreValidate(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	src := e.register(owner, "packer-source")

	t.Run("ValidateRegion", func(t *testing.T) {
		out, err := c.DescribeRegions(ctx, nil)
		skipUnlessServed(t, err, "DescribeRegions", "the regions issue")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range out.Regions {
			names = append(names, aws.ToString(r.RegionName))
		}
		var invalid []string
		for _, r := range packerRegions {
			if !slices.Contains(names, r) {
				invalid = append(invalid, r)
			}
		}
		if len(invalid) > 0 {
			t.Fatalf("Invalid region(s): %v, available regions: %v", invalid, names)
		}
	})

	// The AMI name must be free.
	nameFree := func(name string) bool {
		out := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
			Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{name}}}}))
		return len(out.Images) == 0
	}
	if !nameFree("packer-build-1") || nameFree("packer-source") {
		t.Fatal("name prevalidation")
	}

	// source_ami_filter with most_recent.
	out := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners: []string{owner}, IncludeDeprecated: aws.Bool(false),
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"packer-*"}},
			{Name: aws.String("root-device-type"), Values: []string{"ebs"}}, {Name: aws.String("virtualization-type"), Values: []string{"hvm"}}}}))
	if len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId) != src || out.Images[0].RootDeviceType != ec2types.DeviceTypeEbs {
		t.Fatalf("source AMI %+v", out.Images)
	}
}

// packerBuild replays the steps around the source instance of an EBS build
// (StepRunSourceInstance, StepStopEBSBackedInstance,
// StepModifyEBSBackedInstance, stepCreateAMI, and the instance's cleanup)
// and returns the new AMI with its snapshot ids.
func packerBuild(t *testing.T, e *env, source, name string) (string, []string) {
	t.Helper()
	c := e.client(owner)
	zone := region + "a"
	run := must[*ec2.RunInstancesOutput](t)(c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(source), InstanceType: ec2types.InstanceTypeT3Micro, UserData: aws.String(""),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), Placement: &ec2types.Placement{AvailabilityZone: aws.String(zone)},
		EbsOptimized: aws.Bool(false), EnclaveOptions: &ec2types.EnclaveOptionsRequest{Enabled: aws.Bool(false)},
		// No subnet or instance profile configured: Packer still sends both, empty.
		SubnetId: aws.String(""), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("")},
		InstanceInitiatedShutdownBehavior: ec2types.ShutdownBehaviorStop,
		CreditSpecification:               &ec2types.CreditSpecificationRequest{CpuCredits: aws.String("standard")},
		MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{HttpEndpoint: ec2types.InstanceMetadataEndpointStateEnabled,
			HttpTokens: ec2types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1)},
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("Packer Builder")}}},
			{ResourceType: ec2types.ResourceTypeNetworkInterface, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("Packer Builder")}}}},
	}))
	id := aws.ToString(run.Instances[0].InstanceId)
	in := &ec2.DescribeInstancesInput{InstanceIds: []string{id}}
	if err := ec2.NewInstanceRunningWaiter(c, pollFast).Wait(ctx, in, 20*time.Second); err != nil {
		t.Fatalf("WaitUntilInstanceRunning: %v", err)
	}
	desc := must[*ec2.DescribeInstancesOutput](t)(c.DescribeInstances(ctx, in))
	if got := aws.ToString(desc.Reservations[0].Instances[0].Placement.AvailabilityZone); got != zone {
		t.Fatalf("instance in %q, want %q", got, zone)
	}
	defer func() { // StepRunSourceInstance.Cleanup
		must[*ec2.TerminateInstancesOutput](t)(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}))
		if err := ec2.NewInstanceTerminatedWaiter(c, pollFast).Wait(ctx, in, 20*time.Second); err != nil {
			t.Fatalf("WaitUntilInstanceTerminated: %v", err)
		}
	}()

	must[*ec2.StopInstancesOutput](t)(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}))
	if err := ec2.NewInstanceStoppedWaiter(c, pollFast).Wait(ctx, in, 20*time.Second); err != nil {
		t.Fatalf("WaitUntilInstanceStopped: %v", err)
	}
	must[*ec2.ModifyInstanceAttributeOutput](t)(c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		EnaSupport: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}))

	runTags := []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("Packer Builder")}}
	ami := aws.ToString(must[*ec2.CreateImageOutput](t)(c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String(name),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: runTags},
			{ResourceType: ec2types.ResourceTypeSnapshot, Tags: runTags}}})).ImageId)
	if err := ec2.NewImageAvailableWaiter(c, pollFast).Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}}, 20*time.Second); err != nil {
		t.Fatalf("WaitUntilAMIAvailable: %v", err)
	}
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})).Images[0]
	if !aws.ToBool(img.EnaSupport) || aws.ToString(img.SourceInstanceId) != id {
		t.Fatalf("image %+v", img)
	}
	var snaps []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.SnapshotId != nil {
			snaps = append(snaps, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	// CreateImage made one snapshot per volume: the builder's, described
	// after the instance and the AMI, with the run tags.
	got := must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: snaps}))
	for _, s := range got.Snapshots {
		if aws.ToString(s.OwnerId) != owner || aws.ToString(s.Description) != "Created by CreateImage("+id+") for "+ami ||
			tagMap(s.Tags)["Name"] != "Packer Builder" {
			t.Fatalf("snapshot %+v", s)
		}
	}
	return ami, snaps
}

func TestPackerBuildInstanceSteps(t *testing.T) {
	e := slowEnv(t)
	src := e.register(owner, "packer-source")
	if err := ec2.NewImageAvailableWaiter(e.client(owner), pollFast).Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{src}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ami, snaps := packerBuild(t, e, src, "packer-build-1")
	if ami == "" || len(snaps) == 0 {
		t.Fatalf("ami %q snapshots %v", ami, snaps)
	}
}

// The steps after the build: StepAMIRegionCopy, StepEnableDeprecation,
// StepEnableDeregistrationProtection, StepModifyAMIAttributes,
// StepCreateTags. The AMI is registered here, so these steps do not depend
// on the instance work.
func TestPackerAfterBuild(t *testing.T) {
	e := slowEnv(t)
	ami := e.register(owner, "packer-build-2")
	home := e.client(owner)
	if err := ec2.NewImageAvailableWaiter(home, pollFast).Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	amis := map[string]string{region: ami}

	// StepAMIRegionCopy: copyImageV1 in each other region, in parallel.
	type copied struct {
		region, id string
		err        error
	}
	results := make(chan copied)
	for _, r := range packerRegions[1:] {
		go func(r string) {
			out, err := e.clientIn(owner, r).CopyImage(ctx, &ec2.CopyImageInput{SourceRegion: aws.String(region), SourceImageId: aws.String(ami),
				Name: aws.String("packer-build-2"), KmsKeyId: aws.String(""), CopyImageTags: aws.Bool(true)})
			if err != nil {
				results <- copied{r, "", err}
				return
			}
			id := aws.ToString(out.ImageId)
			err = ec2.NewImageAvailableWaiter(e.clientIn(owner, r), pollFast).Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, 20*time.Second)
			results <- copied{r, id, err}
		}(r)
	}
	for range packerRegions[1:] {
		res := <-results
		if res.err != nil {
			t.Fatalf("copy to %s: %v", res.region, res.err)
		}
		amis[res.region] = res.id
	}

	// StepEnableDeprecation and StepEnableDeregistrationProtection.
	deprecateAt := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Minute)
	for r, id := range amis {
		c := e.clientIn(owner, r)
		must[*ec2.EnableImageDeprecationOutput](t)(c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: &deprecateAt}))
		must[*ec2.EnableImageDeregistrationProtectionOutput](t)(c.EnableImageDeregistrationProtection(ctx,
			&ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id), WithCooldown: aws.Bool(false)}))
	}

	// StepModifyAMIAttributes: one ModifyImageAttribute per option.
	options := []ec2.ModifyImageAttributeInput{
		{Description: &ec2types.AttributeValue{Value: aws.String("built by packer")}},
		{UserIds: []string{member}, LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(member)}}}},
		{OrganizationArns: []string{orgARN}, LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{OrganizationArn: aws.String(orgARN)}}}},
		{OrganizationalUnitArns: []string{ou2ARN}, LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{OrganizationalUnitArn: aws.String(ou2ARN)}}}},
	}
	for r, id := range amis {
		c := e.clientIn(owner, r)
		for _, in := range options {
			in.ImageId = aws.String(id)
			if _, err := c.ModifyImageAttribute(ctx, &in); err != nil {
				t.Fatalf("%s: modify %s: %v", r, id, err)
			}
		}
	}

	// StepCreateTags: DescribeImages, then the AMI and its snapshots together.
	amiTags := []ec2types.Tag{{Key: aws.String("OS_Version"), Value: aws.String("Debian")}, {Key: aws.String("Release"), Value: aws.String("Latest")}}
	for r, id := range amis {
		c := e.clientIn(owner, r)
		img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
		resources := []string{id}
		for _, m := range img.BlockDeviceMappings {
			if m.Ebs != nil && m.Ebs.SnapshotId != nil {
				resources = append(resources, aws.ToString(m.Ebs.SnapshotId))
			}
		}
		if len(resources) < 2 {
			t.Fatalf("%s: %s names no snapshot", r, id)
		}
		must[*ec2.CreateTagsOutput](t)(c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: resources, Tags: amiTags}))
		snaps := must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: resources[1:]}))
		for _, s := range snaps.Snapshots {
			if tagMap(s.Tags)["Release"] != "Latest" {
				t.Fatalf("%s: snapshot %s tags %v", r, aws.ToString(s.SnapshotId), tagMap(s.Tags))
			}
		}
	}

	// What the build leaves behind, as the member and the owner see it.
	for r, id := range amis {
		img := must[*ec2.DescribeImagesOutput](t)(e.clientIn(owner, r).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
		if aws.ToString(img.Description) != "built by packer" || aws.ToString(img.DeprecationTime) != deprecateAt.Format("2006-01-02T15:04:05.000Z") ||
			aws.ToString(img.DeregistrationProtection) != "enabled-without-cooldown" || tagMap(img.Tags)["Release"] != "Latest" {
			t.Fatalf("%s: description %q deprecation %q protection %q tags %v", r, aws.ToString(img.Description), aws.ToString(img.DeprecationTime),
				aws.ToString(img.DeregistrationProtection), tagMap(img.Tags))
		}
		out := must[*ec2.DescribeImagesOutput](t)(e.clientIn(member, r).DescribeImages(ctx, &ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}}))
		if !slices.ContainsFunc(out.Images, func(i ec2types.Image) bool { return aws.ToString(i.ImageId) == id }) {
			t.Fatalf("%s: the member cannot launch %s", r, id)
		}
	}
}
