package image_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/resource"
)

const (
	tooManyFilters = "The maximum number of filters (50) has been exceeded."
	tooManyValues  = "The maximum number of filter values specified on a single call is 200"
)

// filters returns n filters named name with values values each.
func filters(n, values int, name string) []resource.Filter {
	out := make([]resource.Filter, n)
	for i := range out {
		out[i] = resource.Filter{Name: &name}
		for j := range values {
			out[i].Values = append(out[i].Values, fmt.Sprintf("v%d", j))
		}
	}
	return out
}

// FilterLimitExceeded (spec §2.4.4 names the code, not the limits): amigo
// takes 50 filters of 200 values each, in DescribeImages and DescribeTags.
func TestFilterLimits(t *testing.T) {
	cases := []struct {
		name    string
		filters []resource.Filter
		want    string // "" for success
	}{
		{"50 filters", filters(50, 1, "name"), ""},
		{"51 filters", filters(51, 1, "name"), tooManyFilters},
		{"200 values", filters(1, 200, "name"), ""},
		{"201 values", filters(1, 201, "name"), tooManyValues},
		{"201 values in the last filter", append(filters(3, 1, "name"), filters(1, 201, "name")...), tooManyValues},
		{"the limit is per filter", filters(50, 200, "name"), ""},
		{"tag filters count too", filters(51, 1, "tag:team"), tooManyFilters},
	}
	e := it.New(t, image.Options{})
	owner := it.Caller(it.Owner)
	id := e.Register(t, owner, "web-v1")
	if err := e.Tags.CreateTags(ctx, owner, []string{id}, []resource.Tag{{Key: "team", Value: "v1"}}, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.Svc.DescribeImages(ctx, owner, &image.DescribeRequest{Filters: tc.filters})
			check(t, "DescribeImages", err, tc.want)
			tagFilters := slices.Clone(tc.filters)
			for i := range tagFilters {
				// DescribeTags knows other filter names; the limits are the same.
				if *tagFilters[i].Name == "name" {
					tagFilters[i].Name = ptr("value")
				}
			}
			_, _, err = e.Tags.DescribeTags(ctx, owner, &resource.DescribeTagsRequest{Filters: tagFilters})
			check(t, "DescribeTags", err, tc.want)
		})
	}
}

func check(t *testing.T, action string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return
	}
	it.WantError(t, err, "FilterLimitExceeded", 400, want)
}

func ptr[T any](v T) *T { return &v }
