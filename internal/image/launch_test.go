package image

import "testing"

func TestLaunchMappings(t *testing.T) {
	size := func(v int32) *int32 { return &v }
	yes, no := true, false
	image := []BlockDeviceMapping{
		{DeviceName: "/dev/xvda", Ebs: &EbsBlockDevice{SnapshotID: "snap-0123456789abcdef0", VolumeSize: size(8), DeleteOnTermination: &yes}},
		{DeviceName: "/dev/sdb", Ebs: &EbsBlockDevice{VolumeSize: size(10), DeleteOnTermination: &yes}},
	}
	got, err := LaunchMappings(image, []BlockDeviceMapping{
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
	if _, err := LaunchMappings(image, []BlockDeviceMapping{{DeviceName: "/dev/sdz", Ebs: &EbsBlockDevice{}}}); codeOf(err) != "InvalidBlockDeviceMapping" {
		t.Fatalf("new device without snapshot or size: %v", err)
	}
}
