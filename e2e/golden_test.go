package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/ec2"
)

var update = flag.Bool("update", false, "rewrite golden files")

var requestIDs = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// golden compares a response body with testdata/name.golden byte for byte,
// request ids aside: every time in it comes from the injected clock.
func golden(t *testing.T, name, body string) {
	t.Helper()
	body = requestIDs.ReplaceAllString(body, "REQUEST-ID")
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./e2e -run Golden -update to create it)", err)
	}
	if string(want) != body {
		t.Fatalf("%s differs from golden file\n--- got ---\n%s\n--- want ---\n%s", name, body, want)
	}
}

// call is one request of TestGoldenResponses: who sends params (Action
// first), and the answer must equal testdata/name.golden.
type call struct {
	name, who string
	params    []string
}

// TestGoldenResponses walks one story through every action amigo serves
// and pins each answer, so a change to the wire shape shows in review. The
// ids come from a counter and the clock stands at imagetest.Epoch, moved
// only by the steps below.
func TestGoldenResponses(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "golden") // ami-00000000000000003 on vol-…01's snap-…02
	const (
		id2  = "ami-00000000000000004" // register-image
		cp   = "ami-00000000000000005" // copy-image (snap-…06 is its snapshot)
		inst = "i-00000000000000008"   // run-instances (r-…07 is its reservation)
		// create-image makes ami-…09 and snap-…0a.
		// rootVol is inst's root volume (instance.VolumeID(inst, "/dev/sda1")).
		rootVol = "vol-3bde55c3de40805c0"

		vol      = "vol-0000000000000000b"  // create-volume
		snap     = "snap-0000000000000000c" // create-snapshot
		snapCopy = "snap-0000000000000000d" // copy-snapshot
	)
	day := func(n int) string { return e.clock.Now().Add(time.Duration(n) * 24 * time.Hour).Format(time.RFC3339) }
	v := func(kv ...string) []string { return kv }
	steps := []call{
		{"modify-image-attribute", owner, v("ModifyImageAttribute", "ImageId", id, "LaunchPermission.Add.1.UserId", member, "LaunchPermission.Add.2.Group", "all", "LaunchPermission.Add.3.OrganizationArn", orgARN, "LaunchPermission.Add.4.OrganizationalUnitArn", ou1ARN)},
		{"describe-image-attribute-launch-permission", owner, v("DescribeImageAttribute", "ImageId", id, "Attribute", "launchPermission")},
		{"describe-image-attribute-description-empty", owner, v("DescribeImageAttribute", "ImageId", id, "Attribute", "description")},
		{"describe-image-attribute-product-codes", owner, v("DescribeImageAttribute", "ImageId", id, "Attribute", "productCodes")},
		{"describe-images", owner, v("DescribeImages", "ImageId.1", id)},
		{"reset-image-attribute", owner, v("ResetImageAttribute", "ImageId", id, "Attribute", "launchPermission")},
		{"error-not-found", owner, v("DescribeImages", "ImageId.1", "ami-00000000000000099")},
		{"error-dry-run", owner, v("ModifyImageAttribute", "ImageId", id, "Description.Value", "x", "DryRun", "true")},
		{"register-image", owner, v("RegisterImage", "Name", "golden-2", "RootDeviceName", "/dev/sda1", "BlockDeviceMapping.1.DeviceName", "/dev/sda1", "BlockDeviceMapping.1.Ebs.SnapshotId", e.fixture())},

		{"create-tags", owner, v("CreateTags", "ResourceId.1", id, "ResourceId.2", id2, "Tag.1.Key", "team", "Tag.1.Value", "web", "Tag.2.Key", "stage", "Tag.2.Value", "")},
		{"describe-tags", owner, v("DescribeTags", "Filter.1.Name", "resource-id", "Filter.1.Value.1", id2)},
		{"delete-tags", owner, v("DeleteTags", "ResourceId.1", id2, "Tag.1.Key", "stage")},

		{"enable-image-deprecation", owner, v("EnableImageDeprecation", "ImageId", id2, "DeprecateAt", day(30))},
		{"describe-images-deprecation", owner, v("DescribeImages", "ImageId.1", id2)},
		{"disable-image-deprecation", owner, v("DisableImageDeprecation", "ImageId", id2)},
		{"enable-image-deregistration-protection", owner, v("EnableImageDeregistrationProtection", "ImageId", id2, "WithCooldown", "true")},
		{"disable-image-deregistration-protection", owner, v("DisableImageDeregistrationProtection", "ImageId", id2)},
		{"describe-image-attribute-deregistration-protection", owner, v("DescribeImageAttribute", "ImageId", id2, "Attribute", "deregistrationProtection")},
		{"error-deregistration-protected", owner, v("DeregisterImage", "ImageId", id2)},
		{"disable-image", owner, v("DisableImage", "ImageId", id2)},
		{"enable-image", owner, v("EnableImage", "ImageId", id2)},
		{"modify-image-attribute-flat", owner, v("ModifyImageAttribute", "ImageId", id2, "Attribute", "launchPermission", "OperationType", "add", "UserId.1", member)},
		{"error-not-owner", member, v("ModifyImageAttribute", "ImageId", id2, "Description.Value", "theirs")},
		{"cancel-image-launch-permission", member, v("CancelImageLaunchPermission", "ImageId", id2)},

		{"enable-image-block-public-access", owner, v("EnableImageBlockPublicAccess", "ImageBlockPublicAccessState", "block-new-sharing")},
		{"get-image-block-public-access-state", owner, v("GetImageBlockPublicAccessState")},
		{"error-block-public-access", owner, v("ModifyImageAttribute", "ImageId", id2, "LaunchPermission.Add.1.Group", "all")},
		{"disable-image-block-public-access", owner, v("DisableImageBlockPublicAccess")},

		{"copy-image", owner, v("CopyImage", "SourceImageId", id2, "SourceRegion", region, "Name", "golden-copy", "Description", "a copy", "CopyImageTags", "true")},
		{"describe-images-copy", owner, v("DescribeImages", "ImageId.1", cp)},
		{"run-instances", owner, v("RunInstances", "ImageId", id2, "MinCount", "1", "MaxCount", "1", "InstanceType", "t2.micro", "TagSpecification.1.ResourceType", "instance", "TagSpecification.1.Tag.1.Key", "Name", "TagSpecification.1.Tag.1.Value", "golden")},
		{"describe-instances", owner, v("DescribeInstances", "InstanceId.1", inst)},
		{"describe-volumes-attached", owner, v("DescribeVolumes", "Filter.1.Name", "attachment.instance-id", "Filter.1.Value.1", inst)},
		{"error-volume-in-use", owner, v("DeleteVolume", "VolumeId", rootVol)},
		{"modify-instance-attribute", owner, v("ModifyInstanceAttribute", "InstanceId", inst, "SriovNetSupport.Value", "simple")},
		{"get-instance-uefi-data", owner, v("GetInstanceUefiData", "InstanceId", inst)},
		{"describe-instance-attribute", owner, v("DescribeInstanceAttribute", "InstanceId", inst, "Attribute", "disableApiTermination")},
		{"describe-instance-attribute-user-data", owner, v("DescribeInstanceAttribute", "InstanceId", inst, "Attribute", "userData")},
		{"describe-instance-status", owner, v("DescribeInstanceStatus", "InstanceId.1", inst)},
		{"describe-instance-types", owner, v("DescribeInstanceTypes", "InstanceType.1", "t3.micro")},
		{"describe-instance-credit-specifications", owner, v("DescribeInstanceCreditSpecifications", "InstanceId.1", inst)},
		{"reboot-instances", owner, v("RebootInstances", "InstanceId.1", inst)},
		{"stop-instances", owner, v("StopInstances", "InstanceId.1", inst)},
		{"error-incorrect-instance-state", owner, v("RebootInstances", "InstanceId.1", inst)},
		{"start-instances", owner, v("StartInstances", "InstanceId.1", inst)},
		{"create-image", owner, v("CreateImage", "InstanceId", inst, "Name", "baked", "NoReboot", "true")},
		{"describe-image-references", owner, v("DescribeImageReferences", "ImageId.1", id2, "IncludeAllResourceTypes", "true")},
		{"terminate-instances", owner, v("TerminateInstances", "InstanceId.1", inst)},

		{"get-allowed-images-settings", owner, v("GetAllowedImagesSettings")},
		{"replace-image-criteria-in-allowed-images-settings", owner, v("ReplaceImageCriteriaInAllowedImagesSettings", "ImageCriterion.1.ImageProvider.1", "amazon", "ImageCriterion.2.ImageProvider.1", owner, "ImageCriterion.2.ImageName.1", "golden-*")},
		{"enable-allowed-images-settings", owner, v("EnableAllowedImagesSettings", "AllowedImagesSettingsState", "audit-mode")},
		{"get-allowed-images-settings-audit-mode", owner, v("GetAllowedImagesSettings")},
		{"disable-allowed-images-settings", owner, v("DisableAllowedImagesSettings")},

		{"deregister-image", owner, v("DeregisterImage", "ImageId", id, "DeleteAssociatedSnapshots", "true")},

		{"describe-regions", owner, v("DescribeRegions", "RegionName.1", "us-east-1", "RegionName.2", "af-south-1")},
		{"describe-availability-zones", owner, v("DescribeAvailabilityZones", "ZoneName.1", "us-east-1a")},

		{"create-volume", owner, v("CreateVolume", "AvailabilityZone", "us-east-1a", "Size", "80", "TagSpecification.1.ResourceType", "volume", "TagSpecification.1.Tag.1.Key", "Name", "TagSpecification.1.Tag.1.Value", "golden")},
		{"describe-volumes", owner, v("DescribeVolumes", "VolumeId.1", vol)},
		{"create-snapshot", owner, v("CreateSnapshot", "VolumeId", vol, "Description", "nightly backup")},
		{"describe-snapshots", owner, v("DescribeSnapshots", "SnapshotId.1", snap)},
		{"modify-snapshot-attribute", owner, v("ModifySnapshotAttribute", "SnapshotId", snap, "CreateVolumePermission.Add.1.UserId", member, "CreateVolumePermission.Add.2.Group", "all")},
		{"describe-snapshot-attribute", owner, v("DescribeSnapshotAttribute", "SnapshotId", snap, "Attribute", "createVolumePermission")},
		{"copy-snapshot", member, v("CopySnapshot", "SourceRegion", region, "SourceSnapshotId", snap, "Description", "a copy", "TagSpecification.1.ResourceType", "snapshot", "TagSpecification.1.Tag.1.Key", "team", "TagSpecification.1.Tag.1.Value", "web")},
		{"reset-snapshot-attribute", owner, v("ResetSnapshotAttribute", "SnapshotId", snap, "Attribute", "createVolumePermission")},
		{"enable-snapshot-block-public-access", owner, v("EnableSnapshotBlockPublicAccess", "State", "block-new-sharing")},
		{"get-snapshot-block-public-access-state", owner, v("GetSnapshotBlockPublicAccessState")},
		{"disable-snapshot-block-public-access", owner, v("DisableSnapshotBlockPublicAccess")},
		{"register-image-snapshot", owner, v("RegisterImage", "Name", "golden-snap", "RootDeviceName", "/dev/xvda", "BlockDeviceMapping.1.DeviceName", "/dev/xvda", "BlockDeviceMapping.1.Ebs.SnapshotId", snap)},
		{"error-snapshot-in-use", owner, v("DeleteSnapshot", "SnapshotId", snap)},
		{"delete-snapshot", member, v("DeleteSnapshot", "SnapshotId", snapCopy)},
		{"error-snapshot-not-found", member, v("DescribeSnapshots", "SnapshotId.1", snapCopy)},
		{"delete-volume", owner, v("DeleteVolume", "VolumeId", vol)},
		{"error-volume-not-found", owner, v("DescribeVolumes", "VolumeId.1", vol)},
		{"error-invalid-instance-type", owner, v("RunInstances", "ImageId", id2, "MinCount", "1", "MaxCount", "1", "InstanceType", "t3.mcro")},
		{"run-instances-client-token", owner, v("RunInstances", "ImageId", id2, "MinCount", "1", "MaxCount", "1", "InstanceType", "t2.micro", "ClientToken", "golden-token")},
		{"error-idempotent-parameter-mismatch", owner, v("RunInstances", "ImageId", id2, "MinCount", "1", "MaxCount", "2", "InstanceType", "t2.micro", "ClientToken", "golden-token")},
	}
	answered := map[string]bool{}
	for _, s := range steps {
		kv := append([]string{"Action", s.params[0], "Version", "2016-11-15"}, s.params[1:]...)
		r := e.post(t, s.who, form(kv...), nil)
		golden(t, s.name, r.body)
		if r.status == 200 {
			answered[s.params[0]] = true
		}
	}
	// LookupEvents' success answer (JSON 1.1): the story of the member's
	// snapshot copy, its deletion and a refused look at it, newest first.
	// Event ids are UUIDs, masked like request ids; times are the clock's.
	e.app.FlushAudit()
	r := e.postTrail(t, member, `{"LookupAttributes":[{"AttributeKey":"ResourceName","AttributeValue":"`+snapCopy+`"}]}`)
	if r.status != 200 {
		t.Fatalf("LookupEvents: %d %s", r.status, r.body)
	}
	golden(t, "lookup-events", r.body)
	for action := range ec2.Actions(ec2.Services{}) {
		if !answered[action] {
			t.Errorf("%s has no golden success answer", action)
		}
	}
	if *update {
		return
	}
	// Every golden file belongs to a step, so none goes stale unnoticed.
	files, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
	for _, f := range files {
		name := filepath.Base(f)
		name = name[:len(name)-len(".golden")]
		if name != "error-no-credentials" && name != "lookup-events" && !slices.ContainsFunc(steps, func(s call) bool { return s.name == name }) {
			t.Errorf("%s: no step writes it", f)
		}
	}
}
