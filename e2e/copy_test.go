package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/catalog"
)

func TestCopyImageAcrossRegions(t *testing.T) {
	e := startEnv(t)
	oc := e.client(owner)
	src := *must[*ec2.RegisterImageOutput](t)(oc.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name: aws.String("golden"), Description: aws.String("the golden image"), RootDeviceName: aws.String("/dev/xvda"),
		Architecture: "arm64", VirtualizationType: aws.String("hvm"), EnaSupport: aws.Bool(true), SriovNetSupport: aws.String("simple"),
		BootMode: ec2types.BootModeValuesUefi, TpmSupport: ec2types.TpmSupportValuesV20, ImdsSupport: ec2types.ImdsSupportValuesV20,
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture()), VolumeSize: aws.Int32(8)}}},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage,
			Tags: []ec2types.Tag{{Key: aws.String("Team"), Value: aws.String("blue")}}}},
	})).ImageId
	grant(t, e, src, ec2types.LaunchPermission{OrganizationalUnitArn: aws.String(ou1ARN)}, false)
	must[*ec2.EnableImageDeregistrationProtectionOutput](t)(oc.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(src)}))
	at := e.clock.Now().Add(48 * time.Hour)
	must[*ec2.EnableImageDeprecationOutput](t)(oc.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(src), DeprecateAt: &at}))
	// The member's own tag on the shared image; the owner's Team tag is not its to copy.
	must[*ec2.CreateTagsOutput](t)(e.client(member).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{src},
		Tags: []ec2types.Tag{{Key: aws.String("Env"), Value: aws.String("dev")}}}))

	mc := e.clientIn(member, "eu-west-1")
	in := &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String(region), Name: aws.String("golden-copy"),
		ClientToken: aws.String("copy-1"), CopyImageTags: aws.Bool(true),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage,
			Tags: []ec2types.Tag{{Key: aws.String("Copied"), Value: aws.String("yes")}}}}}
	id := *must[*ec2.CopyImageOutput](t)(mc.CopyImage(ctx, in)).ImageId
	if id == src {
		t.Fatal("the copy has the source's id")
	}
	img := must[*ec2.DescribeImagesOutput](t)(mc.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
	if aws.ToString(img.OwnerId) != member || aws.ToString(img.SourceImageId) != src || aws.ToString(img.SourceImageRegion) != region ||
		img.Architecture != ec2types.ArchitectureValuesArm64 || img.BootMode != ec2types.BootModeValuesUefi || img.TpmSupport != ec2types.TpmSupportValuesV20 ||
		img.ImdsSupport != ec2types.ImdsSupportValuesV20 || aws.ToString(img.SriovNetSupport) != "simple" || !aws.ToBool(img.EnaSupport) ||
		img.VirtualizationType != ec2types.VirtualizationTypeHvm || aws.ToString(img.ImageLocation) != member+"/golden-copy" {
		t.Fatalf("copy: %+v", img)
	}
	if aws.ToBool(img.Public) || img.DeprecationTime != nil || aws.ToString(img.DeregistrationProtection) != "disabled" {
		t.Fatalf("copy inherited sharing, deprecation or protection: public=%v deprecation=%v protection=%v",
			aws.ToBool(img.Public), aws.ToString(img.DeprecationTime), aws.ToString(img.DeregistrationProtection))
	}
	if got := tagMap(img.Tags); len(got) != 2 || got["Env"] != "dev" || got["Copied"] != "yes" {
		t.Fatalf("copy tags %v: want the caller's own tags and the requested ones", got)
	}
	if sid := aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId); sid == snapshot || sid == "" {
		t.Fatalf("copy snapshot %q, want a new one", sid)
	}
	perms := must[*ec2.DescribeImageAttributeOutput](t)(mc.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: ec2types.ImageAttributeNameLaunchPermission}))
	if len(perms.LaunchPermissions) != 0 {
		t.Fatalf("copy inherited launch permissions %+v", perms.LaunchPermissions)
	}
	if ids := e.visibleIDs(member, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("source-image-id"), Values: []string{src}}}}); len(ids) != 0 {
		t.Fatalf("the copy leaked into the source region: %v", ids)
	}

	// Idempotency: same token and parameters, same image; other parameters, an error.
	if again := *must[*ec2.CopyImageOutput](t)(mc.CopyImage(ctx, in)).ImageId; again != id {
		t.Fatalf("retry made %s, want %s", again, id)
	}
	changed := *in
	changed.Name = aws.String("golden-copy-2")
	_, err := mc.CopyImage(ctx, &changed)
	apiErr(t, err, "IdempotentParameterMismatch", 400)
	noToken := *in
	noToken.ClientToken = nil
	_, err = mc.CopyImage(ctx, &noToken)
	apiErr(t, err, "InvalidAMIName.Duplicate", 400)

	// Only those who may launch the source may copy it.
	_, err = e.clientIn(stranger, "eu-west-1").CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String(region), Name: aws.String("mine")})
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
	_, err = mc.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String("Not A Region"), Name: aws.String("x-copy")})
	apiErr(t, err, "InvalidRegion", 400)
	_, err = mc.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String("ap-south-2"), Name: aws.String("x-copy")})
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
	_, err = mc.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String(region), Name: aws.String("x")})
	apiErr(t, err, "InvalidAMIName.Malformed", 400)

	// Within one region too.
	local := *must[*ec2.CopyImageOutput](t)(oc.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String(region), Name: aws.String("golden-local")})).ImageId
	if ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("source-image-region"), Values: []string{region}}}}); !slices.Equal(ids, []string{local}) {
		t.Fatalf("source-image-region filter: %v", ids)
	}
}

