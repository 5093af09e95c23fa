package image_test

import (
	"fmt"
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func quotaMessage(n int) string {
	return fmt.Sprintf("You have reached your quota of %d for the number of images allowed in this Region. Deregister unused images, or request an increase in your AMIs quota.", n)
}

// The image quota (EC2's "AMIs" quota): RegisterImage and CopyImage refuse
// a new image once the account has ImageQuota images in the region that
// are not deregistered.
func TestImageQuota(t *testing.T) {
	const eu = "eu-west-1"
	owner, other := it.Caller(it.Owner), it.Caller(it.Member)
	cases := []struct {
		name  string
		quota int
		// setup runs first and returns the ids it made; then try makes
		// one more image and want is its error.
		setup func(t *testing.T, e *it.Env) []string
		try   func(e *it.Env, ids []string) error
		want  int // the quota named by the error, 0 for success
	}{
		{"register under the quota", 3, register(owner, 2), registerOne(owner), 0},
		{"register at the quota", 3, register(owner, 3), registerOne(owner), 3},
		{"quota is per account", 3, register(other, 3), registerOne(owner), 0},
		{"quota is per region", 3, register(it.CallerIn(eu, it.Owner), 3), registerOne(owner), 0},
		{"deregistered images do not count", 3, func(t *testing.T, e *it.Env) []string {
			ids := register(owner, 3)(t, e)
			if _, err := e.Svc.DeregisterImage(ctx, owner, ids[0], false, false); err != nil {
				t.Fatal(err)
			}
			return ids
		}, registerOne(owner), 0},
		{"disabled images count", 3, func(t *testing.T, e *it.Env) []string {
			ids := register(owner, 3)(t, e)
			if err := e.Svc.DisableImage(ctx, owner, ids[0], false); err != nil {
				t.Fatal(err)
			}
			return ids
		}, registerOne(owner), 3},
		{"copy counts in the destination region", 2, func(t *testing.T, e *it.Env) []string {
			register(it.CallerIn(eu, it.Owner), 2)(t, e)
			return register(owner, 1)(t, e)
		}, copyTo(eu), 2},
		{"copy under the quota", 2, register(owner, 1), copyTo(it.Region), 0},
		{"unlimited", -1, register(owner, 5), registerOne(owner), 0},
		{"zero takes EC2's default", 0, register(owner, 5), registerOne(owner), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := it.New(t, image.Options{ImageQuota: tc.quota})
			err := tc.try(e, tc.setup(t, e))
			if tc.want == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			it.WantError(t, err, "ResourceLimitExceeded", 400, quotaMessage(tc.want))
		})
	}
}

func TestDefaultImageQuota(t *testing.T) {
	if image.DefaultImageQuota != 50000 {
		t.Fatalf("DefaultImageQuota = %d, want EC2's 50,000", image.DefaultImageQuota)
	}
}

var quotaImages int

// register returns a setup that registers n images as c.
func register(c resource.Caller, n int) func(*testing.T, *it.Env) []string {
	return func(t *testing.T, e *it.Env) []string {
		var ids []string
		for range n {
			quotaImages++
			ids = append(ids, e.Register(t, c, fmt.Sprint("quota-", quotaImages)))
		}
		return ids
	}
}

func registerOne(c resource.Caller) func(*it.Env, []string) error {
	return func(e *it.Env, _ []string) error {
		_, err := e.Svc.RegisterImage(ctx, c, it.RegisterRequest("one-more"))
		return err
	}
}

// copyTo copies the owner's first image of Region into region.
func copyTo(region string) func(*it.Env, []string) error {
	return func(e *it.Env, ids []string) error {
		_, err := e.Svc.CopyImage(ctx, it.CallerIn(region, it.Owner), &image.CopyRequest{SourceImageID: ids[0], SourceRegion: it.Region, Name: "copied"})
		return err
	}
}
