package image

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/resource"
)

// The store is given sets (Tx): an image's launch permissions never repeat
// an entry, whatever a ModifyImageAttribute request repeats, and engines
// rely on it instead of checking again.
func TestLaunchPermissionsStayDistinct(t *testing.T) {
	const owner = "111122223333"
	userA := LaunchPermission{Kind: PermUser, Value: "222233334444"}
	userB := LaunchPermission{Kind: PermUser, Value: "333344445555"}
	org := LaunchPermission{Kind: PermOrg, Value: "arn:aws:organizations::111122223333:organization/o-123example"}
	cases := []struct {
		name   string
		stored []LaunchPermission
		req    ModifyRequest
		want   []LaunchPermission
	}{
		{"one request names a grant twice", nil,
			ModifyRequest{Add: []PermissionItem{{UserID: sp(userA.Value)}, {UserID: sp(userA.Value)}}},
			[]LaunchPermission{userA}},
		{"flat and structured forms of one grant (Packer)", nil,
			ModifyRequest{UserIDs: []string{userA.Value}, Add: []PermissionItem{{UserID: sp(userA.Value)}}},
			[]LaunchPermission{userA}},
		{"granting what is already granted", []LaunchPermission{userA, org},
			ModifyRequest{Add: []PermissionItem{{UserID: sp(userA.Value)}, {OrganizationArn: sp(org.Value)}, {UserID: sp(userB.Value)}}},
			[]LaunchPermission{userA, org, userB}},
		{"the owner is never listed", []LaunchPermission{userA},
			ModifyRequest{Add: []PermissionItem{{UserID: sp(owner)}, {UserID: sp(owner)}}},
			[]LaunchPermission{userA}},
		{"a removal named twice", []LaunchPermission{userA, userB},
			ModifyRequest{Remove: []PermissionItem{{UserID: sp(userA.Value)}, {UserID: sp(userA.Value)}}},
			[]LaunchPermission{userB}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := classify(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			img := &Image{ID: "ami-0123456789abcdef0", OwnerID: owner, State: StateAvailable, LaunchPermissions: slices.Clone(tc.stored)}
			// No public grant is added, so the transaction is never used.
			if err := (&Service{}).applyLaunchPermissions(context.Background(), nil, resource.Caller{Viewer: resource.Viewer{Account: owner}}, img, ch); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, img.LaunchPermissions); diff != "" {
				t.Errorf("launch permissions (-want +got):\n%s", diff)
			}
		})
	}
}
