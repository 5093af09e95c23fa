package volume

import (
	"errors"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

func i32(v int32) *int32 { return &v }

func TestCreateRequestCheck(t *testing.T) {
	zone := "us-east-1a"
	yes := true
	for _, tc := range []struct {
		name string
		r    CreateRequest
		code string
	}{
		{"blank gp2", CreateRequest{AvailabilityZone: zone, Size: i32(8)}, ""},
		{"io2 with iops", CreateRequest{AvailabilityZone: zone, Size: i32(100), VolumeType: "io2", Iops: i32(1000)}, ""},
		{"no zone", CreateRequest{Size: i32(8)}, awserr.CodeMissingParameter},
		{"both zones", CreateRequest{AvailabilityZone: zone, AvailabilityZoneID: "use1-az6", Size: i32(8)}, awserr.CodeInvalidParameterCombination},
		{"no size or snapshot", CreateRequest{AvailabilityZone: zone}, awserr.CodeMissingParameter},
		{"unknown type", CreateRequest{AvailabilityZone: zone, Size: i32(8), VolumeType: "gp4"}, awserr.CodeInvalidParameterValue},
		{"io1 too small", CreateRequest{AvailabilityZone: zone, Size: i32(3), VolumeType: "io1", Iops: i32(100)}, awserr.CodeInvalidParameterValue},
		{"gp3 too large", CreateRequest{AvailabilityZone: zone, Size: i32(65537), VolumeType: "gp3"}, awserr.CodeInvalidParameterValue},
		{"io2 without iops", CreateRequest{AvailabilityZone: zone, Size: i32(100), VolumeType: "io2"}, awserr.CodeInvalidParameterCombination},
		{"iops on st1", CreateRequest{AvailabilityZone: zone, Size: i32(500), VolumeType: "st1", Iops: i32(500)}, awserr.CodeInvalidParameterCombination},
		{"gp3 iops too low", CreateRequest{AvailabilityZone: zone, Size: i32(100), VolumeType: "gp3", Iops: i32(2000)}, awserr.CodeInvalidParameterValue},
		{"io1 iops too high", CreateRequest{AvailabilityZone: zone, Size: i32(2000), VolumeType: "io1", Iops: i32(64001)}, awserr.CodeInvalidParameterValue},
		{"throughput on io1", CreateRequest{AvailabilityZone: zone, Size: i32(100), VolumeType: "io1", Iops: i32(100), Throughput: i32(200)}, awserr.CodeInvalidParameterCombination},
		{"throughput out of range", CreateRequest{AvailabilityZone: zone, Size: i32(100), VolumeType: "gp3", Throughput: i32(2001)}, awserr.CodeInvalidParameterValue},
		{"key without encryption", CreateRequest{AvailabilityZone: zone, Size: i32(8), KmsKeyID: "k"}, awserr.CodeInvalidParameterDependency},
		{"multi-attach on gp3", CreateRequest{AvailabilityZone: zone, Size: i32(8), VolumeType: "gp3", MultiAttach: true}, awserr.CodeInvalidParameterCombination},
		{"init rate without snapshot", CreateRequest{AvailabilityZone: zone, Size: i32(8), InitRate: i32(100)}, awserr.CodeInvalidParameterCombination},
		{"init rate out of range", CreateRequest{AvailabilityZone: zone, SnapshotID: "snap-0123456789abcdef0", InitRate: i32(50)}, awserr.CodeInvalidParameterValue},
		{"malformed snapshot", CreateRequest{AvailabilityZone: zone, SnapshotID: "snap-x"}, awserr.CodeInvalidSnapshotIDMalformed},
		{"outpost", CreateRequest{AvailabilityZone: zone, Size: i32(8), OutpostArn: "arn:aws:outposts:x"}, awserr.CodeUnsupportedOperation},
		{"encrypted with key", CreateRequest{AvailabilityZone: zone, Size: i32(8), Encrypted: &yes, KmsKeyID: "alias/x"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.r.Check()
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *awserr.Error
			if !errors.As(err, &ae) || ae.Code != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
}

func TestPerformanceDefaults(t *testing.T) {
	for _, tc := range []struct {
		v                Volume
		iops, throughput int32
		err              string
	}{
		{Volume{VolumeType: "gp2", Size: 8}, 100, 0, ""},
		{Volume{VolumeType: "gp2", Size: 80}, 240, 0, ""},
		{Volume{VolumeType: "gp2", Size: 16000}, 16000, 0, ""},
		{Volume{VolumeType: "gp3", Size: 1}, 3000, 125, ""},
		{Volume{VolumeType: "gp3", Size: 8, Iops: i32(6000)}, 0, 0, "Iops to volume size ratio of 750.000000 is too high; maximum is 500"},
		{Volume{VolumeType: "io1", Size: 10, Iops: i32(1000)}, 0, 0, "ratio of 100.000000 is too high; maximum is 50"},
		{Volume{VolumeType: "gp3", Size: 100, Throughput: i32(1000)}, 0, 0, "ratio of 0.333333 is too high"},
		{Volume{VolumeType: "standard", Size: 8}, 0, 0, ""},
	} {
		v := tc.v
		err := performance(&v, typeLimits[v.VolumeType])
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %d GiB: got %v, want %q", v.VolumeType, v.Size, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", v.VolumeType, err)
		}
		var iops, tp int32
		if v.Iops != nil {
			iops = *v.Iops
		}
		if v.Throughput != nil {
			tp = *v.Throughput
		}
		if iops != tc.iops || tp != tc.throughput {
			t.Errorf("%s %d GiB: iops %d throughput %d, want %d %d", v.VolumeType, v.Size, iops, tp, tc.iops, tc.throughput)
		}
	}
}

func TestKeyARN(t *testing.T) {
	const r, a = "us-east-1", "111122223333"
	if got := KeyARN(r, a, "alias/aws/ebs"); got != DefaultKeyARN(r, a) || !IsDefaultKey(r, a, got) {
		t.Errorf("alias/aws/ebs = %s", got)
	}
	if got := KeyARN(r, a, "1234abcd-12ab-34cd-56ef-1234567890ab"); got != "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" {
		t.Errorf("key id = %s", got)
	}
	arn := "arn:aws:kms:us-east-1:999988887777:key/k"
	if got := KeyARN(r, a, arn); got != arn {
		t.Errorf("key ARN = %s", got)
	}
	if got := KeyARN(r, a, "alias/mine"); !strings.Contains(got, ":key/") || got != KeyARN(r, a, "alias/mine") {
		t.Errorf("alias = %s (not a stable key ARN)", got)
	}
}
