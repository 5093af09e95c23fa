package e2e

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func grant(t *testing.T, e *env, id string, lp ec2types.LaunchPermission, remove bool) {
	t.Helper()
	mods := &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{lp}}
	if remove {
		mods = &ec2types.LaunchPermissionModifications{Remove: []ec2types.LaunchPermission{lp}}
	}
	if _, err := e.client(owner).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(id), LaunchPermission: mods}); err != nil {
		t.Fatal(err)
	}
}

// who finds the image through `describe-images --executable-users self`,
// through a plain listing, and by id.
func sees(t *testing.T, e *env, who, id string) (executable, listed, byID bool) {
	t.Helper()
	executable = slices.Contains(e.visibleIDs(who, &ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}}), id)
	listed = slices.Contains(e.visibleIDs(who, &ec2.DescribeImagesInput{}), id)
	_, err := e.client(who).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		apiErr(t, err, "InvalidAMIID.NotFound", 400)
	}
	byID = err == nil
	return
}

func TestVisibilityThroughEveryKindOfGrant(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "shared")
	type view struct{ executable, listed, byID bool }
	check := func(step string, want map[string]view) {
		t.Helper()
		for who, w := range want {
			x, l, b := sees(t, e, who, id)
			if (view{x, l, b}) != w {
				t.Errorf("%s: %s sees executable=%v listed=%v byID=%v, want %+v", step, who, x, l, b, w)
			}
		}
	}
	no := view{}
	yes := view{true, true, true}
	ownerView := view{false, true, true} // owners are not "executable users" of their own images
	check("private", map[string]view{owner: ownerView, member: no, nested: no, stranger: no})

	grant(t, e, id, ec2types.LaunchPermission{OrganizationArn: aws.String(orgARN)}, false)
	check("organization", map[string]view{owner: ownerView, member: yes, nested: yes, stranger: no})
	grant(t, e, id, ec2types.LaunchPermission{OrganizationArn: aws.String(orgARN)}, true)
	check("organization removed", map[string]view{owner: ownerView, member: no, nested: no, stranger: no})

	grant(t, e, id, ec2types.LaunchPermission{OrganizationalUnitArn: aws.String(ou2ARN)}, false)
	check("nested OU reaches only below it", map[string]view{member: no, nested: yes, stranger: no})
	grant(t, e, id, ec2types.LaunchPermission{OrganizationalUnitArn: aws.String(ou2ARN)}, true)

	grant(t, e, id, ec2types.LaunchPermission{OrganizationalUnitArn: aws.String(ou1ARN)}, false)
	check("parent OU reaches nested OUs", map[string]view{member: yes, nested: yes, stranger: no})
	grant(t, e, id, ec2types.LaunchPermission{OrganizationalUnitArn: aws.String(ou1ARN)}, true)

	grant(t, e, id, ec2types.LaunchPermission{UserId: aws.String(stranger)}, false)
	check("account", map[string]view{member: no, nested: no, stranger: yes})
	grant(t, e, id, ec2types.LaunchPermission{UserId: aws.String(stranger)}, true)

	grant(t, e, id, ec2types.LaunchPermission{Group: ec2types.PermissionGroupAll}, false)
	// Public images are not "explicitly shared": --executable-users self does not list them.
	check("public", map[string]view{member: {false, true, true}, stranger: {false, true, true}})
	if ids := e.visibleIDs(stranger, &ec2.DescribeImagesInput{ExecutableUsers: []string{"all"}}); !slices.Contains(ids, id) {
		t.Error("--executable-users all misses a public image")
	}
	grant(t, e, id, ec2types.LaunchPermission{Group: ec2types.PermissionGroupAll}, true)
	check("private again", map[string]view{owner: ownerView, member: no, nested: no, stranger: no})
}

