package image_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/resource"
)

var ctx = context.Background()

func publicQuotaMessage(n int) string {
	return fmt.Sprintf("You have reached your quota of %d for the number of public images allowed in this Region. "+
		"Deregister unused public images or make them private, or request an increase in your public AMIs quota.", n)
}

// The public-image quota (spec §1.4): 5 public images per account and
// region by default, -1 for none; what stops being public frees its slot.
func TestPublicImageQuota(t *testing.T) {
	owner := it.Caller(it.Owner)
	cases := []struct {
		name  string
		quota int
		// public images the owner has before the attempt.
		public int
		// prepare runs after those are public, with their ids.
		prepare func(t *testing.T, e *it.Env, public []string)
		// who registers an image and makes it public.
		who  resource.Caller
		want int // the quota named in the refusal; 0 for success
	}{
		{name: "under EC2's quota", quota: 5, public: 4, who: owner},
		{name: "at EC2's quota", quota: 5, public: 5, who: owner, want: 5},
		{name: "unlimited", quota: -1, public: 12, who: owner},
		{name: "the message names the quota", quota: 2, public: 2, who: owner, want: 2},
		{name: "per account", quota: 2, public: 2, who: it.Caller(it.Member)},
		{name: "per region", quota: 2, public: 2, who: it.CallerIn("eu-west-1", it.Owner)},
		{name: "a public image made private frees its slot", quota: 2, public: 2, who: owner,
			prepare: func(t *testing.T, e *it.Env, public []string) {
				if err := e.RemovePermissions(owner, public[0], it.Public()); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a deregistered image frees its slot", quota: 2, public: 2, who: owner,
			prepare: func(t *testing.T, e *it.Env, public []string) {
				if _, err := e.Svc.DeregisterImage(ctx, owner, public[0], false, false); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a disabled image frees its slot", quota: 2, public: 2, who: owner,
			prepare: func(t *testing.T, e *it.Env, public []string) {
				if err := e.Svc.DisableImage(ctx, owner, public[0], false); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "images shared with accounts do not count", quota: 2, public: 1, who: owner,
			prepare: func(t *testing.T, e *it.Env, _ []string) {
				for i := range 3 {
					id := e.Register(t, owner, fmt.Sprintf("shared-%d", i))
					if err := e.AddPermissions(owner, id, it.User(it.Member), it.Org("arn:aws:organizations::111122223333:organization/o-exampleorg1")); err != nil {
						t.Fatal(err)
					}
				}
			}},
		{name: "another account's public images do not count", quota: 2, public: 0, who: owner,
			prepare: func(t *testing.T, e *it.Env, _ []string) {
				for i := range 2 {
					id := e.Register(t, it.Caller(it.Stranger), fmt.Sprintf("theirs-%d", i))
					if err := e.AddPermissions(it.Caller(it.Stranger), id, it.Public()); err != nil {
						t.Fatal(err)
					}
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := it.New(t, image.Options{PublicImageQuota: tc.quota})
			var public []string
			for i := range tc.public {
				id := e.Register(t, owner, fmt.Sprintf("public-%d", i))
				if err := e.AddPermissions(owner, id, it.Public()); err != nil {
					t.Fatalf("public image %d: %v", i+1, err)
				}
				public = append(public, id)
			}
			if tc.prepare != nil {
				tc.prepare(t, e, public)
			}
			id := e.Register(t, tc.who, "one-more")
			err := e.AddPermissions(tc.who, id, it.Public())
			if tc.want == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !e.Image(t, tc.who.Region, id).IsPublic() {
					t.Fatal("accepted but not public")
				}
				return
			}
			it.WantError(t, err, "ResourceLimitExceeded", 400, publicQuotaMessage(tc.want))
			if img := e.Image(t, tc.who.Region, id); img.IsPublic() || len(img.LaunchPermissions) != 0 {
				t.Fatalf("refused change was kept: %v", img.LaunchPermissions)
			}
		})
	}
}

// An image that is public already is not counted twice: granting "all"
// again at the quota, or sharing it further, still works.
func TestPublicImageQuotaCountsImagesNotGrants(t *testing.T) {
	e := it.New(t, image.Options{PublicImageQuota: 1})
	owner := it.Caller(it.Owner)
	id := e.Register(t, owner, "public")
	if err := e.AddPermissions(owner, id, it.Public()); err != nil {
		t.Fatal(err)
	}
	if err := e.AddPermissions(owner, id, it.Public(), it.User(it.Member)); err != nil {
		t.Fatalf("re-granting a public image at the quota: %v", err)
	}
	// The request is all or nothing: the grant to Stranger is not kept.
	other := e.Register(t, owner, "private")
	it.WantError(t, e.AddPermissions(owner, other, it.User(it.Stranger), it.Public()), "ResourceLimitExceeded", 400, publicQuotaMessage(1))
	if ps := e.Image(t, it.Region, other).LaunchPermissions; len(ps) != 0 {
		t.Fatalf("refused request kept %v", ps)
	}
}

const sharingQuotaMessage = "You have reached your quota of 1000 for the number of entities that an image can be shared with."

// accounts returns n distinct account ids that are none of imagetest's.
func accounts(from, n int) []image.PermissionItem {
	out := make([]image.PermissionItem, n)
	for i := range out {
		out[i] = it.User(fmt.Sprintf("9%011d", from+i))
	}
	return out
}

// The sharing quota (spec §1.4): one image is shared with at most 1,000
// accounts, organizations and OUs; public access and the owner itself are
// not entities, and a repeated grant counts once.
func TestSharingQuota(t *testing.T) {
	const (
		org = "arn:aws:organizations::111122223333:organization/o-exampleorg1"
		ou  = "arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-11111111"
	)
	owner := it.Caller(it.Owner)
	cases := []struct {
		name string
		// before are granted first, in one request that must succeed.
		before []image.PermissionItem
		add    []image.PermissionItem
		remove []image.PermissionItem
		ok     bool
		shared int // entities after a successful request
	}{
		{name: "1000 accounts at once", add: accounts(0, 1000), ok: true, shared: 1000},
		{name: "1001 accounts at once", add: accounts(0, 1001)},
		{name: "one more than 1000", before: accounts(0, 1000), add: accounts(1000, 1)},
		{name: "organizations and OUs count", before: accounts(0, 998), add: []image.PermissionItem{it.Org(org), it.OU(ou)}, ok: true, shared: 1000},
		{name: "an organization over the quota", before: accounts(0, 1000), add: []image.PermissionItem{it.Org(org)}},
		{name: "public access is not an entity", before: accounts(0, 1000), add: []image.PermissionItem{it.Public()}, ok: true, shared: 1000},
		{name: "the owner is not an entity", add: append(accounts(0, 1000), it.User(it.Owner)), ok: true, shared: 1000},
		{name: "repeats count once", add: append(accounts(0, 1000), accounts(0, 1000)...), ok: true, shared: 1000},
		{name: "granting again at the quota", before: accounts(0, 1000), add: accounts(500, 10), ok: true, shared: 1000},
		{name: "removals in the same request make room", before: accounts(0, 1000), add: accounts(1000, 5), remove: accounts(0, 5), ok: true, shared: 1000},
		{name: "too few removals", before: accounts(0, 1000), add: accounts(1000, 5), remove: accounts(0, 4)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := it.New(t, image.Options{PublicImageQuota: 5})
			id := e.Register(t, owner, "shared")
			if len(tc.before) > 0 {
				if err := e.AddPermissions(owner, id, tc.before...); err != nil {
					t.Fatal(err)
				}
			}
			was := e.Image(t, it.Region, id).LaunchPermissions
			err := e.Svc.ModifyImageAttribute(ctx, owner, &image.ModifyRequest{ImageID: id, Add: tc.add, Remove: tc.remove})
			img := e.Image(t, it.Region, id)
			if !tc.ok {
				it.WantError(t, err, "ResourceLimitExceeded", 400, sharingQuotaMessage)
				if !slices.Equal(img.LaunchPermissions, was) {
					t.Fatalf("refused request changed the grants: %d before, %d after", len(was), len(img.LaunchPermissions))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			shared := 0
			for _, p := range img.LaunchPermissions {
				if p != image.Public {
					shared++
				}
			}
			if shared != tc.shared {
				t.Fatalf("shared with %d entities, want %d", shared, tc.shared)
			}
		})
	}
}