// With PendingDelay the images RegisterImage and CopyImage make are pending
// first; the SDK waiters see them become available, across a restart. The
// subject is time passing while the waiters poll, so the domain runs on
// real time here.
func TestPendingImagesAndWaiters(t *testing.T) {
	e := startEnv(t, func(c *app.Config) { c.Image.PendingDelay, c.Image.Now = 2*time.Second, time.Now })
	c := e.client(owner)
	src := e.register(owner, "slow")
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{src}})).Images[0]
	if img.State != ec2types.ImageStatePending {
		t.Fatalf("new image is %s, want pending", img.State)
	}
	_, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(src), Description: &ec2types.AttributeValue{Value: aws.String("x")}})
	apiErr(t, err, "InvalidAMIID.Unavailable", 400)
	_, err = e.run(owner, src, 1)
	if msg := apiErr(t, err, "InvalidAMIID.Unavailable", 400); msg != "AMI '"+src+"' is pending, and cannot be run" {
		t.Fatalf("message %q", msg)
	}
	_, err = c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String(region), Name: aws.String("too-early")})
	apiErr(t, err, "InvalidAMIID.Unavailable", 400)

	e.restart() // the moment it becomes available survives a restart
	c = e.client(owner)
	fast := func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 400*time.Millisecond
	}
	if err := ec2.NewImageAvailableWaiter(c, fast).Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{src}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	e.launch(owner, src, 1)

	cp := *must[*ec2.CopyImageOutput](t)(c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String(region), Name: aws.String("slow-copy")})).ImageId
	exists := func(o *ec2.ImageExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 400*time.Millisecond
	}
	if err := ec2.NewImageExistsWaiter(c, exists).Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{cp}}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := ec2.NewImageAvailableWaiter(c, fast).WaitForOutput(ctx, &ec2.DescribeImagesInput{ImageIds: []string{cp}}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if out.Images[0].State != ec2types.ImageStateAvailable || time.Since(start) < time.Second {
		t.Fatalf("copy %s after %v: waited too little for a 2s pending delay", out.Images[0].State, time.Since(start))
	}
}

// An image with a marketplace product code can never be made public, and
// neither can its copies or the images made from its instances.
func TestMarketplaceCodesStickToCopies(t *testing.T) {
	const code = "abcdefghijklmnopqrstuvwxy"
	e := startEnv(t, func(c *app.Config) {
		c.Catalog = []catalog.Entry{{Name: "paid-appliance", OwnerID: owner, Architecture: "x86_64",
			CreationDate: "2026-01-01T00:00:00Z", Private: true,
			ProductCodes: []catalog.ProductCode{{Code: code, Type: "marketplace"}}}}
		c.CatalogRegions = []string{region}
	})
	c := e.client(owner)
	paid := e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("product-code"), Values: []string{code}}}})
	if len(paid) != 1 {
		t.Fatalf("marketplace image: %v", paid)
	}
	makePublic := func(id string) error {
		_, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id),
			LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{Group: ec2types.PermissionGroupAll}}}})
		return err
	}
	notPublic := func(id string) {
		t.Helper()
		if msg := apiErr(t, makePublic(id), "OperationNotPermitted", 400); msg != "Images with marketplace product codes may not be made public." {
			t.Fatalf("message %q", msg)
		}
	}
	notPublic(paid[0])

	cp := *must[*ec2.CopyImageOutput](t)(c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(paid[0]), SourceRegion: aws.String(region), Name: aws.String("paid-copy")})).ImageId
	attr := must[*ec2.DescribeImageAttributeOutput](t)(c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(cp), Attribute: ec2types.ImageAttributeNameProductCodes}))
	if len(attr.ProductCodes) != 1 || aws.ToString(attr.ProductCodes[0].ProductCodeId) != code || attr.ProductCodes[0].ProductCodeType != ec2types.ProductCodeValuesMarketplace {
		t.Fatalf("copy product codes %+v", attr.ProductCodes)
	}
	notPublic(cp)

	inst := e.launch(owner, cp, 1)[0]
	baked := *must[*ec2.CreateImageOutput](t)(c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("paid-baked")})).ImageId
	notPublic(baked)
	// Sharing with an account is still fine.
	grant(t, e, baked, ec2types.LaunchPermission{UserId: aws.String(member)}, false)
}
