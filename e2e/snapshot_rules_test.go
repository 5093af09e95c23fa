package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/app"
)

// RegisterImage refuses what its EBS mappings may not carry (spec
// ec2-snapshots §6.2): the encrypted flag beside a snapshot (either
// value), a KMS key, and a device with neither snapshot nor size. Nothing
// is registered.
func TestRegisterImageMappingRefusals(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	snap := e.newSnapshot(owner)
	const encMsg = "Parameter encrypted is invalid. You cannot specify the encrypted flag if specifying a snapshot id in a block device mapping."
	cases := []struct {
		name          string
		data          ec2types.EbsBlockDevice
		code, message string
	}{
		{"encrypted=true with a snapshot", ec2types.EbsBlockDevice{SnapshotId: aws.String(snap), Encrypted: aws.Bool(true)}, "InvalidParameter", encMsg},
		{"encrypted=false with a snapshot", ec2types.EbsBlockDevice{SnapshotId: aws.String(snap), Encrypted: aws.Bool(false)}, "InvalidParameter", encMsg},
		{"KMS key on a blank volume", ec2types.EbsBlockDevice{VolumeSize: aws.Int32(8), Encrypted: aws.Bool(true), KmsKeyId: aws.String("alias/team")},
			"UnknownParameter", "The parameter KmsKeyId is not recognized"},
		{"KMS key with a snapshot", ec2types.EbsBlockDevice{SnapshotId: aws.String(snap), KmsKeyId: aws.String("alias/team")},
			"UnknownParameter", "The parameter KmsKeyId is not recognized"},
		{"neither snapshot nor size", ec2types.EbsBlockDevice{VolumeType: ec2types.VolumeTypeGp3},
			"InvalidBlockDeviceMapping", "Either snapshot ID or volume size must be provided for: /dev/xvdb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			_, err := c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("refused"), RootDeviceName: aws.String("/dev/xvda"),
				BlockDeviceMappings: []ec2types.BlockDeviceMapping{
					{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snap)}},
					{DeviceName: aws.String("/dev/xvdb"), Ebs: &data}}})
			if msg := apiErr(t, err, tc.code, 400); msg != tc.message {
				t.Fatalf("message %q, want %q", msg, tc.message)
			}
		})
	}
	if ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"self"}}); len(ids) != 0 {
		t.Fatalf("refused calls registered %v", ids)
	}
	// The flag on a blank volume is fine; the snapshot's volume reports
	// the snapshot's encryption, and an empty key (as SDKs send) is absent.
	id := aws.ToString(must[*ec2.RegisterImageOutput](t)(c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("accepted"),
		RootDeviceName: aws.String("/dev/xvda"), BlockDeviceMappings: []ec2types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snap), KmsKeyId: aws.String("")}},
			{DeviceName: aws.String("/dev/xvdb"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(4), Encrypted: aws.Bool(true)}}}})).ImageId)
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
	if len(img.BlockDeviceMappings) != 2 || aws.ToBool(img.BlockDeviceMappings[0].Ebs.Encrypted) || !aws.ToBool(img.BlockDeviceMappings[1].Ebs.Encrypted) {
		t.Fatalf("mappings %+v", img.BlockDeviceMappings)
	}
}

const marketplaceMessage = "Images from AWS Marketplace cannot be copied to another AWS account"

