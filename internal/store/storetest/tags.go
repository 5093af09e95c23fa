package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// tagPopulation spreads tags over two regions and three accounts, on
// resources whose ids interleave between accounts.
func tagPopulation() []resource.ResourceTag {
	rt := func(region, account, id, key, value string) resource.ResourceTag {
		return resource.ResourceTag{Region: region, Account: account, ResourceID: id, Tag: resource.Tag{Key: key, Value: value}}
	}
	return []resource.ResourceTag{
		rt(region, acct1, amiID(1), "Name", "web"),
		rt(region, acct1, amiID(1), "Env", "prod"),
		rt(region, acct1, amiID(1), "a", ""),
		rt(region, acct2, amiID(1), "Name", "b's web"),
		rt(region, acct2, amiID(2), "Team", "blue"),
		rt(region, acct1, amiID(3), "Team", "red"),
		rt(region, acct1, instanceID(1), "Name", "box"),
		rt(region, acct3, instanceID(1), "Zone", "z"),
		rt(region, acct1, "snap-0123456789abcdef0", "Team", "red"),
		rt(region, acct1, "snap-0123456789abcdef0", "Env", "dev"),
		rt(region2, acct1, amiID(1), "Name", "eu-web"),
		rt(region2, acct1, amiID(2), "Env", "prod"),
		rt(region2, acct2, amiID(1), "Env", "test"),
	}
}

// tagOrder is the order ListTags promises: resource id, then key. The
// remaining fields only break ties for the comparison.
func tagOrder(a, b resource.ResourceTag) int {
	for _, c := range []int{
		strings.Compare(a.ResourceID, b.ResourceID),
		strings.Compare(a.Key, b.Key),
		strings.Compare(a.Region, b.Region),
		strings.Compare(a.Account, b.Account),
	} {
		if c != 0 {
			return c
		}
	}
	return 0
}

func listTags(t *testing.T, s instance.Store, q resource.TagQuery) []resource.ResourceTag {
	t.Helper()
	var out []resource.ResourceTag
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		var err error
		out, err = tx.ListTags(ctx, q)
		return err
	})
	return out
}

