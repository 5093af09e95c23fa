package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The errors of the spec's volume and snapshot sections (ec2-snapshots
// §2–5, §8) that the other tests check by code alone or not at all: each
// with its code, status and message, through the SDK.
func TestVolumeAndSnapshotErrorMessages(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	id := e.newSnapshot(owner)
	zone := aws.String("us-east-1a")
	createVolume := func(in *ec2.CreateVolumeInput) func() error {
		return func() error {
			if in.AvailabilityZone == nil && in.AvailabilityZoneId == nil {
				in.AvailabilityZone = zone
			}
			_, err := c.CreateVolume(ctx, in)
			return err
		}
	}
	modify := func(in *ec2.ModifySnapshotAttributeInput) func() error {
		return func() error {
			in.SnapshotId = aws.String(id)
			_, err := c.ModifySnapshotAttribute(ctx, in)
			return err
		}
	}
	many := make([]string, 501)
	for i := range many {
		many[i] = fmt.Sprintf("%012d", 100000000000+i)
	}
	for _, tc := range []struct {
		name          string
		call          func() error
		code, message string
	}{
		// CreateVolume (§2.1.3)
		{"create volume: both zones", createVolume(&ec2.CreateVolumeInput{AvailabilityZone: zone, AvailabilityZoneId: aws.String("use1-az6"), Size: aws.Int32(8)}),
			"InvalidParameterCombination", "Only one of AvailabilityZone or AvailabilityZoneId can be specified"},
		{"create volume: unknown zone id", createVolume(&ec2.CreateVolumeInput{AvailabilityZoneId: aws.String("usw2-az1"), Size: aws.Int32(8)}),
			"InvalidZone.NotFound", "The zone ID 'usw2-az1' does not exist."},
		{"create volume: unknown type", createVolume(&ec2.CreateVolumeInput{Size: aws.Int32(8), VolumeType: "gp9"}),
			"InvalidParameterValue", "Value (gp9) for parameter volumeType is invalid. Expecting one of: standard, io1, io2, gp2, sc1, st1, gp3."},
		{"create volume: iops too low", createVolume(&ec2.CreateVolumeInput{Size: aws.Int32(100), VolumeType: ec2types.VolumeTypeGp3, Iops: aws.Int32(2000)}),
			"InvalidParameterValue", "Volume iops of 2000 is too low; minimum is 3000."},
		{"create volume: iops too high", createVolume(&ec2.CreateVolumeInput{Size: aws.Int32(2000), VolumeType: ec2types.VolumeTypeIo1, Iops: aws.Int32(70000)}),
			"InvalidParameterValue", "Volume iops of 70000 is too high; maximum is 64000."},
		{"create volume: throughput out of range", createVolume(&ec2.CreateVolumeInput{Size: aws.Int32(100), VolumeType: ec2types.VolumeTypeGp3, Throughput: aws.Int32(100)}),
			"InvalidParameterValue", "Volume throughput of 100 is invalid; valid range is 125-2000."},
		{"create volume: multi-attach on gp3", createVolume(&ec2.CreateVolumeInput{Size: aws.Int32(8), VolumeType: ec2types.VolumeTypeGp3, MultiAttachEnabled: aws.Bool(true)}),
			"InvalidParameterCombination", "Multi-Attach is supported only on io1 and io2 volumes."},
		{"create volume: initialization rate without snapshot", createVolume(&ec2.CreateVolumeInput{Size: aws.Int32(8), VolumeInitializationRate: aws.Int32(200)}),
			"InvalidParameterCombination", "The parameter VolumeInitializationRate can only be specified with the parameter SnapshotId."},
		{"create volume: initialization rate out of range", createVolume(&ec2.CreateVolumeInput{SnapshotId: aws.String(id), VolumeInitializationRate: aws.Int32(50)}),
			"InvalidParameterValue", "Value (50) for parameter VolumeInitializationRate is invalid. Valid values are 100-300."},
		{"create volume: smaller than the snapshot", createVolume(&ec2.CreateVolumeInput{SnapshotId: aws.String(id), Size: aws.Int32(4)}),
			"InvalidParameterValue", "Volume of size 4GB is smaller than snapshot '" + id + "', expect size >= 8GB"},
		{"create volume: malformed snapshot", createVolume(&ec2.CreateVolumeInput{SnapshotId: aws.String("snap-malformedsnap")}),
			"InvalidSnapshotID.Malformed", `Invalid id: "snap-malformedsnap" (expecting "snap-...")`},
		// DescribeVolumes and DeleteVolume (§2.3, §2.4)
		{"describe volumes: malformed", func() error {
			_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-malformedvolume"}})
			return err
		}, "InvalidVolumeID.Malformed", `Invalid id: "vol-malformedvolume" (expecting "vol-...")`},
		{"describe volumes: unknown", func() error {
			_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-04c1b309bb8d18d71"}})
			return err
		}, "InvalidVolume.NotFound", "The volume 'vol-04c1b309bb8d18d71' does not exist."},
		{"describe volumes: MaxResults below 5", func() error {
			_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(4)})
			return err
		}, "InvalidParameterValue", "Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5."},
		{"describe volumes: unknown filter", func() error {
			_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
			return err
		}, "InvalidParameterValue", "The filter 'colour' is invalid"},
		{"delete volume: malformed", func() error {
			_, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-x")})
			return err
		}, "InvalidVolumeID.Malformed", `Invalid id: "vol-x" (expecting "vol-...")`},
		{"delete volume: unknown", func() error {
			_, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-04c1b309bb8d18d71")})
			return err
		}, "InvalidVolume.NotFound", "The volume 'vol-04c1b309bb8d18d71' does not exist."},
		// CreateSnapshot (§3.1)
		{"create snapshot: unknown volume", func() error {
			_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-04c1b309bb8d18d71")})
			return err
		}, "InvalidVolume.NotFound", "The volume 'vol-04c1b309bb8d18d71' does not exist."},
		{"create snapshot: description too long", func() error {
			_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(e.newVolume(owner, 8)), Description: aws.String(strings.Repeat("d", 256))})
			return err
		}, "InvalidParameterValue", "Value for parameter description is too long; maximum is 255 characters."},
		// DescribeSnapshots (§3.3)
		{"describe snapshots: malformed", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-malformedsnap"}})
			return err
		}, "InvalidSnapshotID.Malformed", `Invalid id: "snap-malformedsnap" (expecting "snap-...")`},
		{"describe snapshots: ids with MaxResults", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}, MaxResults: aws.Int32(5)})
			return err
		}, "InvalidParameterCombination", "The parameter snapshotSet cannot be used with the parameter maxResults"},
		{"describe snapshots: MaxResults below 5", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, MaxResults: aws.Int32(4)})
			return err
		}, "InvalidParameterValue", "Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5."},
		{"describe snapshots: bad owner", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"someone"}})
			return err
		}, "InvalidUserID.Malformed", "User ID 'someone' is invalid"},
		{"describe snapshots: bad restorable-by", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"everyone"}})
			return err
		}, "InvalidUserID.Malformed", "User ID 'everyone' is invalid"},
		{"describe snapshots: unknown filter", func() error {
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
			return err
		}, "InvalidParameterValue", "The filter 'colour' is invalid"},
		// CopySnapshot (§3.4)
		{"copy snapshot: unknown source region", func() error {
			_, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String("mars-north-1"), SourceSnapshotId: aws.String(id)})
			return err
		}, "InvalidParameterValue", "Value (mars-north-1) for parameter SourceRegion is invalid."},
		{"copy snapshot: encrypted=false", func() error {
			_, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(id), Encrypted: aws.Bool(false)})
			return err
		}, "InvalidParameterValue", "-10022: The parameter encrypted=false is invalid"},
		{"copy snapshot: key without encryption", func() error {
			_, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(id), KmsKeyId: aws.String("alias/x")})
			return err
		}, "InvalidParameterDependency", "The parameter KmsKeyId requires the parameter Encrypted to be set."},
		{"copy snapshot: completion duration", func() error {
			_, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String(id), CompletionDurationMinutes: aws.Int32(20)})
			return err
		}, "InvalidParameterValue", "Value (20) for parameter CompletionDurationMinutes is invalid. Valid values are multiples of 15 from 15 to 2880."},
		{"copy snapshot: unknown source", func() error {
			_, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String(region), SourceSnapshotId: aws.String("snap-0d16416527e67c663")})
			return err
		}, "InvalidSnapshot.NotFound", "The snapshot 'snap-0d16416527e67c663' does not exist."},
		// DeleteSnapshot (§3.5)
		{"delete snapshot: malformed", func() error {
			_, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-malformedsnap")})
			return err
		}, "InvalidSnapshotID.Malformed", `Invalid id: "snap-malformedsnap" (expecting "snap-...")`},
		// ModifySnapshotAttribute (§4.1)
		{"modify: nothing", modify(&ec2.ModifySnapshotAttributeInput{}), "InvalidParameterCombination", "No attributes specified."},
		{"modify: attribute alone", modify(&ec2.ModifySnapshotAttributeInput{Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission}),
			"InvalidParameterCombination", "No operation specified for createVolumePermission attribute."},
		{"modify: flat without attribute or operation", modify(&ec2.ModifySnapshotAttributeInput{UserIds: []string{member}}),
			"MissingParameter", "The request must contain the parameter CreateVolumePermission"},
		{"modify: flat without operation", modify(&ec2.ModifySnapshotAttributeInput{Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission, UserIds: []string{member}}),
			"MissingParameter", "The request must contain the parameter OperationType"},
		{"modify: add and remove", modify(&ec2.ModifySnapshotAttributeInput{CreateVolumePermission: &ec2types.CreateVolumePermissionModifications{
			Add: []ec2types.CreateVolumePermission{{UserId: aws.String(member)}}, Remove: []ec2types.CreateVolumePermission{{UserId: aws.String(stranger)}}}}),
			"InvalidParameterCombination", "Cannot add and remove create volume permissions in the same request."},
		{"modify: product codes", modify(&ec2.ModifySnapshotAttributeInput{Attribute: ec2types.SnapshotAttributeNameProductCodes, OperationType: ec2types.OperationTypeAdd, UserIds: []string{member}}),
			"InvalidParameter", "Parameter productCodes is invalid. The attribute is not supported."},
		{"modify: more than 500 entries", modify(&ec2.ModifySnapshotAttributeInput{Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission, OperationType: ec2types.OperationTypeAdd, UserIds: many}),
			"InvalidParameterValue", "The maximum number of modifications per request (500) has been exceeded."},
		{"modify: entry naming nothing", modify(&ec2.ModifySnapshotAttributeInput{CreateVolumePermission: &ec2types.CreateVolumePermissionModifications{
			Add: []ec2types.CreateVolumePermission{{UserId: aws.String("")}}}}),
			"InvalidParameterValue", "A createVolumePermission entry must name a userId or a group."},
		{"modify: bad user", modify(&ec2.ModifySnapshotAttributeInput{Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission, OperationType: ec2types.OperationTypeAdd, UserIds: []string{"12345"}}),
			"InvalidUserID.Malformed", "User ID '12345' is invalid"},
		{"modify: bad group", modify(&ec2.ModifySnapshotAttributeInput{Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission, OperationType: ec2types.OperationTypeAdd, GroupNames: []string{"everyone"}}),
			"InvalidParameterValue", "Value (everyone) for parameter group is invalid. The only valid value is all."},
		// Describe/ResetSnapshotAttribute (§4.2, §4.3)
		{"describe attribute: unknown", func() error {
			_, err := c.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: "launchPermission"})
			return err
		}, "InvalidRequest", "The request received was invalid."},
		{"reset attribute: product codes", func() error {
			_, err := c.ResetSnapshotAttribute(ctx, &ec2.ResetSnapshotAttributeInput{SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameProductCodes})
			return err
		}, "InvalidRequest", "The request received was invalid."},
		// Block public access (§5)
		{"block public access: unblocked", func() error {
			_, err := c.EnableSnapshotBlockPublicAccess(ctx, &ec2.EnableSnapshotBlockPublicAccessInput{State: ec2types.SnapshotBlockPublicAccessStateUnblocked})
			return err
		}, "InvalidRequest", "Value 'unblocked' for State is not valid. Valid values are 'block-all-sharing' and 'block-new-sharing'."},
		{"block public access: another value", func() error {
			_, err := c.EnableSnapshotBlockPublicAccess(ctx, &ec2.EnableSnapshotBlockPublicAccessInput{State: "off"})
			return err
		}, "InvalidRequest", "Value 'off' for State is not valid. Valid values are 'block-all-sharing' and 'block-new-sharing'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := apiErr(t, tc.call(), tc.code, 400); msg != tc.message {
				t.Fatalf("message %q, want %q", msg, tc.message)
			}
		})
	}

	// Required parameters the SDK will not let a caller leave out, sent as
	// raw signed requests.
	for _, tc := range []struct{ name, form, message string }{
		{"copy snapshot: no source region", form("Action", "CopySnapshot", "Version", "2016-11-15", "SourceSnapshotId", id), "The request must contain the parameter SourceRegion"},
		{"copy snapshot: no source id", form("Action", "CopySnapshot", "Version", "2016-11-15", "SourceRegion", region), "The request must contain the parameter SourceSnapshotId"},
		{"delete snapshot: no id", form("Action", "DeleteSnapshot", "Version", "2016-11-15"), "The request must contain the parameter SnapshotId"},
		{"modify attribute: no id", form("Action", "ModifySnapshotAttribute", "Version", "2016-11-15", "Attribute", "createVolumePermission"), "The request must contain the parameter SnapshotId"},
		{"block public access: no state", form("Action", "EnableSnapshotBlockPublicAccess", "Version", "2016-11-15"), "The request must contain the parameter State"},
		{"delete volume: no id", form("Action", "DeleteVolume", "Version", "2016-11-15"), "The request must contain the parameter VolumeId"},
		{"create snapshot: no volume", form("Action", "CreateSnapshot", "Version", "2016-11-15"), "The request must contain the parameter VolumeId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(t, owner, tc.form, nil)
			if r.status != 400 || !strings.Contains(r.body, "<Code>MissingParameter</Code>") || !strings.Contains(r.body, "<Message>"+tc.message+"</Message>") {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
}
