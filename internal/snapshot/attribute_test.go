package snapshot

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// The request forms of spec §4.1.2 and the refusals of §4.1.3–4.
func TestModifyPlan(t *testing.T) {
	const acct, other = "111122223333", "444455556666"
	user := Permission{UserID: acct}
	all := Permission{Group: GroupAll}
	for _, tc := range []struct {
		name  string
		r     ModifyRequest
		add   bool
		perms []Permission
		code  string
	}{
		{"structured add", ModifyRequest{Attribute: AttrCreateVolumePermission, Add: []Permission{user}}, true, []Permission{user}, ""},
		{"flat add", ModifyRequest{Attribute: AttrCreateVolumePermission, OperationType: "add", UserIDs: []string{acct}, Groups: []string{"all"}}, true, []Permission{user, all}, ""},
		{"packer: both forms, no attribute", ModifyRequest{UserIDs: []string{acct}, Add: []Permission{user}}, true, []Permission{user, user}, ""},
		{"custodian: structured remove with operation", ModifyRequest{OperationType: "remove", Remove: []Permission{user}}, false, []Permission{user}, ""},
		{"flat remove", ModifyRequest{Attribute: AttrCreateVolumePermission, OperationType: "remove", Groups: []string{"all"}}, false, []Permission{all}, ""},
		{"one item, both fields", ModifyRequest{Add: []Permission{{UserID: acct, Group: GroupAll}}}, true, []Permission{all, user}, ""},
		{"nothing", ModifyRequest{}, false, nil, awserr.CodeInvalidParameterCombination},
		{"attribute alone", ModifyRequest{Attribute: AttrCreateVolumePermission}, false, nil, awserr.CodeInvalidParameterCombination},
		{"add and remove", ModifyRequest{Add: []Permission{user}, Remove: []Permission{{UserID: other}}}, false, nil, awserr.CodeInvalidParameterCombination},
		{"operation contradicts list", ModifyRequest{OperationType: "add", Remove: []Permission{user}}, false, nil, awserr.CodeInvalidParameterCombination},
		{"flat without attribute or operation", ModifyRequest{UserIDs: []string{acct}}, false, nil, awserr.CodeMissingParameter},
		{"flat without operation", ModifyRequest{Attribute: AttrCreateVolumePermission, UserIDs: []string{acct}}, false, nil, awserr.CodeMissingParameter},
		{"bad operation", ModifyRequest{OperationType: "replace", UserIDs: []string{acct}}, false, nil, awserr.CodeInvalidParameterValue},
		{"product codes", ModifyRequest{Attribute: AttrProductCodes, OperationType: "add", UserIDs: []string{acct}}, false, nil, awserr.CodeInvalidParameter},
		{"unknown attribute", ModifyRequest{Attribute: "launchPermission", OperationType: "add", UserIDs: []string{acct}}, false, nil, awserr.CodeInvalidParameterCombination},
		{"bad account", ModifyRequest{Add: []Permission{{UserID: "1234"}}}, false, nil, awserr.CodeInvalidUserIDMalformed},
		{"bad group", ModifyRequest{Add: []Permission{{Group: "everyone"}}}, false, nil, awserr.CodeInvalidParameterValue},
		{"empty item", ModifyRequest{Add: []Permission{{}}}, false, nil, awserr.CodeInvalidParameterValue},
		{"too many", ModifyRequest{OperationType: "add", UserIDs: make([]string, maxModifications+1)}, false, nil, awserr.CodeInvalidParameterValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			add, perms, err := tc.r.plan()
			if tc.code != "" {
				var ae *awserr.Error
				if !errors.As(err, &ae) || ae.Code != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if add != tc.add {
				t.Errorf("add = %v, want %v", add, tc.add)
			}
			if diff := cmp.Diff(tc.perms, perms); diff != "" {
				t.Errorf("perms (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRestorableBy(t *testing.T) {
	s := &Snapshot{OwnerID: "111122223333"}
	perms := []Permission{{UserID: "222233334444"}, {Group: GroupAll}}
	for _, tc := range []struct {
		who  map[string]bool
		want bool
	}{
		{map[string]bool{"111122223333": true}, true},
		{map[string]bool{"222233334444": true}, true},
		{map[string]bool{"333344445555": true}, false},
		{map[string]bool{GroupAll: true}, true},
	} {
		if got := restorableBy(s, perms, tc.who); got != tc.want {
			t.Errorf("restorableBy(%v) = %v, want %v", tc.who, got, tc.want)
		}
	}
	if restorableBy(s, nil, map[string]bool{GroupAll: true}) {
		t.Error("a private snapshot is restorable by all")
	}
}
