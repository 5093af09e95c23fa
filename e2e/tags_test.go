package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func tagMap(ts []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func TestTagsBelongToTheAccountThatSetThem(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "tagged")
	grant(t, e, id, ec2types.LaunchPermission{UserId: aws.String(member)}, false)
	must[*ec2.CreateTagsOutput](t)(e.client(owner).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String("Team"), Value: aws.String("payments")}}}))
	must[*ec2.CreateTagsOutput](t)(e.client(member).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String("Mine"), Value: aws.String("yes")}}}))
	tagsOf := func(who string) map[string]string {
		out := must[*ec2.DescribeImagesOutput](t)(e.client(who).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}))
		return tagMap(out.Images[0].Tags)
	}
	if got := tagsOf(owner); len(got) != 1 || got["Team"] != "payments" {
		t.Fatalf("owner sees %v", got)
	}
	if got := tagsOf(member); len(got) != 1 || got["Mine"] != "yes" {
		t.Fatalf("member sees %v", got)
	}
	// tag: filters use the caller's tags only.
	if ids := e.visibleIDs(member, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Team"), Values: []string{"payments"}}}}); len(ids) != 0 {
		t.Fatalf("member matched the owner's tag: %v", ids)
	}
	if ids := e.visibleIDs(member, &ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("tag:Mine"), Values: []string{"y*"}}}}); len(ids) != 1 {
		t.Fatalf("member's own tag filter: %v", ids)
	}
	out := must[*ec2.DescribeTagsOutput](t)(e.client(owner).DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-type"), Values: []string{"image"}}}}))
	if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "Team" || out.Tags[0].ResourceType != "image" || aws.ToString(out.Tags[0].ResourceId) != id {
		t.Fatalf("DescribeTags: %+v", out.Tags)
	}
	// DeleteTags: a value that does not match deletes nothing; a key alone deletes.
	must[*ec2.DeleteTagsOutput](t)(e.client(owner).DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String("Team"), Value: aws.String("other")}}}))
	if got := tagsOf(owner); got["Team"] != "payments" {
		t.Fatalf("mismatched value deleted the tag: %v", got)
	}
	must[*ec2.DeleteTagsOutput](t)(e.client(owner).DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String("Team")}}}))
	if got := tagsOf(owner); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
	if got := tagsOf(member); got["Mine"] != "yes" {
		t.Fatal("the owner's DeleteTags removed the member's tag")
	}
}

func TestTagErrors(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "tag-errors")
	c := e.client(owner)
	many := make([]ec2types.Tag, 51)
	for i := range many {
		many[i] = ec2types.Tag{Key: aws.String(string(rune('A'+i%26)) + string(rune('a'+i/26))), Value: aws.String("v")}
	}
	cases := []struct {
		name string
		in   *ec2.CreateTagsInput
		code string
	}{
		{"reserved prefix", &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}}, "InvalidParameterValue"},
		{"long key", &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String(string(make([]byte, 129))), Value: aws.String("x")}}}, "InvalidParameterValue"},
		{"too many", &ec2.CreateTagsInput{Resources: []string{id}, Tags: many}, "TagLimitExceeded"},
		{"bad id", &ec2.CreateTagsInput{Resources: []string{"ami-xyz"}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "InvalidID"},
		{"unknown image", &ec2.CreateTagsInput{Resources: []string{"ami-0fffffffffffffff0"}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "InvalidAMIID.NotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateTags(ctx, tc.in)
			apiErr(t, err, tc.code, 400)
		})
	}
	out := must[*ec2.DescribeTagsOutput](t)(c.DescribeTags(ctx, &ec2.DescribeTagsInput{}))
	if len(out.Tags) != 0 {
		t.Fatalf("failed calls left tags: %v", out.Tags)
	}
}

func TestRegisterWithTagSpecifications(t *testing.T) {
	e := startEnv(t)
	out := must[*ec2.RegisterImageOutput](t)(e.client(owner).RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("spec-tags"), RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture())}}},
		TagSpecifications:   []ec2types.TagSpecification{{ResourceType: "image", Tags: []ec2types.Tag{{Key: aws.String("Env"), Value: aws.String("prod")}}}}}))
	ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Env"), Values: []string{"prod"}}}})
	if len(ids) != 1 || ids[0] != *out.ImageId {
		t.Fatalf("tag filter found %v", ids)
	}
	_, err := e.client(owner).RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("spec-tags-2"), RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(e.fixture())}}},
		TagSpecifications:   []ec2types.TagSpecification{{ResourceType: "volume", Tags: []ec2types.Tag{{Key: aws.String("Env"), Value: aws.String("prod")}}}}})
	apiErr(t, err, "InvalidParameterValue", 400)
}

// The tag actions take resource-level permissions, as on EC2: the
// "no-modify" key may tag images but a policy denies it tagging instances.
func TestTagPermissionsPerResource(t *testing.T) {
	e := startEnv(t)
	img := e.register(owner, "tag-permissions")
	run := must[*ec2.RunInstancesOutput](t)(e.client(owner).RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}))
	inst := aws.ToString(run.Instances[0].InstanceId)
	c := e.client("no-modify")
	tags := []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}
	must[*ec2.CreateTagsOutput](t)(c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{img}, Tags: tags}))
	_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{img, inst}, Tags: tags})
	msg := apiErr(t, err, "UnauthorizedOperation", 403)
	want := "ec2:CreateTags on resource: arn:aws:ec2:" + region + ":" + owner + ":instance/" + inst + " with an explicit deny"
	if !strings.Contains(msg, want) {
		t.Fatalf("message %q does not name the instance: want %q", msg, want)
	}
	out := must[*ec2.DescribeTagsOutput](t)(e.client(owner).DescribeTags(ctx, &ec2.DescribeTagsInput{
		Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{inst}}}}))
	if len(out.Tags) != 0 {
		t.Fatalf("denied call tagged the instance: %v", out.Tags)
	}
}
