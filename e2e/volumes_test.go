package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// newVolume creates a gp3 volume of size GiB owned by who.
func (e *env) newVolume(who string, size int32) string {
	e.t.Helper()
	out, err := e.client(who).CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(size), VolumeType: ec2types.VolumeTypeGp3})
	if err != nil {
		e.t.Fatalf("create volume: %v", err)
	}
	return aws.ToString(out.VolumeId)
}

func TestVolumeLifecycle(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	out := must[*ec2.CreateVolumeOutput](t)(c.CreateVolume(ctx, &ec2.CreateVolumeInput{
		AvailabilityZone: aws.String("us-east-1b"), Size: aws.Int32(20), VolumeType: ec2types.VolumeTypeGp3,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("data")}}}},
	}))
	if out.State != ec2types.VolumeStateCreating || aws.ToInt32(out.Iops) != 3000 || aws.ToInt32(out.Throughput) != 125 ||
		aws.ToString(out.AvailabilityZone) != "us-east-1b" || aws.ToBool(out.Encrypted) || len(out.Tags) != 1 {
		t.Fatalf("CreateVolume answered %+v", out)
	}
	id := aws.ToString(out.VolumeId)
	gp2 := must[*ec2.CreateVolumeOutput](t)(c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZoneId: aws.String("use1-az6"), Size: aws.Int32(80)}))
	if gp2.VolumeType != ec2types.VolumeTypeGp2 || aws.ToInt32(gp2.Iops) != 240 || gp2.Throughput != nil || aws.ToString(gp2.AvailabilityZone) != "us-east-1a" {
		t.Fatalf("gp2 defaults: %+v", gp2)
	}

	desc := must[*ec2.DescribeVolumesOutput](t)(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}}))
	if len(desc.Volumes) != 1 || desc.Volumes[0].State != ec2types.VolumeStateAvailable || tagMap(desc.Volumes[0].Tags)["Name"] != "data" {
		t.Fatalf("DescribeVolumes: %+v", desc.Volumes)
	}
	byFilter := func(name string, values ...string) int {
		t.Helper()
		out := must[*ec2.DescribeVolumesOutput](t)(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String(name), Values: values}}}))
		return len(out.Volumes)
	}
	for _, f := range []struct {
		name, value string
		want        int
	}{{"volume-type", "gp3", 1}, {"size", "80", 1}, {"status", "available", 2}, {"availability-zone", "us-east-1*", 2}, {"tag:Name", "data", 1}, {"encrypted", "true", 0}, {"attachment.status", "attached", 0}} {
		if got := byFilter(f.name, f.value); got != f.want {
			t.Errorf("filter %s=%s: %d volumes, want %d", f.name, f.value, got, f.want)
		}
	}
	// Volumes are never shared.
	apiErr(t, func() error {
		_, err := e.client(member).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
		return err
	}(), "InvalidVolume.NotFound", 400)

	must[*ec2.DeleteVolumeOutput](t)(c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)}))
	_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if msg := apiErr(t, err, "InvalidVolume.NotFound", 400); msg != "The volume '"+id+"' does not exist." {
		t.Errorf("message %q", msg)
	}
	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)})
	apiErr(t, err, "InvalidVolume.NotFound", 400)
}

