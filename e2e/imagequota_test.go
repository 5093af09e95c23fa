package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/app"
)

// The image quota through the SDK: with room for three images,
// RegisterImage, CopyImage and CreateImage each answer ResourceLimitExceeded
// (400) once three live images exist in the region, and deregistering one
// makes room again. Other accounts are not affected, and filter values past
// their bound are refused before any work.
func TestImageQuotaSDK(t *testing.T) {
	e := startEnv(t, func(c *app.Config) { c.Image.ImageQuota = 3 })
	c := e.client(owner)
	first := e.register(owner, "q-1")
	e.register(owner, "q-2")
	inst := e.launch(owner, first, 1)[0]
	must[*ec2.CreateImageOutput](t)(c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("q-3")}))

	want := "You have reached your quota of 3 for the number of images allowed in this Region. Deregister unused images, or request an increase in your AMIs quota."
	_, err := c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("q-4"), RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture())}}}})
	if msg := apiErr(t, err, "ResourceLimitExceeded", 400); msg != want {
		t.Fatalf("RegisterImage: %q", msg)
	}
	_, err = c.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(first), SourceRegion: aws.String(region), Name: aws.String("q-4")})
	apiErr(t, err, "ResourceLimitExceeded", 400)
	_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("q-4")})
	apiErr(t, err, "ResourceLimitExceeded", 400)

	e.register(member, "theirs") // the quota is per account

	must[*ec2.DeregisterImageOutput](t)(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(first)}))
	e.register(owner, "q-4")

	// Filter values: 1,024 characters pass, 1,025 do not.
	ok := strings.Repeat("x", 1024)
	must[*ec2.DescribeImagesOutput](t)(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("description"), Values: []string{ok}}}}))
	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("description"), Values: []string{ok + "x"}}}})
	if msg := apiErr(t, err, "InvalidParameterValue", 400); msg != fmt.Sprintf("The filter 'description' has a value longer than %d characters.", 1024) {
		t.Fatalf("long filter value: %q", msg)
	}
}
