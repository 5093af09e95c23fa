package image_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/resource"
)

const (
	streamOwner = "111111111111"
	streamOther = "222222222222"
	streamOrg   = "arn:aws:organizations::999999999999:organization/o-stream"
)

// streamPopulation stores n images across owners, grants, states and
// deprecation, with the caller's tags on some: more than a stream's first
// batch and one full batch, so answers cross batch boundaries.
func streamPopulation(t *testing.T, e *it.Env, n int) {
	t.Helper()
	past := it.Epoch.Add(-time.Hour)
	err := e.Store.Update(t.Context(), func(tx image.Tx) error {
		for i := 1; i <= n; i++ {
			img := &image.Image{Region: it.Region, ID: fmt.Sprintf("ami-%017x", i*3), OwnerID: []string{streamOwner, streamOther, "333333333333"}[i%3],
				Name: fmt.Sprintf("img-%d", i), State: image.StateAvailable, CreationDate: it.Epoch.Add(-24 * time.Hour), Architecture: "x86_64"}
			switch {
			case i%5 == 0:
				img.LaunchPermissions = []image.LaunchPermission{{Kind: image.PermOrg, Value: streamOrg}}
			case i%7 == 0:
				img.LaunchPermissions = []image.LaunchPermission{{Kind: image.PermUser, Value: streamOwner}}
			case i%97 == 0:
				img.LaunchPermissions = []image.LaunchPermission{image.Public}
			}
			if i%11 == 0 {
				img.State = image.StateDisabled
			}
			if i%13 == 0 {
				img.DeprecationTime = &past
			}
			if err := tx.InsertImage(t.Context(), img); err != nil {
				return err
			}
			if i%4 == 0 {
				if err := tx.SetTags(t.Context(), it.Region, streamOwner, img.ID, []resource.Tag{{Key: "Team", Value: fmt.Sprint("t", i%3)}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func drain(t *testing.T, s *resource.Stream[image.Described]) []image.Described {
	t.Helper()
	var out []image.Described
	for {
		batch, err := s.Next(t.Context())
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if batch == nil {
			return out
		}
		if len(batch) == 0 {
			t.Fatal("Next returned an empty batch before the end")
		}
		out = append(out, batch...)
	}
}

func described(ds []image.Described) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		tags := ""
		for _, tg := range d.Tags {
			tags += tg.Key + "=" + tg.Value + ";"
		}
		out[i] = d.ID + " " + d.State + " " + tags
	}
	return out
}

// TestStreamImagesEqualsDescribeImages: a streamed answer lists exactly
// what the one-transaction answer lists, in order, with the same tags.
func TestStreamImagesEqualsDescribeImages(t *testing.T) {
	e := it.New(t, image.Options{})
	streamPopulation(t, e, 2600)
	caller := it.OrgCaller(streamOwner, streamOrg)
	name := func(n, v string) resource.Filter { return resource.Filter{Name: &n, Values: []string{v}} }
	tests := map[string]*image.DescribeRequest{
		"everything visible":   {},
		"include deprecated":   {IncludeDeprecated: true},
		"include disabled":     {IncludeDisabled: true},
		"owners self":          {Owners: []string{"self"}},
		"owners other":         {Owners: []string{streamOther}},
		"executable by self":   {ExecutableBy: []string{"self"}},
		"executable by all":    {ExecutableBy: []string{"all"}},
		"name wildcard":        {Filters: []resource.Filter{name("name", "img-1*")}},
		"tag filter":           {Filters: []resource.Filter{name("tag:Team", "t1")}},
		"no tag matches":       {Filters: []resource.Filter{name("tag:Team", "nobody")}},
		"nothing matches":      {Owners: []string{"444444444444"}},
		"name prefix and self": {Owners: []string{"self"}, Filters: []resource.Filter{name("name", "img-2*")}},
	}
	for tn, r := range tests {
		t.Run(tn, func(t *testing.T) {
			want, _, err := e.Svc.DescribeImages(t.Context(), caller, r)
			if err != nil {
				t.Fatal(err)
			}
			s, err := e.Svc.StreamImages(t.Context(), caller, r)
			if err != nil {
				t.Fatal(err)
			}
			got := drain(t, s)
			if diff := cmp.Diff(described(want), described(got)); diff != "" {
				t.Errorf("stream (-one answer +stream):\n%s", diff)
			}
		})
	}
	if all, _, _ := e.Svc.DescribeImages(t.Context(), caller, &image.DescribeRequest{}); len(all) < resource.FirstBatch+resource.StreamBatch {
		t.Errorf("the population answers %d images; want more than a first and a full batch", len(all))
	}
}

// TestStreamImagesContinuesAToken: a page token continues as a stream
// after the page it ended.
func TestStreamImagesContinuesAToken(t *testing.T) {
	e := it.New(t, image.Options{})
	streamPopulation(t, e, 1500)
	caller := it.OrgCaller(streamOwner, streamOrg)
	all, _, err := e.Svc.DescribeImages(t.Context(), caller, &image.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	n := int32(100)
	page, next, err := e.Svc.DescribeImages(t.Context(), caller, &image.DescribeRequest{MaxResults: &n})
	if err != nil || next == "" {
		t.Fatalf("first page: %v, token %q", err, next)
	}
	s, err := e.Svc.StreamImages(t.Context(), caller, &image.DescribeRequest{NextToken: &next})
	if err != nil {
		t.Fatal(err)
	}
	got := append(page, drain(t, s)...)
	if diff := cmp.Diff(described(all), described(got)); diff != "" {
		t.Errorf("page + stream (-one answer +stream):\n%s", diff)
	}
	bad := "not-a-token"
	_, err = e.Svc.StreamImages(t.Context(), caller, &image.DescribeRequest{NextToken: &bad})
	it.WantError(t, err, "InvalidParameterValue", 400, "Value ( not-a-token ) for parameter NextToken is invalid. The token is invalid.")
}

// TestStreamImagesBatchesAreTransactions: each batch reads the store as it
// is then, so a write between two batches commits at once (no snapshot is
// held while the caller writes a batch out) and the later batches see it.
func TestStreamImagesBatchesAreTransactions(t *testing.T) {
	e := it.New(t, image.Options{})
	streamPopulation(t, e, 1500)
	caller := it.Caller(streamOwner)
	s, err := e.Svc.StreamImages(t.Context(), caller, &image.DescribeRequest{Owners: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Next(t.Context())
	if err != nil || len(first) == 0 {
		t.Fatalf("first batch: %d images, %v", len(first), err)
	}
	last := fmt.Sprintf("ami-%017x", 1497*3) // the owner's last image, far past the first batch
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := e.Svc.DeregisterImage(ctx, caller, last, false, false); err != nil {
		t.Fatal(err)
	}
	rest := drain(t, s)
	for _, d := range append(first, rest...) {
		if d.ID == last {
			t.Errorf("%s, deregistered between batches, is still listed", last)
		}
	}
}
