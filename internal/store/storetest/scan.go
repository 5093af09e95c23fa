package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// testImageIDAfter: the n-th id after a cursor, in one region's id order,
// counting deregistered images; "" when fewer follow.
func testImageIDAfter(t *testing.T, h *harness) {
	s := h.open(t)
	var pop []*image.Image
	for _, n := range []int{3, 1, 7, 5, 9} {
		img := newImage(region, amiID(n), acct1, fmt.Sprint("img-", n))
		if n == 5 {
			img.State = image.StateDeregistered
		}
		pop = append(pop, img)
	}
	pop = append(pop, newImage(region2, amiID(2), acct1, "elsewhere"), newImage(region2, amiID(4), acct1, "elsewhere-too"))
	insert(t, s, pop...)
	tests := []struct {
		after string
		n     int
		want  string
	}{
		{"", 1, amiID(1)},
		{"", 3, amiID(5)},
		{"", 5, amiID(9)},
		{"", 6, ""},
		{amiID(1), 1, amiID(3)},
		{amiID(2), 1, amiID(3)}, // a cursor need not exist
		{amiID(3), 2, amiID(7)},
		{amiID(7), 2, ""},
		{amiID(9), 1, ""},
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, tc := range tests {
			got, err := tx.ImageIDAfter(ctx, region, tc.after, tc.n)
			if err != nil {
				t.Errorf("ImageIDAfter(%q, %d): %v", tc.after, tc.n, err)
				continue
			}
			if got != tc.want {
				t.Errorf("ImageIDAfter(%q, %d) = %q, want %q", tc.after, tc.n, got, tc.want)
			}
		}
		if got, err := tx.ImageIDAfter(ctx, region2, "", 2); err != nil || got != amiID(4) {
			t.Errorf("ImageIDAfter(%s, \"\", 2) = %q, %v; want %q", region2, got, err, amiID(4))
		}
		if got, err := tx.ImageIDAfter(ctx, "nowhere-1", "", 1); err != nil || got != "" {
			t.Errorf("ImageIDAfter(empty region) = %q, %v; want \"\"", got, err)
		}
		return nil
	})
}

// testFindImagesInRanges: a long listing read the way the image package
// streams one — ranges cut by ImageIDAfter, each read with AfterID,
// ThroughID and Limit in its own View — lists exactly what one FindImages
// does, in order, each image once, for every query shape that drives a
// search differently. Writes between batches do not disturb the images
// they leave alone.
func testFindImagesInRanges(t *testing.T, h *harness) {
	s := h.open(t)
	user := func(a string) image.LaunchPermission { return image.LaunchPermission{Kind: image.PermUser, Value: a} }
	org := image.LaunchPermission{Kind: image.PermOrg, Value: org1}
	var pop []*image.Image
	for i := 1; i <= 300; i++ {
		owner := []string{acct1, acct2, acct3}[i%3]
		var perms []image.LaunchPermission
		switch {
		case i%7 == 0:
			perms = append(perms, org)
		case i%11 == 0:
			perms = append(perms, user(acct9))
		case i%50 == 0:
			perms = append(perms, image.Public)
		}
		img := newImage(region, amiID(i*2), owner, fmt.Sprint("img-", i), perms...)
		if i%13 == 0 {
			img.State = image.StateDisabled
		}
		pop = append(pop, img)
	}
	insert(t, s, pop...)
	viewer := &resource.Viewer{Account: acct9, OrgARN: org1}
	queries := map[string]image.Query{
		"visible":  {VisibleTo: viewer},
		"granted":  {GrantedAny: []image.LaunchPermission{org, user(acct9)}},
		"owners":   {OwnerIDs: []string{acct1, acct3}, VisibleTo: &resource.Viewer{Account: acct1}},
		"prefix":   {NamePrefix: "img-1", VisibleTo: &resource.Viewer{Account: acct2}},
		"sparse":   {OwnerIDs: []string{acct2}, Name: "img-299", VisibleTo: &resource.Viewer{Account: acct2}},
		"no match": {OwnerIDs: []string{acct9}},
	}
	ctx := t.Context()
	for name, q := range queries {
		q.Region = region
		want := ids(find(t, s, q))
		for _, shape := range []struct{ span, limit int }{{1, 1}, {7, 3}, {40, 5}, {1000, 1000}} {
			var got []string
			after := ""
			for batch := 0; ; batch++ {
				if batch > 700 {
					t.Fatalf("%s %+v: the ranges do not end", name, shape)
				}
				bq := q
				bq.AfterID, bq.Limit, bq.Bulk = after, shape.limit, true
				var res []*image.Image
				err := s.View(ctx, func(tx image.Tx) error {
					var err error
					if bq.ThroughID, err = tx.ImageIDAfter(ctx, region, after, shape.span); err != nil {
						return err
					}
					res, err = tx.FindImages(ctx, bq)
					return err
				})
				if err != nil {
					t.Fatalf("%s batch %d: %v", name, batch, err)
				}
				if len(res) > shape.limit {
					t.Fatalf("%s batch %d: %d images, limit %d", name, batch, len(res), shape.limit)
				}
				got = append(got, ids(res)...)
				switch {
				case len(res) == shape.limit:
					after = res[len(res)-1].ID // the range may hold more
				case bq.ThroughID == "":
					after = ""
				default:
					after = bq.ThroughID
				}
				if after == "" {
					break
				}
				if batch == 2 {
					// A write between batches: an image far ahead, and one
					// behind the cursor; neither is in want.
					insert(t, s, newImage(region, amiID(1), acct1, "behind", org), newImage(region, amiID(9999), acct1, "ahead-"+name+fmt.Sprint(shape.span), org))
					update(t, s, func(ctx context.Context, tx image.Tx) error {
						if err := tx.DeleteImage(ctx, region, amiID(1)); err != nil {
							return err
						}
						return tx.DeleteImage(ctx, region, amiID(9999))
					})
				}
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("%s %+v: batches out of order or repeated: %v", name, shape, got)
			}
			if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
				t.Errorf("%s %+v: batches (-one FindImages +ranges):\n%s", name, shape, diff)
			}
		}
	}
}
