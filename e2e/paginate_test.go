package e2e

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-ec2/amigo/internal/datagen"
)

// The SDK paginator walks 10,000 images in pages, with no duplicate and no
// gap, while another client keeps registering images.
func TestPaginatorWalksTenThousandWhileInserting(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 images")
	}
	e := startEnv(t)
	err := datagen.Generate(ctx, e.app.Store(), datagen.Options{Region: region, Images: 10000, Accounts: []string{owner}, Seed: 7, Batch: 5000})
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]bool{}
	for _, id := range e.visibleIDs(owner, &ec2.DescribeImagesInput{Owners: []string{"self"}}) {
		before[id] = true
	}
	if len(before) != 10000 {
		t.Fatalf("unpaginated call returned %d images", len(before))
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e.register(owner, fmt.Sprintf("during-walk-%d", i))
		}
	}()
	seen := map[string]int{}
	pages := 0
	p := ec2.NewDescribeImagesPaginator(e.client(owner), &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Images) > 1000 {
			t.Fatalf("page of %d images", len(out.Images))
		}
		for _, img := range out.Images {
			seen[*img.ImageId]++
		}
	}
	close(stop)
	wg.Wait()
	for id, n := range seen {
		if n > 1 {
			t.Fatalf("%s seen %d times", id, n)
		}
	}
	for id := range before {
		if seen[id] != 1 {
			t.Fatalf("gap: %s not seen", id)
		}
	}
	if pages < 10 {
		t.Fatalf("only %d pages", pages)
	}

	// A token only continues the query that issued it.
	first := must[*ec2.DescribeImagesOutput](t)(e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(5)}))
	_, err = e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(5), NextToken: first.NextToken,
		Filters: []ec2types.Filter{{Name: aws.String("architecture"), Values: []string{"arm64"}}}})
	apiErr(t, err, "InvalidParameterValue", 400)
	_, err = e.client(member).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(5), NextToken: first.NextToken})
	apiErr(t, err, "InvalidParameterValue", 400)
	_, err = e.client(owner).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(5), NextToken: aws.String("forged")})
	apiErr(t, err, "InvalidParameterValue", 400)
}
