package instance

import (
	"errors"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
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

func TestClassifyInstanceChange(t *testing.T) {
	tr := true
	for _, tc := range []struct {
		name       string
		r          ModifyRequest
		attr, code string
	}{
		{"structured sriov", ModifyRequest{SriovNetSupport: sp("simple")}, "sriovNetSupport", ""},
		{"attribute form", ModifyRequest{Attribute: sp("sriovNetSupport"), Value: sp("simple")}, "sriovNetSupport", ""},
		{"both forms agree", ModifyRequest{Attribute: sp("sriovNetSupport"), Value: sp("simple"), SriovNetSupport: sp("simple")}, "sriovNetSupport", ""},
		{"ena", ModifyRequest{EnaSupport: &tr}, "enaSupport", ""},
		{"ena as value", ModifyRequest{Attribute: sp("enaSupport"), Value: sp("maybe")}, "", "InvalidParameterValue"},
		{"sriov off", ModifyRequest{SriovNetSupport: sp("none")}, "", "InvalidParameterValue"},
		{"nothing", ModifyRequest{}, "", "InvalidParameterCombination"},
		{"two attributes", ModifyRequest{SriovNetSupport: sp("simple"), EnaSupport: &tr}, "", "InvalidParameterCombination"},
		{"unknown attribute", ModifyRequest{Attribute: sp("colour"), Value: sp("red")}, "", "InvalidParameterValue"},
		{"not kept", ModifyRequest{Others: []string{"groupSet"}}, "", "UnsupportedOperation"},
		{"termination protection", ModifyRequest{DisableAPITermination: &tr}, "disableApiTermination", ""},
		{"stop protection as value", ModifyRequest{Attribute: sp("disableApiStop"), Value: sp("true")}, "disableApiStop", ""},
		{"source/dest check", ModifyRequest{SourceDestCheck: &tr}, "sourceDestCheck", ""},
		{"shutdown behaviour", ModifyRequest{ShutdownBehavior: sp("terminate")}, "instanceInitiatedShutdownBehavior", ""},
		{"shutdown behaviour unknown", ModifyRequest{ShutdownBehavior: sp("hibernate")}, "", "InvalidParameterValue"},
		{"user data", ModifyRequest{UserData: sp("aGk=")}, "userData", ""},
		{"unknown type", ModifyRequest{InstanceType: sp("t3.mcro")}, "", "InvalidParameterValue"},
		{"known type", ModifyRequest{InstanceType: sp("t3.small")}, "instanceType", ""},
		{"attribute without value", ModifyRequest{Attribute: sp("instanceType")}, "", "MissingParameter"},
		{"bad type", ModifyRequest{InstanceType: sp("huge")}, "", "InvalidParameterValue"},
		{"devices", ModifyRequest{DeleteOnTermination: map[string]bool{"/dev/sdb": false}}, "blockDeviceMapping", ""},
	} {
		attr, _, err := classifyInstanceChange(&tc.r)
		if attr != tc.attr || codeOf(err) != tc.code {
			t.Errorf("%s: %q %q, want %q %q", tc.name, attr, codeOf(err), tc.attr, tc.code)
		}
	}
}
