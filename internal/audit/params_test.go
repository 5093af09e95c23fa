package audit

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/ec2api"
)

func sp(s string) *string { return &s }

// Parameters writes requests in EC2's recorded style (spec §6.3) and
// collects the resources they name.
func TestParameters(t *testing.T) {
	tru := true
	cases := []struct {
		name      string
		action    string
		in        any
		want      string
		resources []Resource
	}{
		{"share", "ModifyImageAttribute", &ec2api.ModifyImageAttributeRequest{ImageId: sp("ami-0abcdef1234567890"),
			LaunchPermission: &ec2api.LaunchPermissionModifications{Add: []ec2api.LaunchPermission{{UserId: sp("444455556666")}}}},
			`{"attributeType":"launchPermission","imageId":"ami-0abcdef1234567890","launchPermission":{"add":{"items":[{"userId":"444455556666"}]}}}`,
			[]Resource{{"AWS::EC2::Ami", "ami-0abcdef1234567890"}}},
		{"flat form names its attribute", "ModifyImageAttribute", &ec2api.ModifyImageAttributeRequest{ImageId: sp("ami-0abcdef1234567890"),
			Attribute: sp("description"), Value: sp("d")},
			`{"attributeType":"description","imageId":"ami-0abcdef1234567890","value":"d"}`,
			[]Resource{{"AWS::EC2::Ami", "ami-0abcdef1234567890"}}},
		{"stop", "StopInstances", &ec2api.StopInstancesRequest{InstanceIds: []string{"i-0123456789abcdef0"}, Force: &tru},
			`{"force":true,"instancesSet":{"items":[{"instanceId":"i-0123456789abcdef0"}]}}`,
			[]Resource{{"AWS::EC2::Instance", "i-0123456789abcdef0"}}},
		{"user data removed", "RunInstances", &ec2api.RunInstancesRequest{ImageId: sp("ami-0abcdef1234567890"), UserData: sp("secret")},
			`{"imageId":"ami-0abcdef1234567890","userData":"<sensitiveDataRemoved>"}`,
			[]Resource{{"AWS::EC2::Ami", "ami-0abcdef1234567890"}}},
		{"nothing set", "DescribeImages", &ec2api.DescribeImagesRequest{}, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, res := Parameters(tc.action, tc.in)
			if tc.want == "" {
				if got != nil {
					t.Fatalf("got %s, want null", got)
				}
				return
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal([]byte(tc.want), &w)
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("parameters (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.resources, res); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
		})
	}
}

// Attributes index an event once per distinct value, the grantee account
// never among its resources.
func TestAttributes(t *testing.T) {
	e := &Event{ID: "id", Name: "CreateTags", Source: SourceEC2, Identity: Identity{Type: "Root", AccessKeyID: "k"},
		Resources: []Resource{{"AWS::EC2::Ami", "ami-1"}, {"AWS::EC2::Ami", "ami-2"}}}
	want := []Attribute{{KeyAccessKeyID, "k"}, {KeyEventID, "id"}, {KeyEventName, "CreateTags"}, {KeyEventSource, SourceEC2},
		{KeyReadOnly, "false"}, {KeyResourceName, "ami-1"}, {KeyResourceName, "ami-2"}, {KeyResourceType, "AWS::EC2::Ami"}, {KeyUsername, "root"}}
	if diff := cmp.Diff(want, e.Attributes()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestJSONParameters(t *testing.T) {
	got := string(JSONParameters([]byte(`{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"RunInstances"}],"MaxResults":5}`)))
	want := `{"lookupAttributes":[{"attributeKey":"EventName","attributeValue":"RunInstances"}],"maxResults":5}`
	if got != want {
		t.Errorf("JSONParameters = %s, want %s", got, want)
	}
	for _, body := range []string{"", "{}", "not json", "[1]"} {
		if p := JSONParameters([]byte(body)); p != nil {
			t.Errorf("JSONParameters(%q) = %s, want nil (null)", body, p)
		}
	}
}
