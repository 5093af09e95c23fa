package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// TestCachedFindAgreesWithSQL drives random writes and random queries and
// checks, inside each View, that FindImages through the read cache answers
// exactly what SQLite alone answers from the same snapshot: the Go meaning
// of a Query (image.Query.Matches), the candidate queries and the cache's
// invalidation, against the SQL that the conformance suite checks.
func TestCachedFindAgreesWithSQL(t *testing.T) {
	const seed1, seed2 = 20261127, 7
	rng := rand.New(rand.NewPCG(seed1, seed2))
	t.Logf("seed %d,%d", seed1, seed2)
	s := openTest(t, filepath.Join(t.TempDir(), "amigo.db"), DefaultOptions())
	defer s.Close()
	ctx := t.Context()

	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}
	org := "arn:aws:organizations::111111111111:organization/o-1"
	ous := []string{"arn:aws:organizations::111111111111:ou/o-1/ou-a", "arn:aws:organizations::111111111111:ou/o-1/ou-b"}
	states := []string{image.StateAvailable, image.StateAvailable, image.StatePending, image.StateDeregistered, image.StateDisabled}
	pick := func(ss []string) string { return ss[rng.IntN(len(ss))] }
	randImage := func(n int) *image.Image {
		img := cacheImage(fmt.Sprintf("ami-%017x", n), pick(accounts), "")
		img.Name = fmt.Sprintf("%s-%d", pick([]string{"web", "db", "web-old"}), rng.IntN(5))
		img.State = pick(states)
		if rng.IntN(4) == 0 {
			img.OwnerAlias = "amazon"
		}
		for range rng.IntN(3) {
			var p image.LaunchPermission
			switch rng.IntN(4) {
			case 0:
				p = image.Public
			case 1:
				p = image.LaunchPermission{Kind: image.PermUser, Value: pick(accounts)}
			case 2:
				p = image.LaunchPermission{Kind: image.PermOrg, Value: org}
			default:
				p = image.LaunchPermission{Kind: image.PermOU, Value: pick(ous)}
			}
			if !slices.Contains(img.LaunchPermissions, p) {
				img.LaunchPermissions = append(img.LaunchPermissions, p)
			}
		}
		return img
	}
	const n = 120
	mustUpdate(t, s, func(ctx context.Context, tx image.Tx) error {
		for i := range n {
			if err := tx.InsertImage(ctx, randImage(i)); err != nil {
				return err
			}
		}
		return nil
	})
	randQuery := func() image.Query {
		q := image.Query{Region: region, IncludeDeregistered: rng.IntN(3) == 0}
		if rng.IntN(4) == 0 {
			for range 1 + rng.IntN(6) {
				q.IDs = append(q.IDs, fmt.Sprintf("ami-%017x", rng.IntN(n+10)))
			}
		}
		if rng.IntN(3) == 0 {
			q.OwnerIDs = []string{pick(accounts)}
		}
		if rng.IntN(6) == 0 {
			q.OwnerAliases = []string{"amazon"}
		}
		if rng.IntN(2) == 0 {
			v := &resource.Viewer{Account: pick(accounts)}
			if rng.IntN(2) == 0 {
				v.OrgARN, v.OUARNs = org, ous[:1+rng.IntN(2)]
			}
			q.VisibleTo = v
		}
		if rng.IntN(5) == 0 {
			q.GrantedAny = []image.LaunchPermission{image.Public, {Kind: image.PermUser, Value: pick(accounts)}}
		}
		switch rng.IntN(6) {
		case 0:
			q.Name = fmt.Sprintf("web-%d", rng.IntN(5))
		case 1:
			q.NamePrefix = "web-"
		}
		if rng.IntN(5) == 0 {
			q.AfterID = fmt.Sprintf("ami-%017x", rng.IntN(n))
		}
		if rng.IntN(4) == 0 {
			q.Limit = 1 + rng.IntN(20)
		}
		return q
	}

	opts := cmp.Options{cmpopts.EquateEmpty(), cmpopts.EquateApproxTime(time.Millisecond)}
	for step := range 400 {
		// A write: replace, delete or re-create one image.
		id := rng.IntN(n)
		err := s.Update(ctx, func(tx image.Tx) error {
			switch rng.IntN(4) {
			case 0:
				err := tx.DeleteImage(ctx, region, fmt.Sprintf("ami-%017x", id))
				if errors.Is(err, resource.ErrNotFound) {
					return tx.InsertImage(ctx, randImage(id))
				}
				return err
			default:
				img := randImage(id)
				if err := tx.UpdateImage(ctx, img); errors.Is(err, resource.ErrNotFound) {
					return tx.InsertImage(ctx, img)
				} else {
					return err
				}
			}
		})
		if err != nil {
			t.Fatalf("step %d: write: %v", step, err)
		}
		for range 3 {
			q := randQuery()
			mustView(t, s, func(ctx context.Context, itx image.Tx) error {
				got, err := itx.FindImages(ctx, q)
				if err != nil {
					return err
				}
				want, err := itx.(*tx).findImagesSQL(ctx, q)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, got, opts); diff != "" {
					t.Fatalf("step %d: query %+v (viewer %+v): cached answer differs from SQLite's (-sql +cached):\n%s", step, q, q.VisibleTo, diff)
				}
				return nil
			})
		}
	}
}
