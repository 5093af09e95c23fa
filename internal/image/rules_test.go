package image

import (
	"errors"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func sp(s string) *string { return &s }

func codeOf(err error) string {
	var e *awserr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "non-EC2 error: " + err.Error()
	}
	return ""
}

func TestClassify(t *testing.T) {
	user := PermissionItem{UserID: sp("111122223333")}
	cases := []struct {
		name   string
		req    ModifyRequest
		code   string
		attr   string
		add    int
		remove int
	}{
		{"nothing", ModifyRequest{}, "InvalidParameterCombination", "", 0, 0},
		{"operation type alone", ModifyRequest{OperationType: sp("add")}, "InvalidParameterCombination", "", 0, 0},
		{"unknown attribute ignored", ModifyRequest{Attribute: sp("unsupported")}, "InvalidParameterCombination", "", 0, 0},
		{"wrong case is unknown", ModifyRequest{Attribute: sp("LaunchPermission")}, "InvalidParameterCombination", "", 0, 0},
		{"non-modifiable", ModifyRequest{Attribute: sp("kernel")}, "InvalidParameter", "", 0, 0},
		{"structured add", ModifyRequest{Add: []PermissionItem{user}}, "", AttrLaunchPermission, 1, 0},
		{"structured add and remove", ModifyRequest{Add: []PermissionItem{user}, Remove: []PermissionItem{{Group: sp("all")}}}, "", AttrLaunchPermission, 1, 1},
		{"flat with attribute and op", ModifyRequest{Attribute: sp("launchPermission"), OperationType: sp("remove"), UserIDs: []string{"111122223333"}}, "", AttrLaunchPermission, 0, 1},
		{"flat without op but attribute", ModifyRequest{Attribute: sp("launchPermission"), UserIDs: []string{"111122223333"}}, "MissingParameter", "", 0, 0},
		{"flat alone", ModifyRequest{UserIDs: []string{"111122223333"}}, "MissingParameter", "", 0, 0},
		{"flat with op, no attribute", ModifyRequest{OperationType: sp("add"), UserIDs: []string{"111122223333"}}, "", AttrLaunchPermission, 1, 0},
		{"packer: flat and structured, same grant", ModifyRequest{UserIDs: []string{"111122223333"}, Add: []PermissionItem{user}}, "", AttrLaunchPermission, 1, 0},
		{"bad operation type", ModifyRequest{Attribute: sp("launchPermission"), OperationType: sp("replace"), UserIDs: []string{"111122223333"}}, "InvalidParameterValue", "", 0, 0},
		{"launchPermission with no entries", ModifyRequest{Attribute: sp("launchPermission")}, "InvalidParameterCombination", "", 0, 0},
		{"value with launchPermission", ModifyRequest{Attribute: sp("launchPermission"), Value: sp("x"), Add: []PermissionItem{user}}, "InvalidParameterCombination", "", 0, 0},
		{"empty item", ModifyRequest{Add: []PermissionItem{{}}}, "InvalidParameterValue", "", 0, 0},
		{"item with two fields is two entries", ModifyRequest{Add: []PermissionItem{{UserID: sp("111122223333"), Group: sp("all")}}}, "", AttrLaunchPermission, 2, 0},
		{"description structured", ModifyRequest{DescriptionSet: true, Description: sp("d")}, "", AttrDescription, 0, 0},
		{"description flat", ModifyRequest{Attribute: sp("description"), Value: sp("d")}, "", AttrDescription, 0, 0},
		{"description missing value", ModifyRequest{Attribute: sp("description")}, "MissingParameter", "", 0, 0},
		{"description conflicting values", ModifyRequest{Attribute: sp("description"), Value: sp("a"), DescriptionSet: true, Description: sp("b")}, "InvalidParameterCombination", "", 0, 0},
		{"description too long", ModifyRequest{DescriptionSet: true, Description: sp(string(make([]byte, 256)))}, "InvalidParameterValue", "", 0, 0},
		{"imds v2.0", ModifyRequest{ImdsSupportSet: true, ImdsSupport: sp("v2.0")}, "", AttrImdsSupport, 0, 0},
		{"imds other", ModifyRequest{Attribute: sp("imdsSupport"), Value: sp("v1.0")}, "InvalidParameterValue", "", 0, 0},
		{"two families", ModifyRequest{DescriptionSet: true, Description: sp("d"), ImdsSupportSet: true, ImdsSupport: sp("v2.0")}, "InvalidParameterCombination", "", 0, 0},
		{"product codes", ModifyRequest{ProductCodes: []string{"x"}}, "UnsupportedOperation", "", 0, 0},
		{"bad user", ModifyRequest{Add: []PermissionItem{{UserID: sp("11112222333")}}}, "InvalidAMIAttributeItemValue", "", 0, 0},
		{"bad group", ModifyRequest{Add: []PermissionItem{{Group: sp("All")}}}, "InvalidAMIAttributeItemValue", "", 0, 0},
		{"bad org", ModifyRequest{Add: []PermissionItem{{OrganizationArn: sp("o-123example")}}}, "InvalidAMIAttributeItemValue", "", 0, 0},
		{"bad ou", ModifyRequest{Remove: []PermissionItem{{OrganizationalUnitArn: sp("arn:aws:organizations::123456789012:ou/o-123example/ou-1")}}}, "InvalidAMIAttributeItemValue", "", 0, 0},
		{"good org and ou", ModifyRequest{Add: []PermissionItem{{OrganizationArn: sp("arn:aws:organizations::123456789012:organization/o-123example")}, {OrganizationalUnitArn: sp("arn:aws:organizations::123456789012:ou/o-123example/ou-1234-5example")}}}, "", AttrLaunchPermission, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := classify(&tc.req)
			if got := codeOf(err); got != tc.code {
				t.Fatalf("code %q, want %q (%v)", got, tc.code, err)
			}
			if err != nil {
				return
			}
			if ch.attribute != tc.attr || len(ch.add) != tc.add || len(ch.remove) != tc.remove {
				t.Fatalf("got %s +%d -%d, want %s +%d -%d", ch.attribute, len(ch.add), len(ch.remove), tc.attr, tc.add, tc.remove)
			}
		})
	}
}

func TestVisibleTo(t *testing.T) {
	img := &Image{OwnerID: "111111111111", State: StateAvailable, LaunchPermissions: []LaunchPermission{
		{Kind: PermOU, Value: "ou-parent"}}}
	in := resource.Viewer{Account: "222222222222", OrgARN: "org", OUARNs: []string{"ou-parent", "ou-child"}}
	out := resource.Viewer{Account: "333333333333", OrgARN: "org", OUARNs: []string{"ou-sibling"}}
	if !img.VisibleTo(in) || img.VisibleTo(out) {
		t.Fatal("OU grants reach accounts below the OU only")
	}
	img.State = StateDisabled
	if img.VisibleTo(in) || !img.VisibleTo(resource.Viewer{Account: "111111111111"}) {
		t.Fatal("disabled images are the owner's alone")
	}
}
