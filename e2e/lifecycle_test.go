package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestBlockPublicAccess(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "bpa")
	c := e.client(owner)
	state := func() string {
		out := must[*ec2.GetImageBlockPublicAccessStateOutput](t)(c.GetImageBlockPublicAccessState(ctx, &ec2.GetImageBlockPublicAccessStateInput{}))
		return aws.ToString(out.ImageBlockPublicAccessState)
	}
	if s := state(); s != "unblocked" {
		t.Fatalf("initial state %q", s)
	}
	out := must[*ec2.EnableImageBlockPublicAccessOutput](t)(c.EnableImageBlockPublicAccess(ctx, &ec2.EnableImageBlockPublicAccessInput{ImageBlockPublicAccessState: "block-new-sharing"}))
	if out.ImageBlockPublicAccessState != "block-new-sharing" || state() != "block-new-sharing" {
		t.Fatalf("enable: %v / %s", out.ImageBlockPublicAccessState, state())
	}
	makePublic := &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{Group: ec2types.PermissionGroupAll}}}}
	_, err := c.ModifyImageAttribute(ctx, makePublic)
	if msg := apiErr(t, err, "OperationNotPermitted", 400); msg != "You can\u2019t publicly share this image because block public access for AMIs is enabled for this account. To publicly share the image, you must call the DisableImageBlockPublicAccess API." {
		t.Fatal(msg)
	}
	// Other accounts and other regions are not affected.
	if s := aws.ToString(must[*ec2.GetImageBlockPublicAccessStateOutput](t)(e.clientIn(owner, "eu-west-1").GetImageBlockPublicAccessState(ctx, &ec2.GetImageBlockPublicAccessStateInput{})).ImageBlockPublicAccessState); s != "unblocked" {
		t.Fatalf("eu-west-1: %s", s)
	}
	must[*ec2.DisableImageBlockPublicAccessOutput](t)(c.DisableImageBlockPublicAccess(ctx, &ec2.DisableImageBlockPublicAccessInput{}))
	must[*ec2.ModifyImageAttributeOutput](t)(c.ModifyImageAttribute(ctx, makePublic))
	// Turning it on again keeps public images public.
	must[*ec2.EnableImageBlockPublicAccessOutput](t)(c.EnableImageBlockPublicAccess(ctx, &ec2.EnableImageBlockPublicAccessInput{ImageBlockPublicAccessState: "block-new-sharing"}))
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
	if !aws.ToBool(img.Public) {
		t.Fatal("a public image lost its public flag when block public access was enabled")
	}
}

func TestDeregistrationProtection(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	for _, cooldown := range []bool{false, true} {
		id := e.register(owner, map[bool]string{false: "protected", true: "protected-cooldown"}[cooldown])
		out := must[*ec2.EnableImageDeregistrationProtectionOutput](t)(c.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id), WithCooldown: aws.Bool(cooldown)}))
		want := map[bool]string{false: "enabled-without-cooldown", true: "enabled-with-cooldown"}[cooldown]
		if aws.ToString(out.Return) != want {
			t.Fatalf("return %q", aws.ToString(out.Return))
		}
		_, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
		apiErr(t, err, "OperationNotPermitted", 400)
		dis := must[*ec2.DisableImageDeregistrationProtectionOutput](t)(c.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(id)}))
		if aws.ToString(dis.Return) != "disabled" {
			t.Fatalf("disable returned %q", aws.ToString(dis.Return))
		}
		_, err = c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
		if cooldown {
			apiErr(t, err, "OperationNotPermitted", 400) // 24 hours of cooldown
			img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
			end := e.clock.Now().Add(24 * time.Hour).Format("2006-01-02T15:04:05.000Z")
			if got := aws.ToString(img.DeregistrationProtection); got != "disabled after "+end {
				t.Fatalf("deregistrationProtection during cooldown = %q, want %q", got, "disabled after "+end)
			}
			e.clock.Advance(24 * time.Hour)
			must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}))
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

func TestDisableAndEnableImage(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "disable-me")
	c := e.client(owner)
	grant(t, e, id, ec2types.LaunchPermission{UserId: aws.String(member)}, false)
	must[*ec2.DisableImageOutput](t)(c.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(id)}))
	if ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"self"}}); slices.Contains(ids, id) {
		t.Fatal("disabled image listed without IncludeDisabled")
	}
	if ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"self"}, IncludeDisabled: aws.Bool(true)}); !slices.Contains(ids, id) {
		t.Fatal("owner cannot find its disabled image with IncludeDisabled")
	}
	if ids := e.visibleIDs(member, &ec2.DescribeImagesInput{IncludeDisabled: aws.Bool(true)}); slices.Contains(ids, id) {
		t.Fatal("grantee still sees a disabled image")
	}
	_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("state"), Values: []string{"disabled"}}}})
	apiErr(t, err, "InvalidParameter", 400)
	_, err = c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String(member)}}}})
	apiErr(t, err, "InvalidAMIID.Unavailable", 400)
	_, err = c.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(id)})
	apiErr(t, err, "IncorrectState", 400)
	must[*ec2.EnableImageOutput](t)(c.EnableImage(ctx, &ec2.EnableImageInput{ImageId: aws.String(id)}))
	if got := launchPerms(t, e, id); len(got) != 0 {
		t.Fatalf("enable restored permissions %v", got)
	}
}

func TestDeprecation(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "old")
	c := e.client(owner)
	at := e.clock.Now().Add(90*time.Minute + 20*time.Second)
	must[*ec2.EnableImageDeprecationOutput](t)(c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: &at}))
	img := must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
	want := at.UTC().Round(time.Minute).Format("2006-01-02T15:04:05.000Z")
	if aws.ToString(img.DeprecationTime) != want {
		t.Fatalf("deprecationTime %q, want %q (rounded to the minute)", aws.ToString(img.DeprecationTime), want)
	}
	past := e.clock.Now().Add(-time.Hour)
	_, err := c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: &past})
	apiErr(t, err, "InvalidParameterValue", 400)
	must[*ec2.DisableImageDeprecationOutput](t)(c.DisableImageDeprecation(ctx, &ec2.DisableImageDeprecationInput{ImageId: aws.String(id)}))
	img = must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).Images[0]
	if img.DeprecationTime != nil {
		t.Fatal("deprecation not cancelled")
	}
}

func TestCancelImageLaunchPermission(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "cancel")
	grant(t, e, id, ec2types.LaunchPermission{UserId: aws.String(member)}, false)
	grant(t, e, id, ec2types.LaunchPermission{OrganizationalUnitArn: aws.String(ou2ARN)}, false)
	must[*ec2.CancelImageLaunchPermissionOutput](t)(e.client(member).CancelImageLaunchPermission(ctx, &ec2.CancelImageLaunchPermissionInput{ImageId: aws.String(id)}))
	if got := launchPerms(t, e, id); !slices.Equal(got, []string{"ou:" + ou2ARN}) {
		t.Fatalf("after cancel: %v", got)
	}
	// Shared only through an OU: EC2 answers NotFound.
	_, err := e.client(nested).CancelImageLaunchPermission(ctx, &ec2.CancelImageLaunchPermissionInput{ImageId: aws.String(id)})
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
}