func testListTags(t *testing.T, h *harness) {
	s := h.open(t)
	pop := tagPopulation()
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		type res struct{ region, account, id string }
		byRes := map[res][]resource.Tag{}
		var order []res
		for _, rt := range pop {
			k := res{rt.Region, rt.Account, rt.ResourceID}
			if _, ok := byRes[k]; !ok {
				order = append(order, k)
			}
			byRes[k] = append(byRes[k], rt.Tag)
		}
		for _, k := range order {
			if err := tx.SetTags(ctx, k.region, k.account, k.id, byRes[k]); err != nil {
				return err
			}
		}
		return nil
	})

	// want filters the population and sorts it as ListTags must.
	want := func(keep func(resource.ResourceTag) bool) []resource.ResourceTag {
		var out []resource.ResourceTag
		for _, rt := range pop {
			if keep(rt) {
				out = append(out, rt)
			}
		}
		slices.SortFunc(out, tagOrder)
		return out
	}
	in := func(region, account string) func(resource.ResourceTag) bool {
		return func(rt resource.ResourceTag) bool {
			return (region == "" || rt.Region == region) && (account == "" || rt.Account == account)
		}
	}
	tests := []struct {
		name string
		q    resource.TagQuery
		want []resource.ResourceTag
	}{
		{"account and region", resource.TagQuery{Region: region, Account: acct1}, want(in(region, acct1))},
		{"other account", resource.TagQuery{Region: region, Account: acct2}, want(in(region, acct2))},
		{"other region", resource.TagQuery{Region: region2, Account: acct1}, want(in(region2, acct1))},
		{"account without tags", resource.TagQuery{Region: region, Account: acct9}, nil},
		{"every account of a region", resource.TagQuery{Region: region}, want(in(region, ""))},
		{"one account, every region", resource.TagQuery{Account: acct2}, want(in("", acct2))},
		{"everything (export)", resource.TagQuery{}, want(in("", ""))},
		{"ResourceIDs", resource.TagQuery{Region: region, Account: acct1, ResourceIDs: []string{"snap-0123456789abcdef0", amiID(1), amiID(2), amiID(1)}},
			want(func(rt resource.ResourceTag) bool {
				return in(region, acct1)(rt) && (rt.ResourceID == amiID(1) || rt.ResourceID == "snap-0123456789abcdef0")
			})},
		{"Keys", resource.TagQuery{Region: region, Account: acct1, Keys: []string{"Team", "Env", "name"}},
			want(func(rt resource.ResourceTag) bool {
				return in(region, acct1)(rt) && (rt.Key == "Team" || rt.Key == "Env")
			})},
		{"ResourceIDs and Keys", resource.TagQuery{Region: region, Account: acct1, ResourceIDs: []string{amiID(1)}, Keys: []string{"Name"}},
			want(func(rt resource.ResourceTag) bool {
				return in(region, acct1)(rt) && rt.ResourceID == amiID(1) && rt.Key == "Name"
			})},
		{"After a resource and key", resource.TagQuery{Region: region, Account: acct1, AfterResourceID: amiID(1), AfterKey: "Env"},
			want(func(rt resource.ResourceTag) bool {
				return in(region, acct1)(rt) && (rt.ResourceID > amiID(1) || rt.ResourceID == amiID(1) && rt.Key > "Env")
			})},
		{"After a resource's last key", resource.TagQuery{Region: region, Account: acct1, AfterResourceID: amiID(1), AfterKey: "a"},
			want(func(rt resource.ResourceTag) bool { return in(region, acct1)(rt) && rt.ResourceID > amiID(1) })},
		{"After an absent pair", resource.TagQuery{Region: region, Account: acct1, AfterResourceID: amiID(2), AfterKey: "Zzz"},
			want(func(rt resource.ResourceTag) bool { return in(region, acct1)(rt) && rt.ResourceID > amiID(2) })},
		{"Limit", resource.TagQuery{Region: region, Account: acct1, Limit: 2}, want(in(region, acct1))[:2]},
		{"After and Limit", resource.TagQuery{Region: region, Account: acct1, AfterResourceID: amiID(1), AfterKey: "Name", Limit: 2},
			want(func(rt resource.ResourceTag) bool {
				return in(region, acct1)(rt) && (rt.ResourceID > amiID(1) || rt.ResourceID == amiID(1) && rt.Key > "Name")
			})[:2]},
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, tc := range tests {
			got, err := tx.ListTags(ctx, tc.q)
			if err != nil {
				t.Errorf("%s: ListTags error: %v", tc.name, err)
				continue
			}
			// Across accounts or regions only the (resource, key) order
			// is promised; ties may come in any order.
			if !slices.IsSortedFunc(got, func(a, b resource.ResourceTag) int {
				return tagOrder(resource.ResourceTag{ResourceID: a.ResourceID, Tag: a.Tag}, resource.ResourceTag{ResourceID: b.ResourceID, Tag: b.Tag})
			}) {
				t.Errorf("%s: ListTags not ordered by resource id and key: %v", tc.name, got)
			}
			slices.SortStableFunc(got, tagOrder)
			if diff := cmp.Diff(tc.want, got, equateEmpty); diff != "" {
				t.Errorf("%s: ListTags(%+v) (-want +got):\n%s", tc.name, tc.q, diff)
			}
		}
		return nil
	})

	// Paging an account's tags a few at a time, with another account's
	// tags on the same resources in between, yields the one-shot list.
	for _, limit := range []int{1, 2, 3} {
		for _, acct := range []string{acct1, acct2, acct3} {
			q := resource.TagQuery{Region: region, Account: acct, Limit: limit}
			var paged []resource.ResourceTag
			for page := 0; ; page++ {
				if page > len(pop) {
					t.Fatalf("limit %d, %s: pagination does not end", limit, acct)
				}
				res := listTags(t, s, q)
				if len(res) > limit {
					t.Fatalf("limit %d: %d results", limit, len(res))
				}
				paged = append(paged, res...)
				if len(res) < limit {
					break
				}
				q.AfterResourceID, q.AfterKey = res[len(res)-1].ResourceID, res[len(res)-1].Key
			}
			if diff := cmp.Diff(want(in(region, acct)), paged, equateEmpty); diff != "" {
				t.Errorf("limit %d, %s: pages (-want +got):\n%s", limit, acct, diff)
			}
		}
	}

	// Tags follow SetTags and DeleteImage.
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		if err := tx.InsertImage(ctx, newImage(region, amiID(2), acct2, "x")); err != nil {
			return err
		}
		if err := tx.SetTags(ctx, region, acct1, amiID(3), nil); err != nil {
			return err
		}
		return tx.DeleteImage(ctx, region, amiID(2))
	})
	got := listTags(t, s, resource.TagQuery{Region: region})
	slices.SortStableFunc(got, tagOrder)
	if diff := cmp.Diff(want(func(rt resource.ResourceTag) bool {
		return rt.Region == region && rt.ResourceID != amiID(2) && rt.ResourceID != amiID(3)
	}), got, equateEmpty); diff != "" {
		t.Errorf("after SetTags and DeleteImage (-want +got):\n%s", diff)
	}
}

func testListSettings(t *testing.T, h *harness) {
	s := h.open(t)
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		got, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("Settings of an empty store: %v", got)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, st := range []resource.Setting{
			{Region: region, Account: acct1, Name: "block-public-access", Value: "unblocked"},
			{Region: region, Account: acct1, Name: "block-public-access", Value: "block-new-sharing"}, // replaces
			{Region: region2, Account: acct1, Name: "allowed-images", Value: `{"state":"enabled"}`},
			{Region: region, Account: acct2, Name: "block-public-access", Value: "unblocked"},
			{Region: region, Account: acct1, Name: "empty", Value: ""},
		} {
			if err := tx.SetSetting(ctx, st.Region, st.Account, st.Name, st.Value); err != nil {
				return err
			}
		}
		return nil
	})
	want := []resource.Setting{
		{Region: region2, Account: acct1, Name: "allowed-images", Value: `{"state":"enabled"}`},
		{Region: region, Account: acct1, Name: "block-public-access", Value: "block-new-sharing"},
		{Region: region, Account: acct1, Name: "empty", Value: ""},
		{Region: region, Account: acct2, Name: "block-public-access", Value: "unblocked"},
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		got, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		// The order is not part of the contract.
		slices.SortFunc(got, settingOrder)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Settings (-want +got):\n%s", diff)
		}
		return nil
	})
}

func settingOrder(a, b resource.Setting) int {
	for _, c := range []int{strings.Compare(a.Region, b.Region), strings.Compare(a.Account, b.Account), strings.Compare(a.Name, b.Name)} {
		if c != 0 {
			return c
		}
	}
	return 0
}
