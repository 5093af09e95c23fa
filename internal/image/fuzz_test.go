package image

import (
	"strings"
	"testing"
)

// FuzzClassify: any ModifyImageAttribute shape gets a change or an EC2 error.
func FuzzClassify(f *testing.F) {
	f.Add("launchPermission", "add", "", "111122223333", "all", true, false)
	f.Add("description", "", "x", "", "", false, true)
	f.Add("", "remove", "", "1", "everyone", true, true)
	f.Fuzz(func(t *testing.T, attr, op, value, user, group string, structured, desc bool) {
		r := &ModifyRequest{ImageID: "ami-12345678"}
		if attr != "" {
			r.Attribute = &attr
		}
		if op != "" {
			r.OperationType = &op
		}
		if value != "" {
			r.Value = &value
		}
		if user != "" {
			r.UserIDs = []string{user}
		}
		if structured {
			r.Add = []PermissionItem{{UserID: &user, Group: &group}}
		}
		if desc {
			r.DescriptionSet, r.Description = true, &value
		}
		ch, err := classify(r)
		if err == nil && ch == nil || err != nil && codeOf(err) == "" {
			t.Fatalf("classify gave %v, %v", ch, err)
		}
		if strings.HasPrefix(codeOf(err), "non-EC2") {
			t.Fatal(err)
		}
	})
}
