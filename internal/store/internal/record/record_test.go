package record

import (
	"reflect"
	"testing"

	"github.com/amigo-ec2/amigo/internal/image"
)

// Decoding a cached document twice gives equal images that share nothing.
func TestDecodeImageCacheDoesNotAlias(t *testing.T) {
	ena, size, enc := true, int32(8), false
	src := &image.Image{ID: "ami-0123456789abcdef0", Description: "d", EnaSupport: &ena,
		BlockDeviceMappings: []image.BlockDeviceMapping{{DeviceName: "/dev/xvda",
			Ebs: &image.EbsBlockDevice{SnapshotID: "snap-0123456789abcdef0", VolumeSize: &size, Encrypted: &enc}}}}
	doc, err := EncodeImage(src)
	if err != nil {
		t.Fatal(err)
	}
	var a, b image.Image
	if err := DecodeImage([]byte(doc), &a); err != nil {
		t.Fatal(err)
	}
	if err := DecodeImage([]byte(doc), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("second decode differs")
	}
	*a.EnaSupport = false
	*a.BlockDeviceMappings[0].Ebs.VolumeSize = 99
	a.BlockDeviceMappings[0].DeviceName = "/dev/sdz"
	var c image.Image
	if err := DecodeImage([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if !*c.EnaSupport || *c.BlockDeviceMappings[0].Ebs.VolumeSize != 8 || c.BlockDeviceMappings[0].DeviceName != "/dev/xvda" {
		t.Fatal("changing a decoded image changed the cache")
	}
}
