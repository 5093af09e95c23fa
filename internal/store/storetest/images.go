package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// equateEmpty lets an engine return nil for a slice stored empty.
var equateEmpty = cmpopts.EquateEmpty()

func testImageRoundTrip(t *testing.T, h *harness) {
	s := h.open(t)
	full := fullImage(region, amiID(1))
	minimal := &image.Image{Region: region, ID: amiID(2), OwnerID: "111111111111", State: image.StatePending}
	insert(t, s, full, minimal)

	for _, want := range []*image.Image{full, minimal} {
		got := getImage(t, s, want.Region, want.ID)
		if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
			t.Errorf("Image(%s) mismatch (-stored +read):\n%s", want.ID, diff)
		}
	}
	if got := getImage(t, s, minimal.Region, minimal.ID); !got.CreationDate.IsZero() {
		t.Errorf("zero CreationDate read back as %v", got.CreationDate)
	}

	// FindImages returns the same records, launch permissions included.
	got := find(t, s, image.Query{Region: region, IncludeDeregistered: true})
	if diff := cmp.Diff([]*image.Image{full, minimal}, got, equateEmpty); diff != "" {
		t.Errorf("FindImages mismatch (-stored +read):\n%s", diff)
	}
}

func testNotFound(t *testing.T, h *harness) {
	s := h.open(t)
	insert(t, s, newImage(region, amiID(1), "111111111111", "a"))
	ctx := t.Context()
	err := s.View(ctx, func(tx image.Tx) error {
		if _, err := tx.Image(ctx, region, amiID(2)); err != resource.ErrNotFound {
			t.Errorf("Image(absent) error = %v, want resource.ErrNotFound", err)
		}
		if _, err := tx.Image(ctx, region2, amiID(1)); err != resource.ErrNotFound {
			t.Errorf("Image(other region) error = %v, want resource.ErrNotFound", err)
		}
		if _, err := tx.Setting(ctx, region, "111111111111", "never-set"); err != resource.ErrNotFound {
			t.Errorf("Setting(absent) error = %v, want resource.ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx image.Tx) error {
		if err := tx.UpdateImage(ctx, newImage(region, amiID(2), "111111111111", "b")); err != resource.ErrNotFound {
			t.Errorf("UpdateImage(absent) error = %v, want resource.ErrNotFound", err)
		}
		if err := tx.DeleteImage(ctx, region, amiID(2)); err != resource.ErrNotFound {
			t.Errorf("DeleteImage(absent) error = %v, want resource.ErrNotFound", err)
		}
		if err := tx.DeleteImage(ctx, region2, amiID(1)); err != resource.ErrNotFound {
			t.Errorf("DeleteImage(other region) error = %v, want resource.ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// UpdateImage of an absent image must not have created it.
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		if _, err := tx.Image(ctx, region, amiID(2)); err != resource.ErrNotFound {
			t.Errorf("after UpdateImage(absent): Image error = %v, want resource.ErrNotFound", err)
		}
		return nil
	})
}

func testInsertDuplicate(t *testing.T, h *harness) {
	s := h.open(t)
	insert(t, s, newImage(region, amiID(1), "111111111111", "first"))
	ctx := t.Context()
	err := s.Update(ctx, func(tx image.Tx) error {
		return tx.InsertImage(ctx, newImage(region, amiID(1), "222222222222", "second"))
	})
	if err != resource.ErrExists {
		t.Fatalf("InsertImage of an existing id: error = %v, want resource.ErrExists", err)
	}
	if got := getImage(t, s, region, amiID(1)); got.Name != "first" {
		t.Errorf("existing image changed: name %q", got.Name)
	}
}

func testRegionsAreSeparate(t *testing.T, h *harness) {
	s := h.open(t)
	a := newImage(region, amiID(1), "111111111111", "web", image.Public)
	b := newImage(region2, amiID(1), "222222222222", "web")
	insert(t, s, a, b)

	if diff := cmp.Diff(b, getImage(t, s, region2, amiID(1)), equateEmpty); diff != "" {
		t.Errorf("Image in %s (-want +got):\n%s", region2, diff)
	}
	if got := ids(find(t, s, image.Query{Region: region2, VisibleTo: &resource.Viewer{Account: "999999999999"}})); len(got) != 0 {
		t.Errorf("public image of %s visible in %s: %v", region, region2, got)
	}
	update(t, s, func(ctx context.Context, tx image.Tx) error { return tx.DeleteImage(ctx, region, amiID(1)) })
	if diff := cmp.Diff(b, getImage(t, s, region2, amiID(1)), equateEmpty); diff != "" {
		t.Errorf("deleting in %s touched %s (-want +got):\n%s", region, region2, diff)
	}
}

func testUpdateImageReplaces(t *testing.T, h *harness) {
	s := h.open(t)
	orig := fullImage(region, amiID(1))
	insert(t, s, orig)

	changed := orig.Clone()
	changed.Name = "renamed"
	changed.Description = ""
	changed.State = image.StateAvailable
	changed.StateReason = nil
	changed.DeprecationTime = nil
	changed.EnaSupport = ptr(true)
	changed.BlockDeviceMappings = changed.BlockDeviceMappings[:1]
	changed.ProductCodes = nil
	changed.LaunchPermissions = []image.LaunchPermission{
		{Kind: image.PermOrg, Value: "arn:aws:organizations::123456789012:organization/o-new"},
		{Kind: image.PermUser, Value: "333333333333"},
	}
	update(t, s, func(ctx context.Context, tx image.Tx) error { return tx.UpdateImage(ctx, changed) })

	if diff := cmp.Diff(changed, getImage(t, s, region, amiID(1)), equateEmpty); diff != "" {
		t.Errorf("after UpdateImage (-want +got):\n%s", diff)
	}
	// The indexes follow the update: old grants and the public flag are gone.
	if got := ids(find(t, s, image.Query{Region: region, GrantedAny: []image.LaunchPermission{image.Public, {Kind: image.PermUser, Value: "222222222222"}}})); len(got) != 0 {
		t.Errorf("old grants still found: %v", got)
	}
	if got := ids(find(t, s, image.Query{Region: region, VisibleTo: &resource.Viewer{Account: "999999999999"}})); len(got) != 0 {
		t.Errorf("no longer public image still visible: %v", got)
	}
	if got := ids(find(t, s, image.Query{Region: region, Name: orig.Name})); len(got) != 0 {
		t.Errorf("found by old name: %v", got)
	}
	if got := ids(find(t, s, image.Query{Region: region, Name: "renamed", VisibleTo: &resource.Viewer{Account: "333333333333"}})); len(got) != 1 {
		t.Errorf("not found by new name and grant: %v", got)
	}
}

func testDeleteImage(t *testing.T, h *harness) {
	s := h.open(t)
	img := newImage(region, amiID(1), "111111111111", "web", image.Public, image.LaunchPermission{Kind: image.PermUser, Value: "222222222222"})
	other := newImage(region, amiID(2), "111111111111", "db")
	insert(t, s, img, other)
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, acct := range []string{"111111111111", "222222222222"} {
			for _, id := range []string{amiID(1), amiID(2)} {
				if err := tx.SetTags(ctx, region, acct, id, []resource.Tag{{Key: "Team", Value: acct}}); err != nil {
					return err
				}
			}
		}
		return tx.DeleteImage(ctx, region, amiID(1))
	})

	view(t, s, func(ctx context.Context, tx image.Tx) error {
		if _, err := tx.Image(ctx, region, amiID(1)); err != resource.ErrNotFound {
			t.Errorf("Image after delete: error = %v, want resource.ErrNotFound", err)
		}
		got, err := tx.FindImages(ctx, image.Query{Region: region, IncludeDeregistered: true,
			GrantedAny: []image.LaunchPermission{image.Public, {Kind: image.PermUser, Value: "222222222222"}}})
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("launch permissions outlived the image: %v", ids(got))
		}
		for _, acct := range []string{"111111111111", "222222222222"} {
			tags, err := tx.Tags(ctx, region, acct, []string{amiID(1), amiID(2)})
			if err != nil {
				return err
			}
			want := map[string][]resource.Tag{amiID(2): {{Key: "Team", Value: acct}}}
			if diff := cmp.Diff(want, tags); diff != "" {
				t.Errorf("account %s tags after delete (-want +got):\n%s", acct, diff)
			}
		}
		return nil
	})

	// The id can be registered again, starting clean.
	again := newImage(region, amiID(1), "111111111111", "web")
	insert(t, s, again)
	if diff := cmp.Diff(again, getImage(t, s, region, amiID(1)), equateEmpty); diff != "" {
		t.Errorf("re-registered image (-want +got):\n%s", diff)
	}
}

func testImageIDByName(t *testing.T, h *harness) {
	s := h.open(t)
	gone := newImage(region, amiID(1), "111111111111", "web")
	gone.State = image.StateDeregistered
	live := newImage(region, amiID(2), "111111111111", "web")
	onlyGone := newImage(region, amiID(3), "111111111111", "old")
	onlyGone.State = image.StateDeregistered
	disabled := newImage(region, amiID(4), "111111111111", "off")
	disabled.State = image.StateDisabled
	insert(t, s, gone, live, onlyGone, disabled,
		newImage(region, amiID(5), "222222222222", "mine"),
		newImage(region2, amiID(6), "111111111111", "elsewhere"))

	tests := []struct {
		name, region, owner, imageName, want string
	}{
		{"live beats deregistered", region, "111111111111", "web", amiID(2)},
		{"deregistered ignored", region, "111111111111", "old", ""},
		{"disabled still counts", region, "111111111111", "off", amiID(4)},
		{"other owner", region, "111111111111", "mine", ""},
		{"other region", region, "111111111111", "elsewhere", ""},
		{"absent", region, "111111111111", "nothing", ""},
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, tc := range tests {
			got, err := tx.ImageIDByName(ctx, tc.region, tc.owner, tc.imageName)
			if err != nil {
				t.Errorf("%s: ImageIDByName error: %v", tc.name, err)
			} else if got != tc.want {
				t.Errorf("%s: ImageIDByName(%q, %q) = %q, want %q", tc.name, tc.owner, tc.imageName, got, tc.want)
			}
		}
		return nil
	})
}