func TestVolumeErrors(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	zone := aws.String("us-east-1a")
	for _, tc := range []struct {
		name string
		in   *ec2.CreateVolumeInput
		code string
		msg  string
	}{
		{"no zone", &ec2.CreateVolumeInput{Size: aws.Int32(8)}, "MissingParameter", "The request must contain the parameter AvailabilityZone"},
		{"both zones", &ec2.CreateVolumeInput{AvailabilityZone: zone, AvailabilityZoneId: aws.String("use1-az6"), Size: aws.Int32(8)}, "InvalidParameterCombination", ""},
		{"zone of another region", &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-west-2a"), Size: aws.Int32(8)}, "InvalidZone.NotFound", "The zone 'us-west-2a' does not exist."},
		{"unknown zone id", &ec2.CreateVolumeInput{AvailabilityZoneId: aws.String("usw2-az1"), Size: aws.Int32(8)}, "InvalidZone.NotFound", ""},
		{"no size or snapshot", &ec2.CreateVolumeInput{AvailabilityZone: zone}, "MissingParameter", "The request must contain the parameter size/snapshot"},
		{"unknown type", &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(8), VolumeType: "gp9"}, "InvalidParameterValue", ""},
		{"too large", &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(2000), VolumeType: ec2types.VolumeTypeStandard}, "InvalidParameterValue", "Volume of 2000GiB is too large for volume type standard; maximum is 1024GiB"},
		{"too small", &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(10), VolumeType: ec2types.VolumeTypeSt1}, "InvalidParameterValue", "Volume of 10GiB is too small; minimum is 125GiB."},
		{"io1 without iops", &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(100), VolumeType: ec2types.VolumeTypeIo1}, "InvalidParameterCombination", "The parameter iops must be specified for io1 volumes."},
		{"iops on gp2", &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(100), Iops: aws.Int32(300)}, "InvalidParameterCombination", "The parameter iops is not supported for gp2 volumes."},
		{"iops ratio", &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(8), VolumeType: ec2types.VolumeTypeGp3, Iops: aws.Int32(6000)}, "InvalidParameterValue", "Iops to volume size ratio of 750.000000 is too high; maximum is 500"},
		{"throughput on gp2", &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(8), Throughput: aws.Int32(200)}, "InvalidParameterCombination", "throughput can only be specified for volumeType gp3."},
		{"throughput ratio", &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(100), VolumeType: ec2types.VolumeTypeGp3, Throughput: aws.Int32(1000)}, "InvalidParameterValue", "Throughput (MiBps) to iops ratio of 0.333333 is too high; maximum is 0.250000 MiBps per iops"},
		{"key without encryption", &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(8), KmsKeyId: aws.String("alias/mine")}, "InvalidParameterDependency", "The parameter KmsKeyId requires the parameter Encrypted to be set."},
		{"malformed snapshot", &ec2.CreateVolumeInput{AvailabilityZone: zone, SnapshotId: aws.String("snap-malformedsnap")}, "InvalidSnapshotID.Malformed", ""},
		{"unknown snapshot", &ec2.CreateVolumeInput{AvailabilityZone: zone, SnapshotId: aws.String("snap-00000000000000999")}, "InvalidSnapshot.NotFound", "Snapshot does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateVolume(ctx, tc.in)
			if msg := apiErr(t, err, tc.code, 400); tc.msg != "" && msg != tc.msg {
				t.Errorf("message %q, want %q", msg, tc.msg)
			}
		})
	}
	id := e.newVolume(owner, 8)
	_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-malformedvolume"}})
	apiErr(t, err, "InvalidVolumeID.Malformed", 400)
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}, MaxResults: aws.Int32(5)})
	if msg := apiErr(t, err, "InvalidParameterCombination", 400); msg != "The parameter volumeSet cannot be used with the parameter maxResults" {
		t.Errorf("message %q", msg)
	}
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
	apiErr(t, err, "InvalidParameterValue", 400)
	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id), DryRun: aws.Bool(true)})
	apiErr(t, err, "DryRunOperation", 412)
	_, err = e.client("readonly").CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: aws.Int32(8)})
	apiErr(t, err, "UnauthorizedOperation", 403)
	_, err = e.client(member).DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)})
	apiErr(t, err, "InvalidVolume.NotFound", 400)
}

func TestDescribeVolumesPages(t *testing.T) {
	e := startEnv(t)
	for range 7 {
		e.newVolume(owner, 8)
	}
	p := ec2.NewDescribeVolumesPaginator(e.client(owner), &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5)})
	seen, pages := map[string]bool{}, 0
	for p.HasMorePages() {
		out := must[*ec2.DescribeVolumesOutput](t)(p.NextPage(ctx))
		pages++
		for _, v := range out.Volumes {
			seen[aws.ToString(v.VolumeId)] = true
		}
	}
	if len(seen) != 7 || pages != 2 {
		t.Fatalf("%d volumes in %d pages", len(seen), pages)
	}
}

func TestCreateVolumeClientToken(t *testing.T) {
	e := startEnv(t)
	c := e.client(owner)
	in := &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), ClientToken: aws.String("tok-1")}
	first := must[*ec2.CreateVolumeOutput](t)(c.CreateVolume(ctx, in))
	again := must[*ec2.CreateVolumeOutput](t)(c.CreateVolume(ctx, in))
	if aws.ToString(first.VolumeId) != aws.ToString(again.VolumeId) {
		t.Fatalf("replay made %s after %s", aws.ToString(again.VolumeId), aws.ToString(first.VolumeId))
	}
	out := must[*ec2.DescribeVolumesOutput](t)(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}))
	if len(out.Volumes) != 1 {
		t.Fatalf("%d volumes after a replay", len(out.Volumes))
	}
	in.Size = aws.Int32(9)
	_, err := c.CreateVolume(ctx, in)
	apiErr(t, err, "IdempotentParameterMismatch", 400)
	// Tokens are per account.
	must[*ec2.CreateVolumeOutput](t)(e.client(member).CreateVolume(ctx, in))
}
