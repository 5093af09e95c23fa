package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// Accounts, organization and OUs of the hand-written FindImages population.
const (
	acct1 = "111111111111"
	acct2 = "222222222222"
	acct3 = "333333333333"
	acct4 = "444444444444"
	acct9 = "999999999999"
	org1  = "arn:aws:organizations::444444444444:organization/o-1"
	ouA   = "arn:aws:organizations::444444444444:ou/o-1/ou-a"
	root1 = "arn:aws:organizations::444444444444:root/o-1/r-1"
)

// findPopulation is small enough to reason about by hand; each case's
// expectation below is written out, not computed.
func findPopulation() []*image.Image {
	user := func(a string) image.LaunchPermission { return image.LaunchPermission{Kind: image.PermUser, Value: a} }
	img := func(n int, owner, alias, name, state string, perms ...image.LaunchPermission) *image.Image {
		i := newImage(region, amiID(n), owner, name, perms...)
		i.OwnerAlias = alias
		i.State = state
		return i
	}
	return []*image.Image{
		img(1, acct1, "", "alpha-1", image.StateAvailable),
		img(2, acct1, "", "alpha-2", image.StateAvailable, user(acct2)),
		img(3, acct2, "amazon", "beta", image.StateAvailable, image.Public),
		img(4, acct3, "", "alpha-3", image.StateDeregistered, image.Public),
		// Disabled yet still holding grants: only its owner may see it.
		img(5, acct3, "", "gamma", image.StateDisabled, image.Public, user(acct2)),
		img(6, acct4, "aws-marketplace", "alpha-10", image.StateAvailable, image.LaunchPermission{Kind: image.PermOrg, Value: org1}),
		img(7, acct4, "", "delta", image.StateAvailable, image.LaunchPermission{Kind: image.PermOU, Value: ouA}),
		img(8, acct1, "", "alphabet", image.StatePending, user(acct3)),
		img(10, acct1, "", "ünïcode", image.StateAvailable),
		img(11, acct1, "", "alpha\u00ff", image.StateAvailable),
		// Same id and name in another region.
		{Region: region2, ID: amiID(1), OwnerID: acct1, Name: "alpha-1", State: image.StateAvailable, LaunchPermissions: []image.LaunchPermission{image.Public}},
	}
}

