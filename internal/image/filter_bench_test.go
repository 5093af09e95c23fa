package image

import (
	"fmt"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/resource"
)

// BenchmarkFilters matches a Terraform-style filter set against images.
func BenchmarkFilters(b *testing.B) {
	fs, err := resource.CompileFilters([]resource.Filter{
		{Name: sp("name"), Values: []string{"al2023-ami-2023.*-kernel-6.1-x86_64"}},
		{Name: sp("architecture"), Values: []string{"x86_64"}},
		{Name: sp("root-device-type"), Values: []string{"ebs"}},
		{Name: sp("tag:Team"), Values: []string{"pay*"}},
	}, imageFields)
	if err != nil {
		b.Fatal(err)
	}
	imgs := make([]*Image, 100)
	for i := range imgs {
		imgs[i] = &Image{ID: fmt.Sprintf("ami-%017x", i), Name: fmt.Sprintf("al2023-ami-2023.6.2024%04d.0-kernel-6.1-x86_64", i),
			Architecture: "x86_64", RootDeviceType: "ebs", CreationDate: time.Unix(int64(i), 0)}
	}
	tags := []resource.Tag{{Key: "Team", Value: "payments"}, {Key: "Env", Value: "prod"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !resource.MatchAll(fs, imgs[i%len(imgs)], tags) {
			b.Fatal("no match")
		}
	}
}