func testTags(t *testing.T, h *harness) {
	s := h.open(t)
	const a, b = "111111111111", "222222222222"
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		steps := []struct {
			region, account, id string
			tags                []resource.Tag
		}{
			{region, a, amiID(1), []resource.Tag{{Key: "Name", Value: "web"}, {Key: "Env", Value: "prod"}, {Key: "a", Value: ""}}},
			{region, b, amiID(1), []resource.Tag{{Key: "Name", Value: "b's name"}}},
			{region, a, amiID(2), []resource.Tag{{Key: "Team", Value: "blue"}}},
			{region, a, "snap-0123456789abcdef0", []resource.Tag{{Key: "Team", Value: "red"}}},
			{region2, a, amiID(1), []resource.Tag{{Key: "Region", Value: "eu"}}},
			// Replace: a's tags on image 2 become exactly these.
			{region, a, amiID(2), []resource.Tag{{Key: "Owner", Value: "me"}}},
			// An empty list removes b's tags on image 1... then set again.
			{region, b, amiID(1), nil},
			{region, b, amiID(3), []resource.Tag{{Key: "X", Value: "1"}}},
			{region, b, amiID(3), []resource.Tag{}},
		}
		for _, st := range steps {
			if err := tx.SetTags(ctx, st.region, st.account, st.id, st.tags); err != nil {
				return err
			}
		}
		return nil
	})

	tests := []struct {
		name            string
		region, account string
		ids             []string
		want            map[string][]resource.Tag
	}{
		{"sorted by key, absent resources left out", region, a,
			[]string{amiID(1), amiID(2), amiID(3), "snap-0123456789abcdef0", amiID(9)},
			map[string][]resource.Tag{
				amiID(1):                 {{Key: "Env", Value: "prod"}, {Key: "Name", Value: "web"}, {Key: "a", Value: ""}},
				amiID(2):                 {{Key: "Owner", Value: "me"}},
				"snap-0123456789abcdef0": {{Key: "Team", Value: "red"}},
			}},
		{"other account sees only its own", region, b, []string{amiID(1), amiID(2), amiID(3)}, map[string][]resource.Tag{}},
		{"other region", region2, a, []string{amiID(1), amiID(2)}, map[string][]resource.Tag{amiID(1): {{Key: "Region", Value: "eu"}}}},
		{"repeated ids", region, a, []string{amiID(2), amiID(2)}, map[string][]resource.Tag{amiID(2): {{Key: "Owner", Value: "me"}}}},
		{"no ids", region, a, nil, map[string][]resource.Tag{}},
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, tc := range tests {
			got, err := tx.Tags(ctx, tc.region, tc.account, tc.ids)
			if err != nil {
				t.Errorf("%s: Tags error: %v", tc.name, err)
				continue
			}
			if diff := cmp.Diff(tc.want, got, equateEmpty); diff != "" {
				t.Errorf("%s: Tags (-want +got):\n%s", tc.name, diff)
			}
		}
		return nil
	})
}

