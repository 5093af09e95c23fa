package resource

import (
	"errors"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// The bounds on one filter value take every real value (1,024 characters,
// any alphabet; wildcards enough to spell the longest field) and refuse
// the rest with InvalidParameterValue.
func TestFilterValueBounds(t *testing.T) {
	fields := map[string]Field[string]{"name": func(r string, _ []Tag) []string { return One(r) }}
	long := "The filter 'name' has a value longer than 1024 characters."
	wild := "The filter 'name' has a value with more than 256 wildcards."
	cases := []struct {
		name, value, want string // want: "" for success
	}{
		{"1024 characters", strings.Repeat("a", 1024), ""},
		{"1024 multi-byte characters", strings.Repeat("ü", 1024), ""},
		{"1025 characters", strings.Repeat("a", 1025), long},
		{"1025 multi-byte characters", strings.Repeat("ü", 1025), long},
		{"256 wildcards", strings.Repeat("*?", 128), ""},
		{"257 wildcards", strings.Repeat("*?", 128) + "*", wild},
		{"escaped wildcards are literal", strings.Repeat(`\*`, 300), ""},
		{"hostile *a runs", strings.Repeat("*a", 512), wild},
		{"tag values too", strings.Repeat("b", 1025), "The filter 'tag:team' has a value longer than 1024 characters."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "name"
			if strings.HasPrefix(tc.want, "The filter 'tag:") {
				name = "tag:team"
			}
			_, err := CompileFilters([]Filter{{Name: &name, Values: []string{"x", tc.value}}}, fields)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *awserr.Error
			if !errors.As(err, &ae) || ae.Code != awserr.CodeInvalidParameterValue || ae.Status != 400 || ae.Message != tc.want {
				t.Fatalf("got %v, want InvalidParameterValue %q", err, tc.want)
			}
		})
	}
}
