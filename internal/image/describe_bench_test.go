package image_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
)

// BenchmarkDescribeImagesByID is the hot path (DescribeImages ImageId.1)
// through the service over a cached SQLite store, transport aside.
func BenchmarkDescribeImagesByID(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "amigo.db"), sqlite.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const owner = "111122223333"
	ids := make([]string, 100)
	err = st.Update(ctx, func(tx image.Tx) error {
		for i := range ids {
			ids[i] = fmt.Sprintf("ami-%017x", i+1)
			img := &image.Image{Region: "us-east-1", ID: ids[i], OwnerID: owner, Name: fmt.Sprintf("img-%d", i),
				State: image.StateAvailable, CreationDate: time.UnixMilli(1700000000000), Architecture: "x86_64",
				RootDeviceName: "/dev/xvda", RootDeviceType: "ebs", BlockDeviceMappings: []image.BlockDeviceMapping{{
					DeviceName: "/dev/xvda", Ebs: &image.EbsBlockDevice{SnapshotID: "snap-0123456789abcdef0", VolumeType: "gp3"}}}}
			if err := tx.InsertImage(ctx, img); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := image.NewService(ctx, st, image.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c := resource.Caller{Viewer: resource.Viewer{Account: owner}, Region: "us-east-1"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := &image.DescribeRequest{ImageIDs: []string{ids[i%len(ids)]}}
		out, _, err := svc.DescribeImages(ctx, c, r)
		if err != nil || len(out) != 1 {
			b.Fatal(err, len(out))
		}
	}
}

// BenchmarkDescribeImagesFiltered lists 1,000 of the caller's images
// through a wildcard name filter: the filter loop and the pipeline, each
// looking at the request's deadline as it goes.
func BenchmarkDescribeImagesFiltered(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "amigo.db"), sqlite.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const owner = "111122223333"
	err = st.Update(ctx, func(tx image.Tx) error {
		for i := range 1000 {
			img := &image.Image{Region: "us-east-1", ID: fmt.Sprintf("ami-%017x", i+1), OwnerID: owner, Name: fmt.Sprintf("al2023-ami-2023.6.%d-kernel-6.1-x86_64", i),
				Description: "Amazon Linux 2023 AMI 2023.6 x86_64 HVM kernel-6.1", State: image.StateAvailable, CreationDate: time.UnixMilli(1700000000000),
				Architecture: "x86_64", RootDeviceName: "/dev/xvda", RootDeviceType: "ebs"}
			if err := tx.InsertImage(ctx, img); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := image.NewService(ctx, st, image.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c := resource.Caller{Viewer: resource.Viewer{Account: owner}, Region: "us-east-1"}
	name := "name"
	r := &image.DescribeRequest{Owners: []string{"self"}, Filters: []resource.Filter{{Name: &name, Values: []string{"al2023-ami-2023.*-kernel-6.1-x86_64"}}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, _, err := svc.DescribeImages(ctx, c, r)
		if err != nil || len(out) != 1000 {
			b.Fatal(err, len(out))
		}
	}
}