func testSettings(t *testing.T, h *harness) {
	s := h.open(t)
	const a, b = "111111111111", "222222222222"
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, st := range [][4]string{
			{region, a, "block-public-access", "unblocked"},
			{region, a, "block-public-access", "block-new-sharing"}, // replaces
			{region, b, "block-public-access", "unblocked"},
			{region2, a, "allowed-images", `{"state":"enabled"}`},
			{region, a, "empty", ""},
		} {
			if err := tx.SetSetting(ctx, st[0], st[1], st[2], st[3]); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		region, account, name string
		want                  string
		absent                bool
	}{
		{region: region, account: a, name: "block-public-access", want: "block-new-sharing"},
		{region: region, account: b, name: "block-public-access", want: "unblocked"},
		{region: region, account: a, name: "empty", want: ""},
		{region: region2, account: a, name: "allowed-images", want: `{"state":"enabled"}`},
		{region: region, account: a, name: "allowed-images", absent: true},
		{region: region2, account: b, name: "block-public-access", absent: true},
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, tc := range tests {
			got, err := tx.Setting(ctx, tc.region, tc.account, tc.name)
			switch {
			case tc.absent && err != resource.ErrNotFound:
				t.Errorf("Setting(%s, %s, %s) = %q, %v; want resource.ErrNotFound", tc.region, tc.account, tc.name, got, err)
			case !tc.absent && (err != nil || got != tc.want):
				t.Errorf("Setting(%s, %s, %s) = %q, %v; want %q", tc.region, tc.account, tc.name, got, err, tc.want)
			}
		}
		return nil
	})
}