func testFindImages(t *testing.T, h *harness) {
	s := h.open(t)
	pop := findPopulation()
	insert(t, s, pop...)

	user := func(a string) image.LaunchPermission { return image.LaunchPermission{Kind: image.PermUser, Value: a} }
	n := func(ns ...int) []string {
		out := make([]string, len(ns))
		for i, x := range ns {
			out[i] = amiID(x)
		}
		return out
	}
	viewer3 := &resource.Viewer{Account: acct3, OrgARN: org1, OUARNs: []string{root1, ouA}}
	tests := []struct {
		name string
		q    image.Query
		want []string
	}{
		{"zero query leaves out deregistered", image.Query{}, n(1, 2, 3, 5, 6, 7, 8, 10, 11)},
		{"IncludeDeregistered", image.Query{IncludeDeregistered: true}, n(1, 2, 3, 4, 5, 6, 7, 8, 10, 11)},
		{"IDs", image.Query{IDs: []string{amiID(3), amiID(1), amiID(99), amiID(4), amiID(3)}}, n(1, 3)},
		{"IDs with deregistered", image.Query{IDs: n(3, 1, 4), IncludeDeregistered: true}, n(1, 3, 4)},
		{"OwnerIDs", image.Query{OwnerIDs: []string{acct1}}, n(1, 2, 8, 10, 11)},
		{"OwnerIDs several", image.Query{OwnerIDs: []string{acct2, acct4}}, n(3, 6, 7)},
		{"OwnerAliases", image.Query{OwnerAliases: []string{"amazon"}}, n(3)},
		{"OwnerIDs or OwnerAliases", image.Query{OwnerIDs: []string{acct3}, OwnerAliases: []string{"aws-marketplace"}}, n(5, 6)},
		{"Name", image.Query{Name: "alpha-1"}, n(1)},
		{"Name absent", image.Query{Name: "alpha"}, nil},
		{"NamePrefix", image.Query{NamePrefix: "alpha"}, n(1, 2, 6, 8, 11)},
		{"NamePrefix narrower", image.Query{NamePrefix: "alpha-1"}, n(1, 6)},
		{"NamePrefix whole name", image.Query{NamePrefix: "alphabet"}, n(8)},
		{"NamePrefix non-ASCII", image.Query{NamePrefix: "ünï"}, n(10)},
		{"NamePrefix is case-sensitive", image.Query{NamePrefix: "ALPHA"}, nil},
		{"NamePrefix with LIKE metacharacters", image.Query{NamePrefix: "alpha%"}, nil},
		{"NamePrefix with deregistered", image.Query{NamePrefix: "alpha-", IncludeDeregistered: true}, n(1, 2, 4, 6)},
		{"GrantedAny public", image.Query{GrantedAny: []image.LaunchPermission{image.Public}}, n(3, 5)},
		{"GrantedAny several", image.Query{GrantedAny: []image.LaunchPermission{user(acct2), {Kind: image.PermOrg, Value: org1}}}, n(2, 5, 6)},
		{"GrantedAny is exact", image.Query{GrantedAny: []image.LaunchPermission{{Kind: image.PermOrg, Value: ouA}}}, nil},
		{"VisibleTo grantee", image.Query{VisibleTo: &resource.Viewer{Account: acct2}}, n(2, 3)},
		{"VisibleTo owner of disabled, org and OU", image.Query{VisibleTo: viewer3}, n(3, 5, 6, 7, 8)},
		{"VisibleTo stranger", image.Query{VisibleTo: &resource.Viewer{Account: acct9}}, n(3)},
		{"VisibleTo stranger with deregistered", image.Query{VisibleTo: &resource.Viewer{Account: acct9}, IncludeDeregistered: true}, n(3, 4)},
		{"VisibleTo OU only", image.Query{VisibleTo: &resource.Viewer{Account: acct9, OUARNs: []string{ouA}}}, n(3, 7)},
		{"VisibleTo org ARN does not match OU grants", image.Query{VisibleTo: &resource.Viewer{Account: acct9, OrgARN: ouA}}, n(3)},
		{"OwnerIDs and VisibleTo", image.Query{OwnerIDs: []string{acct4}, VisibleTo: &resource.Viewer{Account: acct9, OrgARN: org1}}, n(6)},
		{"OwnerIDs and VisibleTo owner", image.Query{OwnerIDs: []string{acct3}, VisibleTo: viewer3, IncludeDeregistered: true}, n(4, 5)},
		{"NamePrefix and VisibleTo", image.Query{NamePrefix: "alpha", VisibleTo: &resource.Viewer{Account: acct2}}, n(2)},
		{"IDs and VisibleTo", image.Query{IDs: n(1, 2, 3, 5), VisibleTo: &resource.Viewer{Account: acct2}}, n(2, 3)},
		{"GrantedAny and VisibleTo", image.Query{GrantedAny: []image.LaunchPermission{image.Public}, VisibleTo: &resource.Viewer{Account: acct9}}, n(3)},
		{"Name, OwnerAliases and GrantedAny", image.Query{Name: "beta", OwnerAliases: []string{"amazon"}, GrantedAny: []image.LaunchPermission{image.Public}}, n(3)},
		{"Name and OwnerIDs disagree", image.Query{Name: "beta", OwnerIDs: []string{acct1}}, nil},
		{"AfterID", image.Query{AfterID: amiID(3)}, n(5, 6, 7, 8, 10, 11)},
		{"Limit", image.Query{Limit: 2}, n(1, 2)},
		{"AfterID and Limit", image.Query{AfterID: amiID(2), Limit: 2}, n(3, 5)},
		{"VisibleTo, AfterID and Limit", image.Query{VisibleTo: viewer3, AfterID: amiID(5), Limit: 2}, n(6, 7)},
		{"GrantedAny, AfterID and Limit", image.Query{GrantedAny: []image.LaunchPermission{image.Public, user(acct3)}, AfterID: amiID(3), Limit: 1}, n(5)},
		{"AfterID past the end", image.Query{AfterID: amiID(99)}, nil},
		{"ThroughID", image.Query{ThroughID: amiID(5)}, n(1, 2, 3, 5)},
		{"AfterID and ThroughID", image.Query{AfterID: amiID(2), ThroughID: amiID(7)}, n(3, 5, 6, 7)},
		{"empty range", image.Query{AfterID: amiID(7), ThroughID: amiID(7)}, nil},
		{"range and Limit", image.Query{AfterID: amiID(1), ThroughID: amiID(8), Limit: 2}, n(2, 3)},
		{"VisibleTo in a range", image.Query{VisibleTo: viewer3, AfterID: amiID(3), ThroughID: amiID(7)}, n(5, 6, 7)},
		{"GrantedAny in a range", image.Query{GrantedAny: []image.LaunchPermission{image.Public, user(acct3)}, AfterID: amiID(1), ThroughID: amiID(5)}, n(3, 5)},
		{"OwnerIDs in a range", image.Query{OwnerIDs: []string{acct1}, ThroughID: amiID(8)}, n(1, 2, 8)},
		{"VisibleTo in a range, Bulk", image.Query{VisibleTo: viewer3, ThroughID: amiID(6), Bulk: true}, n(3, 5, 6)},
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		for _, tc := range tests {
			q := tc.q
			q.Region = region
			got, err := tx.FindImages(ctx, q)
			if err != nil {
				t.Errorf("%s: FindImages error: %v", tc.name, err)
				continue
			}
			if diff := cmp.Diff(tc.want, ids(got), equateEmpty); diff != "" {
				t.Errorf("%s: FindImages(%+v) ids (-want +got):\n%s", tc.name, q, diff)
			}
			// The reference model used by the randomized test must agree
			// with every hand-written case.
			if diff := cmp.Diff(tc.want, ids(model(pop, q)), equateEmpty); diff != "" {
				t.Errorf("%s: reference model disagrees (-hand +model):\n%s", tc.name, diff)
			}
		}
		// Other regions are separate.
		got, err := tx.FindImages(ctx, image.Query{Region: region2, VisibleTo: &resource.Viewer{Account: acct9}})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].Region != region2 || got[0].ID != amiID(1) {
			t.Errorf("FindImages(%s) = %v, want only its own %s", region2, ids(got), amiID(1))
		}
		return nil
	})
}

