package e2e

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/catalog"
)

func withCatalog(t *testing.T) func(*app.Config) {
	es, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return func(c *app.Config) {
		c.Catalog = es
		c.CatalogRegions = []string{"us-east-1", "eu-west-1"}
	}
}

// Terraform's data "aws_ami" { owners = ["amazon"], most_recent = true, filter name/architecture }.
func TestCatalogTerraformStyleQuery(t *testing.T) {
	e := startEnv(t, withCatalog(t))
	out := must[*ec2.DescribeImagesOutput](t)(e.client(stranger).DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners: []string{"amazon"},
		Filters: []ec2types.Filter{
			{Name: aws.String("name"), Values: []string{"al2023-ami-2023.*-kernel-6.1-x86_64"}},
			{Name: aws.String("architecture"), Values: []string{"x86_64"}},
			{Name: aws.String("virtualization-type"), Values: []string{"hvm"}},
		}}))
	if len(out.Images) < 2 {
		t.Fatalf("found %d images", len(out.Images))
	}
	sort.Slice(out.Images, func(i, j int) bool { return *out.Images[i].CreationDate > *out.Images[j].CreationDate })
	newest := out.Images[0]
	if aws.ToString(newest.Name) != "al2023-ami-2023.9.20261113.1-kernel-6.1-x86_64" || aws.ToString(newest.ImageOwnerAlias) != "amazon" || !aws.ToBool(newest.Public) {
		t.Fatalf("newest: %s %s", aws.ToString(newest.Name), aws.ToString(newest.ImageOwnerAlias))
	}
	for _, img := range out.Images {
		if strings.Contains(*img.Name, "20241010") {
			t.Fatalf("deprecated 2024 image listed without IncludeDeprecated: %s", *img.Name)
		}
	}
	// The deprecated 2024 release shows when asked for.
	old := e.visibleIDs(stranger, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, IncludeDeprecated: aws.Bool(true),
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64"}}}})
	if len(old) != 1 {
		t.Fatalf("IncludeDeprecated found %v", old)
	}
}

func TestCatalogOwnersAndMarketplace(t *testing.T) {
	e := startEnv(t, withCatalog(t))
	mp := must[*ec2.DescribeImagesOutput](t)(e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"aws-marketplace"}}))
	if len(mp.Images) == 0 {
		t.Fatal("no marketplace images")
	}
	for _, img := range mp.Images {
		if len(img.ProductCodes) == 0 || img.ProductCodes[0].ProductCodeType != "marketplace" {
			t.Fatalf("%s has no marketplace code", *img.Name)
		}
	}
	ubuntu := e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"099720109477"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"}}}})
	if len(ubuntu) != 2 {
		t.Fatalf("ubuntu noble amd64: %v", ubuntu)
	}
	// Regions are separate; the catalogue is in both, with different ids.
	eu := e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"099720109477"}})
	euIDs := must[*ec2.DescribeImagesOutput](t)(e.clientIn(owner, "eu-west-1").DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"099720109477"}}))
	if len(euIDs.Images) != len(eu) || slices.Contains(eu, *euIDs.Images[0].ImageId) {
		t.Fatal("catalogue regions share ids")
	}
	// Nobody can change Amazon's images.
	_, err := e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(ubuntu[0]), Description: &ec2types.AttributeValue{Value: aws.String("mine")}})
	apiErr(t, err, "AuthFailure", 400)
	// A restart reloads the catalogue without duplicating it.
	before := len(e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"amazon"}}))
	e.restart()
	if after := len(e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})); after != before {
		t.Fatalf("%d amazon images before restart, %d after", before, after)
	}
}
