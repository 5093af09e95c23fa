package volume

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func TestLaunched(t *testing.T) {
	c := resource.Caller{Region: "us-east-1", Viewer: resource.Viewer{Account: "111122223333"}}
	zone := resource.Zone{Name: "us-east-1b", ID: "use1-az1"}
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	snap := &Source{ID: "snap-0123456789abcdef0", Size: 20}
	encSnap := &Source{ID: "snap-0123456789abcdef1", Size: 20, Encrypted: true, KmsKeyID: "arn:aws:kms:us-east-1:999988887777:key/k"}
	for _, tc := range []struct {
		name string
		d    Device
		src  *Source
		want *Volume // fields beyond the ones every case shares
		code string
		msg  string
	}{
		{name: "snapshot size and gp2 baseline", d: Device{Name: "/dev/xvda", SnapshotID: snap.ID, VolumeType: "gp2", DeleteOnTermination: true}, src: snap,
			want: &Volume{Size: 20, SnapshotID: snap.ID, VolumeType: "gp2", Iops: i32(100)}},
		{name: "larger size, gp3 defaults", d: Device{Name: "/dev/xvda", SnapshotID: snap.ID, Size: i32(30), VolumeType: "gp3"}, src: snap,
			want: &Volume{Size: 30, SnapshotID: snap.ID, VolumeType: "gp3", Iops: i32(3000), Throughput: i32(125)}},
		{name: "blank volume", d: Device{Name: "/dev/sdb", Size: i32(100), VolumeType: "io2", Iops: i32(1000)},
			want: &Volume{Size: 100, VolumeType: "io2", Iops: i32(1000)}},
		{name: "encrypted snapshot keeps its key", d: Device{Name: "/dev/xvda", SnapshotID: encSnap.ID, VolumeType: "gp2"}, src: encSnap,
			want: &Volume{Size: 20, SnapshotID: encSnap.ID, VolumeType: "gp2", Iops: i32(100), Encrypted: true, KmsKeyID: encSnap.KmsKeyID}},
		{name: "Encrypted encrypts with the default key", d: Device{Name: "/dev/xvda", SnapshotID: snap.ID, VolumeType: "gp2", Encrypted: true}, src: snap,
			want: &Volume{Size: 20, SnapshotID: snap.ID, VolumeType: "gp2", Iops: i32(100), Encrypted: true, KmsKeyID: DefaultKeyARN(c.Region, c.Account)}},
		{name: "smaller than the snapshot", d: Device{Name: "/dev/xvda", SnapshotID: snap.ID, Size: i32(10), VolumeType: "gp2"}, src: snap,
			code: awserr.CodeInvalidBlockDeviceMapping, msg: "Volume of size 10GB is smaller than snapshot 'snap-0123456789abcdef0', expect size >= 20GB"},
		{name: "throughput on gp2", d: Device{Name: "/dev/xvda", Size: i32(8), VolumeType: "gp2", Throughput: i32(200)},
			code: awserr.CodeInvalidBlockDeviceMapping, msg: "throughput cannot be specified with the volumeType of device '/dev/xvda'"},
		{name: "io1 without iops", d: Device{Name: "/dev/sdb", Size: i32(100), VolumeType: "io1"},
			code: awserr.CodeInvalidBlockDeviceMapping, msg: "The parameter iops must be specified for io1 volumes."},
		{name: "st1 below its minimum", d: Device{Name: "/dev/sdb", SnapshotID: snap.ID, VolumeType: "st1"}, src: snap,
			code: awserr.CodeInvalidBlockDeviceMapping, msg: "Volume of 20GiB is too small; minimum is 125GiB."},
		{name: "key without Encrypted", d: Device{Name: "/dev/sdb", Size: i32(8), VolumeType: "gp2", KmsKeyID: "alias/x"},
			code: awserr.CodeInvalidParameterDependency},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Launched(c, "vol-0123456789abcdef0", zone, "i-0123456789abcdef0", at, tc.d, tc.src)
			if tc.code != "" {
				ae := awserr.From(err)
				if err == nil || ae.Code != tc.code || tc.msg != "" && ae.Message != tc.msg {
					t.Fatalf("err = %v, want %s %q", err, tc.code, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := *tc.want
			want.Region, want.ID, want.OwnerID = c.Region, "vol-0123456789abcdef0", c.Account
			want.AvailabilityZone, want.ZoneID, want.CreateTime, want.AvailableAt = zone.Name, zone.ID, at, at
			want.Attachment = &Attachment{InstanceID: "i-0123456789abcdef0", Device: tc.d.Name, AttachTime: at, DeleteOnTermination: tc.d.DeleteOnTermination}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("volume (-want +got):\n%s", diff)
			}
			if s := got.StateAt(at.Add(-time.Hour)); s != StateInUse {
				t.Errorf("state %s, want in-use", s)
			}
		})
	}
}
