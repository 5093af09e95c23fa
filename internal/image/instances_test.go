package image

import "testing"

func TestLaunchMappings(t *testing.T) {
	size := func(v int32) *int32 { return &v }
	yes, no := true, false
	image := []BlockDeviceMapping{
		{DeviceName: "/dev/xvda", Ebs: &EbsBlockDevice{SnapshotID: "snap-0123456789abcdef0", VolumeSize: size(8), DeleteOnTermination: &yes}},
		{DeviceName: "/dev/sdb", Ebs: &EbsBlockDevice{VolumeSize: size(10), DeleteOnTermination: &yes}},
	}
	got, err := launchMappings(image, []BlockDeviceMapping{
		{DeviceName: "/dev/xvda", Ebs: &EbsBlockDevice{VolumeSize: size(20), DeleteOnTermination: &no}},
		{DeviceName: "/dev/sdb", NoDevice: NoDeviceSet},
		{DeviceName: "/dev/sdc", Ebs: &EbsBlockDevice{VolumeSize: size(5)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].DeviceName != "/dev/xvda" || *got[0].Ebs.VolumeSize != 20 || *got[0].Ebs.DeleteOnTermination ||
		got[0].Ebs.SnapshotID != "snap-0123456789abcdef0" || got[1].DeviceName != "/dev/sdc" || !*got[1].Ebs.DeleteOnTermination {
		t.Fatalf("merged %+v", got)
	}
	if *image[0].Ebs.VolumeSize != 8 || len(image) != 2 {
		t.Fatal("launchMappings changed the image's mappings")
	}
	if _, err := launchMappings(image, []BlockDeviceMapping{{DeviceName: "/dev/sdz", Ebs: &EbsBlockDevice{}}}); codeOf(err) != "InvalidBlockDeviceMapping" {
		t.Fatalf("new device without snapshot or size: %v", err)
	}
}

func TestClassifyInstanceChange(t *testing.T) {
	tr := true
	for _, tc := range []struct {
		name       string
		r          ModifyInstanceRequest
		attr, code string
	}{
		{"structured sriov", ModifyInstanceRequest{SriovNetSupport: sp("simple")}, "sriovNetSupport", ""},
		{"attribute form", ModifyInstanceRequest{Attribute: sp("sriovNetSupport"), Value: sp("simple")}, "sriovNetSupport", ""},
		{"both forms agree", ModifyInstanceRequest{Attribute: sp("sriovNetSupport"), Value: sp("simple"), SriovNetSupport: sp("simple")}, "sriovNetSupport", ""},
		{"ena", ModifyInstanceRequest{EnaSupport: &tr}, "enaSupport", ""},
		{"ena as value", ModifyInstanceRequest{Attribute: sp("enaSupport"), Value: sp("maybe")}, "", "InvalidParameterValue"},
		{"sriov off", ModifyInstanceRequest{SriovNetSupport: sp("none")}, "", "InvalidParameterValue"},
		{"nothing", ModifyInstanceRequest{}, "", "InvalidParameterCombination"},
		{"two attributes", ModifyInstanceRequest{SriovNetSupport: sp("simple"), EnaSupport: &tr}, "", "InvalidParameterCombination"},
		{"unknown attribute", ModifyInstanceRequest{Attribute: sp("colour"), Value: sp("red")}, "", "InvalidParameterValue"},
		{"not kept", ModifyInstanceRequest{Others: []string{"sourceDestCheck"}}, "", "UnsupportedOperation"},
		{"attribute without value", ModifyInstanceRequest{Attribute: sp("instanceType")}, "", "MissingParameter"},
		{"bad type", ModifyInstanceRequest{InstanceType: sp("huge")}, "", "InvalidParameterValue"},
		{"devices", ModifyInstanceRequest{DeleteOnTermination: map[string]bool{"/dev/sdb": false}}, "blockDeviceMapping", ""},
	} {
		attr, _, err := classifyInstanceChange(&tc.r)
		if attr != tc.attr || codeOf(err) != tc.code {
			t.Errorf("%s: %q %q, want %q %q", tc.name, attr, codeOf(err), tc.attr, tc.code)
		}
	}
}
