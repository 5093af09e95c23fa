package e2e

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ImageId.N with a filter that excludes an existing, visible image answers
// an empty list: InvalidAMIID.NotFound is only for ids that do not exist
// or that the caller may not see.
func TestDescribeImagesByIDWithExcludingFilter(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "web-server")
	other := e.register(owner, "db-server")
	for _, tc := range []struct {
		name   string
		filter ec2types.Filter
	}{
		{"name literal", ec2types.Filter{Name: aws.String("name"), Values: []string{"db-server"}}},
		{"name prefix", ec2types.Filter{Name: aws.String("name"), Values: []string{"db-*"}}},
		{"architecture", ec2types.Filter{Name: aws.String("architecture"), Values: []string{"arm64"}}},
		{"tag", ec2types.Filter{Name: aws.String("tag:Team"), Values: []string{"blue"}}},
	} {
		out, err := e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, Filters: []ec2types.Filter{tc.filter}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(out.Images) != 0 {
			t.Fatalf("%s: %d images, want none", tc.name, len(out.Images))
		}
	}
	// The filter still selects among the ids.
	out, err := e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id, other},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"db-server"}}}})
	if err != nil || len(out.Images) != 1 || *out.Images[0].ImageId != other {
		t.Fatalf("two ids, name filter: %v %v", out, err)
	}
	// An id the caller cannot see is still not found, filter or not.
	_, err = e.client(stranger).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"db-server"}}}})
	apiErr(t, err, "InvalidAMIID.NotFound", http.StatusBadRequest)
}

// A tag:<key> filter in DescribeTags looks at all of a resource's tags,
// also when a key filter narrows which tags are listed.
func TestDescribeTagsKeyAndTagFilter(t *testing.T) {
	e := startEnv(t)
	blue := e.register(owner, "blue-image")
	red := e.register(owner, "red-image")
	tag := func(id, team string) {
		must[*ec2.CreateTagsOutput](t)(e.client(owner).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id},
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(id)}, {Key: aws.String("Team"), Value: aws.String(team)}}}))
	}
	tag(blue, "blue")
	tag(red, "red")
	out := must[*ec2.DescribeTagsOutput](t)(e.client(owner).DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: aws.String("key"), Values: []string{"Name"}},
		{Name: aws.String("tag:Team"), Values: []string{"blue"}},
	}}))
	if len(out.Tags) != 1 || *out.Tags[0].ResourceId != blue || *out.Tags[0].Key != "Name" {
		t.Fatalf("tags %+v", out.Tags)
	}
}