// Another account's image with a Marketplace product code is never copied
// (spec ec2-snapshots §6.4), whether shared, public or from the catalogue,
// and the rule comes before the storage permission; the owner copies its
// own.
func TestCopyMarketplaceImageAcrossAccounts(t *testing.T) {
	e := startEnv(t, withCatalog(t))
	mp := must[*ec2.DescribeImagesOutput](t)(e.client(stranger).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"aws-marketplace"}})).Images
	if len(mp) == 0 {
		t.Fatal("no marketplace image in the catalogue")
	}
	src := mp[0]
	// Its snapshots are public: only the marketplace rule stands in the way.
	snap := aws.ToString(src.BlockDeviceMappings[0].Ebs.SnapshotId)
	must[*ec2.DescribeSnapshotsOutput](t)(e.client(stranger).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}}))
	copyAs := func(who, id, name string) (*ec2.CopyImageOutput, error) {
		return e.clientIn(who, "eu-west-1").CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(id), SourceRegion: aws.String(region), Name: aws.String(name)})
	}
	_, err := copyAs(stranger, aws.ToString(src.ImageId), "subscribed")
	if msg := apiErr(t, err, "InvalidRequest", 400); msg != marketplaceMessage {
		t.Fatalf("message %q", msg)
	}
	// Launching it is another matter.
	e.launch(stranger, aws.ToString(src.ImageId), 1)

	// An image baked from a marketplace instance carries the code: its owner
	// copies it, a grantee does not, even with its snapshots shared.
	inst := e.launch(owner, aws.ToString(src.ImageId), 1)[0]
	c := e.client(owner)
	baked := aws.ToString(must[*ec2.CreateImageOutput](t)(c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("baked")})).ImageId)
	grant(t, e, baked, ec2types.LaunchPermission{UserId: aws.String(member)}, false)
	// The snapshots are still private: the marketplace answer comes first.
	_, err = copyAs(member, baked, "grantee-copy")
	if msg := apiErr(t, err, "InvalidRequest", 400); msg != marketplaceMessage {
		t.Fatalf("message %q", msg)
	}
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{baked}})).Images[0]
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.SnapshotId != nil {
			e.shareSnapshot(owner, aws.ToString(m.Ebs.SnapshotId), member)
		}
	}
	_, err = copyAs(member, baked, "grantee-copy")
	apiErr(t, err, "InvalidRequest", 400)
	must[*ec2.CopyImageOutput](t)(copyAs(owner, baked, "own-copy"))
}

// withKeeper adds the owner's access key "keeper", whose policy allows
// everything but ec2:DeleteSnapshot on the snapshots named.
func withKeeper(t *testing.T, snaps ...string) func(*app.Config) {
	data, err := os.ReadFile("testdata/accounts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, s := range snaps {
		arns = append(arns, `"arn:aws:ec2:`+region+`::snapshot/`+s+`"`)
	}
	k := keys["keeper"]
	key := `      - id: ` + k[0] + `
        secret: ` + k[1] + `
        policy: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
          {"Effect": "Deny", "Action": "ec2:DeleteSnapshot", "Resource": [` + strings.Join(arns, ", ") + `]}]}
`
	anchor := "      - {id: AKIAOWNER0000000000, secret: ownersecret}\n"
	if !strings.Contains(string(data), anchor) {
		t.Fatal("accounts.yaml: the owner's first key moved")
	}
	dir, err := account.Parse([]byte(strings.Replace(string(data), anchor, anchor+key, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return func(c *app.Config) { c.Directory = dir }
}

// DeregisterImage with DeleteAssociatedSnapshots checks ec2:DeleteSnapshot
// per snapshot, on the snapshot's ARN: a policy that allows
// DeregisterImage but denies deleting one snapshot deregisters the image,
// keeps that snapshot (missing-permissions) and deletes the others. With
// the deletion denied, DeleteSnapshot itself answers UnauthorizedOperation
// naming the same ARN.
func TestDeregisterNeedsDeleteSnapshotPermission(t *testing.T) {
	e := startEnv(t)
	kept, gone := e.newSnapshot(owner), e.newSnapshot(owner)
	e.configure = withKeeper(t, kept)
	e.restart()
	c, k := e.client(owner), e.client("keeper")
	ami := aws.ToString(must[*ec2.RegisterImageOutput](t)(k.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("two"),
		RootDeviceName: aws.String("/dev/xvda"), BlockDeviceMappings: []ec2types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(kept)}},
			{DeviceName: aws.String("/dev/xvdb"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(gone)}}}})).ImageId)

	out := must[*ec2.DeregisterImageOutput](t)(k.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ami), DeleteAssociatedSnapshots: aws.Bool(true)}))
	var got []string
	for _, r := range out.DeleteSnapshotResults {
		got = append(got, aws.ToString(r.SnapshotId)+" "+string(r.ReturnCode))
	}
	if want := []string{kept + " missing-permissions", gone + " success"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("results %v, want %v", got, want)
	}
	if ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"self"}}); len(ids) != 0 {
		t.Fatalf("still registered: %v", ids)
	}
	must[*ec2.DescribeSnapshotsOutput](t)(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{kept}}))
	_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{gone}})
	apiErr(t, err, "InvalidSnapshot.NotFound", 400)

	_, err = k.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(kept)})
	if msg := apiErr(t, err, "UnauthorizedOperation", 403); !strings.Contains(msg, "ec2:DeleteSnapshot on resource: arn:aws:ec2:"+region+"::snapshot/"+kept+" ") {
		t.Fatalf("message %q", msg)
	}
	// The account's unrestricted key deletes it.
	must[*ec2.DeleteSnapshotOutput](t)(c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(kept)}))
}