func testFindImagesPagination(t *testing.T, h *harness) {
	s := h.open(t)
	var imgs []*image.Image
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range rng.Perm(50) {
		imgs = append(imgs, newImage(region, amiID(n+1), acct1, fmt.Sprintf("img-%d", n), image.Public))
	}
	insert(t, s, imgs...)

	for _, q := range []image.Query{
		{Region: region},
		{Region: region, VisibleTo: &resource.Viewer{Account: acct9}},
		{Region: region, OwnerIDs: []string{acct1}},
		{Region: region, GrantedAny: []image.LaunchPermission{image.Public}},
	} {
		var got []string
		for page := 0; ; page++ {
			if page > 50 {
				t.Fatalf("%+v: pagination does not end", q)
			}
			q.Limit = 7
			res := find(t, s, q)
			if len(res) > 7 {
				t.Fatalf("%+v: %d results, limit 7", q, len(res))
			}
			for _, img := range res {
				if diff := cmp.Diff([]image.LaunchPermission{image.Public}, img.LaunchPermissions); diff != "" {
					t.Errorf("%s permissions (-want +got):\n%s", img.ID, diff)
				}
			}
			got = append(got, ids(res)...)
			if len(res) < 7 {
				break
			}
			q.AfterID = res[len(res)-1].ID
		}
		want := make([]string, 50)
		for i := range want {
			want[i] = amiID(i + 1)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages of %+v (-want +got):\n%s", q, diff)
		}
	}
}