func TestDescribeImagesCriteria(t *testing.T) {
	e := startEnv(t)
	a := e.register(owner, "app-one")
	b := e.register(owner, "app-two")
	m := e.register(member, "member-image")
	grant(t, e, b, ec2types.LaunchPermission{UserId: aws.String(member)}, false)
	ids := func(who string, in *ec2.DescribeImagesInput) []string {
		t.Helper()
		got := e.visibleIDs(who, in)
		slices.Sort(got)
		return got
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	cases := []struct {
		name string
		who  string
		in   *ec2.DescribeImagesInput
		want []string
	}{
		{"everything visible to member", member, &ec2.DescribeImagesInput{}, sorted(b, m)},
		{"owners self", member, &ec2.DescribeImagesInput{Owners: []string{"self"}}, sorted(m)},
		{"owners by id", member, &ec2.DescribeImagesInput{Owners: []string{owner}}, sorted(b)},
		{"executable by self", member, &ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}}, sorted(b)},
		{"owner: executable by member", owner, &ec2.DescribeImagesInput{ExecutableUsers: []string{member}}, sorted(b)},
		{"name exact", owner, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"app-one"}}}}, sorted(a)},
		{"name wildcard", owner, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"app-*"}}}}, sorted(a, b)},
		{"name ? wildcard", owner, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"app-on?"}}}}, sorted(a)},
		{"image-id filter and ids intersect", owner, &ec2.DescribeImagesInput{ImageIds: []string{a, b}, Filters: []ec2types.Filter{{Name: aws.String("image-id"), Values: []string{b}}}}, sorted(b)},
		{"owner-id filter", member, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("owner-id"), Values: []string{member}}}}, sorted(m)},
		{"state filter", owner, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("state"), Values: []string{"available"}}}}, sorted(a, b)},
		{"is-public filter", owner, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("is-public"), Values: []string{"true"}}}}, []string{}},
		{"owners and filters intersect", owner, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"member-image"}}}}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(tc.who, tc.in); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}

	errCases := []struct {
		name string
		in   *ec2.DescribeImagesInput
		code string
		msg  string
	}{
		{"malformed id", &ec2.DescribeImagesInput{ImageIds: []string{a, "ami-nothex", "bad"}}, "InvalidAMIID.Malformed", `Invalid id: "ami-nothex" (expecting "ami-...")`},
		{"unknown ids", &ec2.DescribeImagesInput{ImageIds: []string{a, "ami-0fffffffffffffff1", "ami-0fffffffffffffff2"}}, "InvalidAMIID.NotFound", "The image ids '[ami-0fffffffffffffff1, ami-0fffffffffffffff2]' do not exist"},
		{"private image of another account", &ec2.DescribeImagesInput{ImageIds: []string{m}}, "InvalidAMIID.NotFound", "The image id '[" + m + "]' does not exist"},
		{"bad owner", &ec2.DescribeImagesInput{Owners: []string{"12345"}}, "InvalidUserID.Malformed", "User ID '12345' is invalid"},
		{"bad executable user", &ec2.DescribeImagesInput{ExecutableUsers: []string{"everyone"}}, "InvalidUserID.Malformed", "User ID 'everyone' is invalid"},
		{"unknown filter", &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("bad-filter"), Values: []string{"x"}}}}, "InvalidParameterValue", "The filter 'bad-filter' is invalid"},
		{"ids with max results", &ec2.DescribeImagesInput{ImageIds: []string{a}, MaxResults: aws.Int32(5)}, "InvalidParameterCombination", "The parameter imageIdsSet cannot be used with the parameter maxResults"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client(owner).DescribeImages(ctx, tc.in)
			if msg := apiErr(t, err, tc.code, 400); msg != tc.msg {
				t.Fatalf("message %q, want %q", msg, tc.msg)
			}
		})
	}
}

func TestImagesAreRegional(t *testing.T) {
	e := startEnv(t)
	id := e.register(owner, "east")
	_, err := e.clientIn(owner, "eu-west-1").DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	apiErr(t, err, "InvalidAMIID.NotFound", 400)
	if ids := e.visibleIDs(owner, &ec2.DescribeImagesInput{ImageIds: []string{id}}); !slices.Equal(ids, []string{id}) {
		t.Fatal(ids)
	}
}
