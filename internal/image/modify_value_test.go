package image

import (
	"errors"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// A conflict between Value and X.Value names the X the caller sent.
func TestAttributeValueConflictNamesItsParameter(t *testing.T) {
	sp := func(s string) *string { return &s }
	cases := []struct {
		name string
		req  ModifyRequest
		want string
	}{
		{"description", ModifyRequest{Attribute: sp(AttrDescription), Value: sp("a"), DescriptionSet: true, Description: sp("b")},
			"The parameters Value and Description.Value specify different values."},
		{"description cleared by an empty structure", ModifyRequest{Attribute: sp(AttrDescription), Value: sp("a"), DescriptionSet: true},
			"The parameters Value and Description.Value specify different values."},
		{"imdsSupport", ModifyRequest{Attribute: sp(AttrImdsSupport), Value: sp("v1.0"), ImdsSupportSet: true, ImdsSupport: sp("v2.0")},
			"The parameters Value and ImdsSupport.Value specify different values."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := classify(&tc.req)
			var e *awserr.Error
			if !errors.As(err, &e) || e.Code != "InvalidParameterCombination" || e.Message != tc.want {
				t.Errorf("err = %#v, want InvalidParameterCombination %q", err, tc.want)
			}
		})
	}
}