// model is the reference semantics of image.Query over an in-memory
// population, with visibility decided by image.(*Image).VisibleTo itself.
func model(pop []*image.Image, q image.Query) []*image.Image {
	var out []*image.Image
	for _, img := range pop {
		if matches(img, q) {
			out = append(out, img)
		}
	}
	slices.SortFunc(out, func(a, b *image.Image) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(a.Region, b.Region)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

func matches(img *image.Image, q image.Query) bool {
	switch {
	case q.Region != "" && img.Region != q.Region:
		return false
	case len(q.IDs) > 0 && !slices.Contains(q.IDs, img.ID):
		return false
	case (len(q.OwnerIDs) > 0 || len(q.OwnerAliases) > 0) &&
		!slices.Contains(q.OwnerIDs, img.OwnerID) && !slices.Contains(q.OwnerAliases, img.OwnerAlias):
		return false
	case q.VisibleTo != nil && !img.VisibleTo(*q.VisibleTo):
		return false
	case len(q.GrantedAny) > 0 && !slices.ContainsFunc(img.LaunchPermissions, func(p image.LaunchPermission) bool {
		return slices.Contains(q.GrantedAny, p)
	}):
		return false
	case q.Name != "" && img.Name != q.Name:
		return false
	case !strings.HasPrefix(img.Name, q.NamePrefix):
		return false
	case !q.IncludeDeregistered && img.State == image.StateDeregistered:
		return false
	case q.AfterID != "" && img.ID <= q.AfterID:
		return false
	case q.ThroughID != "" && img.ID > q.ThroughID:
		return false
	}
	return true
}

// testFindImagesMatchesDomain checks FindImages against the reference model
// on a random population: random owners, states (disabled and deregistered
// included) and grants to accounts, organizations, OUs and the public, seen
// by random viewers with organization and OU chains, alone and combined with
// the other query fields.
func testFindImagesMatchesDomain(t *testing.T, h *harness) {
	s := h.open(t)
	const seed1, seed2 = 20240601, 42
	rng := rand.New(rand.NewPCG(seed1, seed2))
	t.Logf("seed %d,%d", seed1, seed2)

	accounts := make([]string, 12)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("%012d", 100000000000+i*111)
	}
	type org struct {
		arn string
		ous [][]string // chains root → leaf
	}
	orgs := make([]org, 3)
	for i := range orgs {
		o := org{arn: fmt.Sprintf("arn:aws:organizations::%s:organization/o-%d", accounts[i], i)}
		root := fmt.Sprintf("arn:aws:organizations::%s:root/o-%d/r-%d", accounts[i], i, i)
		for j := range 3 {
			l1 := fmt.Sprintf("arn:aws:organizations::%s:ou/o-%d/ou-%d", accounts[i], i, j)
			o.ous = append(o.ous, []string{root, l1}, []string{root, l1, l1 + "-child"})
		}
		orgs[i] = o
	}
	allOUs := func() []string {
		var out []string
		for _, o := range orgs {
			for _, c := range o.ous {
				out = append(out, c...)
			}
		}
		return out
	}()
	pick := func(ss []string) string { return ss[rng.IntN(len(ss))] }
	states := []string{image.StateAvailable, image.StateAvailable, image.StateAvailable, image.StatePending,
		image.StateDisabled, image.StateDeregistered, image.StateFailed}
	names := []string{"web", "web-1", "web-10", "web2", "db", "db-main", "ünï", "ünïx", "Web", ""}
	aliases := []string{"", "", "", "amazon", "aws-marketplace"}

	randomPerm := func() image.LaunchPermission {
		switch rng.IntN(4) {
		case 0:
			return image.Public
		case 1:
			return image.LaunchPermission{Kind: image.PermUser, Value: pick(accounts)}
		case 2:
			return image.LaunchPermission{Kind: image.PermOrg, Value: orgs[rng.IntN(len(orgs))].arn}
		default:
			return image.LaunchPermission{Kind: image.PermOU, Value: pick(allOUs)}
		}
	}
	size, queries := 400, 150
	if raceEnabled || testing.Short() {
		size, queries = 120, 60
	}
	var pop []*image.Image
	for _, n := range rng.Perm(size) {
		img := newImage(region, amiID(n+1), pick(accounts), pick(names))
		img.OwnerAlias = pick(aliases)
		img.State = pick(states)
		for range rng.IntN(4) {
			if p := randomPerm(); !slices.Contains(img.LaunchPermissions, p) {
				img.LaunchPermissions = append(img.LaunchPermissions, p)
			}
		}
		pop = append(pop, img)
	}
	insert(t, s, pop...)

	randomViewer := func() *resource.Viewer {
		v := &resource.Viewer{Account: pick(accounts)}
		if rng.IntN(10) == 0 {
			v.Account = "000000000000" // owns nothing, granted nothing
		}
		if i := rng.IntN(len(orgs) + 1); i < len(orgs) {
			v.OrgARN = orgs[i].arn
			if rng.IntN(3) > 0 {
				v.OUARNs = orgs[i].ous[rng.IntN(len(orgs[i].ous))]
			}
		}
		return v
	}
	view(t, s, func(ctx context.Context, tx image.Tx) error {
		for i := range queries {
			q := image.Query{Region: region, VisibleTo: randomViewer(), IncludeDeregistered: rng.IntN(2) == 0}
			// After the first third, mix in the other fields.
			if i >= queries/3 {
				if rng.IntN(4) == 0 {
					for range 1 + rng.IntN(30) {
						q.IDs = append(q.IDs, amiID(1+rng.IntN(size+20)))
					}
				}
				if rng.IntN(3) == 0 {
					q.OwnerIDs = []string{pick(accounts), pick(accounts)}
				}
				if rng.IntN(5) == 0 {
					q.OwnerAliases = []string{pick(aliases[3:])}
				}
				if rng.IntN(4) == 0 {
					q.GrantedAny = []image.LaunchPermission{randomPerm(), randomPerm()}
				}
				if rng.IntN(4) == 0 {
					q.VisibleTo = nil
				}
				switch rng.IntN(6) {
				case 0:
					q.Name = pick(names[:len(names)-1])
				case 1:
					q.NamePrefix = pick([]string{"w", "web", "web-1", "d", "ünï", "W"})
				}
				if rng.IntN(4) == 0 {
					q.AfterID = amiID(rng.IntN(size))
				}
				if rng.IntN(4) == 0 {
					q.ThroughID = amiID(rng.IntN(size + 20))
					q.Bulk = rng.IntN(2) == 0
				}
				if rng.IntN(4) == 0 {
					q.Limit = 1 + rng.IntN(20)
				}
			}
			got, err := tx.FindImages(ctx, q)
			if err != nil {
				return err
			}
			want := model(pop, q)
			if diff := cmp.Diff(ids(want), ids(got), equateEmpty); diff != "" {
				t.Errorf("query %d %+v viewer %+v (-model +store):\n%s", i, q, q.VisibleTo, diff)
			}
		}
		return nil
	})
}

// testFindImagesEveryRegion: Region "" (export) reads every region, whole
// records with their launch permissions, the other fields still narrowing.
func testFindImagesEveryRegion(t *testing.T, h *harness) {
	s := h.open(t)
	pop := findPopulation()
	extra := fullImage(region2, amiID(4))
	pop = append(pop, extra, newImage(region2, amiID(12), acct2, "beta", image.LaunchPermission{Kind: image.PermUser, Value: acct9}))
	insert(t, s, pop...)
	for _, q := range []image.Query{
		{},
		{IncludeDeregistered: true},
		{VisibleTo: &resource.Viewer{Account: acct9}},
		{VisibleTo: &resource.Viewer{Account: acct2}, IncludeDeregistered: true},
		{OwnerIDs: []string{acct1}},
		{GrantedAny: []image.LaunchPermission{image.Public}},
		{Name: "beta"},
		{NamePrefix: "alpha-1"},
		{IDs: []string{amiID(1), amiID(4), amiID(12)}, IncludeDeregistered: true},
		{AfterID: amiID(3), Limit: 3},
	} {
		got := find(t, s, q)
		if !slices.IsSortedFunc(got, func(a, b *image.Image) int { return strings.Compare(a.ID, b.ID) }) {
			t.Errorf("%+v: not ordered by id: %v", q, ids(got))
		}
		// Ties between regions may come in either order.
		slices.SortStableFunc(got, func(a, b *image.Image) int {
			if c := strings.Compare(a.ID, b.ID); c != 0 {
				return c
			}
			return strings.Compare(a.Region, b.Region)
		})
		if diff := cmp.Diff(model(pop, q), got, equateEmpty); diff != "" {
			t.Errorf("FindImages(%+v) every region (-model +store):\n%s", q, diff)
		}
	}
}

// testMalformedLookups: values no stored record can hold (invalid UTF-8,
// NUL; a client's malformed filter) find nothing, without an error and
// without breaking the transaction for the reads that follow.
func testMalformedLookups(t *testing.T, h *harness) {
	s := h.open(t)
	img := newImage(region, amiID(1), acct1, "web", image.Public)
	insert(t, s, img)
	updateInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
		if err := tx.InsertInstance(ctx, newInstance(region, instanceID(1), acct1, img.ID)); err != nil {
			return err
		}
		return tx.SetTags(ctx, region, acct1, img.ID, []resource.Tag{{Key: "k", Value: "v"}})
	})
	for _, bad := range []string{"ami-\xff", "ami-\x00", "\xc3"} {
		viewInstances(t, s, func(ctx context.Context, tx instance.Tx) error {
			if _, err := tx.Image(ctx, region, bad); err != resource.ErrNotFound {
				t.Errorf("Image(%q) error = %v, want resource.ErrNotFound", bad, err)
			}
			for _, q := range []image.Query{
				{IDs: []string{bad}},
				{OwnerIDs: []string{bad}},
				{OwnerAliases: []string{bad}},
				{OwnerIDs: []string{bad}, OwnerAliases: []string{bad}},
				{Name: bad},
				{NamePrefix: bad},
				{GrantedAny: []image.LaunchPermission{{Kind: image.PermUser, Value: bad}}},
			} {
				q.Region = region
				got, err := tx.FindImages(ctx, q)
				if err != nil || len(got) != 0 {
					t.Errorf("FindImages(%+v) = %v, %v; want nothing", q, ids(got), err)
				}
			}
			// A malformed entry among good ones is ignored.
			got, err := tx.FindImages(ctx, image.Query{Region: region, IDs: []string{bad, img.ID}, OwnerIDs: []string{bad, acct1}})
			if err != nil || len(got) != 1 {
				t.Errorf("FindImages with one malformed id = %v, %v; want %s", ids(got), err, img.ID)
			}
			if id, err := tx.ImageIDByName(ctx, region, acct1, bad); err != nil || id != "" {
				t.Errorf("ImageIDByName(%q) = %q, %v", bad, id, err)
			}
			if tags, err := tx.Tags(ctx, region, acct1, []string{bad}); err != nil || len(tags) != 0 {
				t.Errorf("Tags(%q) = %v, %v", bad, tags, err)
			}
			for _, q := range []resource.TagQuery{{Region: region, Keys: []string{bad}}, {ResourceIDs: []string{bad}}, {Account: bad}} {
				if tags, err := tx.ListTags(ctx, q); err != nil || len(tags) != 0 {
					t.Errorf("ListTags(%+v) = %v, %v", q, tags, err)
				}
			}
			if _, err := tx.Setting(ctx, region, acct1, bad); err != resource.ErrNotFound {
				t.Errorf("Setting(%q) error = %v, want resource.ErrNotFound", bad, err)
			}
			if _, err := tx.Instance(ctx, region, bad); err != resource.ErrNotFound {
				t.Errorf("Instance(%q) error = %v, want resource.ErrNotFound", bad, err)
			}
			for _, q := range []instance.Query{{IDs: []string{bad}}, {ImageIDs: []string{bad}}, {OwnerID: bad}, {ReservationIDs: []string{bad}}} {
				if insts, err := tx.FindInstances(ctx, q); err != nil || len(insts) != 0 {
					t.Errorf("FindInstances(%+v) = %v, %v", q, instanceIDs(insts), err)
				}
			}
			// The transaction still reads.
			if _, err := tx.Image(ctx, region, img.ID); err != nil {
				t.Errorf("Image after malformed lookups: %v", err)
			}
			return nil
		})
	}
	update(t, s, func(ctx context.Context, tx image.Tx) error {
		if err := tx.DeleteImage(ctx, region, "ami-\xff"); err != resource.ErrNotFound {
			t.Errorf("DeleteImage(malformed) error = %v, want resource.ErrNotFound", err)
		}
		return nil
	})
}
