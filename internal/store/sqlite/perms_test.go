package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
)

// UpdateImage rewrites the launch permission rows only when the function
// changed them since it read the image; every sequence of changes within
// one function, or across functions of one group commit, must still leave
// exactly the permissions of the last write.
func TestUpdateImageKeepsOrRewritesPermissions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	a := image.LaunchPermission{Kind: image.PermUser, Value: "111122223333"}
	b := image.LaunchPermission{Kind: image.PermUser, Value: "444455556666"}
	const region, id = "us-east-1", "ami-0123456789abcdef0"
	if err := s.Update(ctx, func(tx image.Tx) error {
		return tx.InsertImage(ctx, &image.Image{Region: region, ID: id, OwnerID: "000000000000", Name: "p",
			State: image.StateAvailable, CreationDate: time.UnixMilli(1700000000000), LaunchPermissions: []image.LaunchPermission{a}})
	}); err != nil {
		t.Fatal(err)
	}
	step := func(name string, change func(img *image.Image) [][]image.LaunchPermission, want []image.LaunchPermission) {
		t.Helper()
		if err := s.Update(ctx, func(tx image.Tx) error {
			img, err := tx.Image(ctx, region, id)
			if err != nil {
				return err
			}
			for _, ps := range change(img) {
				img.LaunchPermissions = ps
				img.Description = name
				if err := tx.UpdateImage(ctx, img); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []image.LaunchPermission
		if err := s.View(ctx, func(tx image.Tx) error {
			img, err := tx.Image(ctx, region, id)
			got = img.LaunchPermissions
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: launch permissions %v, want %v", name, got, want)
		}
	}
	same := func(img *image.Image) [][]image.LaunchPermission {
		return [][]image.LaunchPermission{slices.Clone(img.LaunchPermissions)}
	}
	step("description only", same, []image.LaunchPermission{a})
	step("add", func(*image.Image) [][]image.LaunchPermission { return [][]image.LaunchPermission{{a, b}} }, []image.LaunchPermission{a, b})
	step("change and change back", func(img *image.Image) [][]image.LaunchPermission {
		return [][]image.LaunchPermission{{b}, slices.Clone(img.LaunchPermissions)}
	}, []image.LaunchPermission{a, b})
	step("remove all", func(*image.Image) [][]image.LaunchPermission { return [][]image.LaunchPermission{nil} }, nil)
	step("description after removal", same, nil)
}
