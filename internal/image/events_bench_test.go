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

// BenchmarkDisableEnableImage is the cost of the state change events on
// the write path: DisableImage then EnableImage of one of 64 images, from
// parallel goroutines (group commit at work), with events off and on
// (each change then also writes its outbox row in the same transaction).
func BenchmarkDisableEnableImage(b *testing.B) {
	for _, events := range []bool{false, true} {
		b.Run(fmt.Sprintf("events=%v", events), func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlite.Open(filepath.Join(b.TempDir(), "amigo.db"), sqlite.DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			const owner = "111122223333"
			ids := make(chan string, 64)
			err = st.Update(ctx, func(tx image.Tx) error {
				for i := range cap(ids) {
					img := &image.Image{Region: "us-east-1", ID: fmt.Sprintf("ami-%017x", i+1), OwnerID: owner, Name: fmt.Sprintf("img-%d", i),
						State: image.StateAvailable, CreationDate: time.UnixMilli(1700000000000), Architecture: "x86_64",
						RootDeviceName: "/dev/xvda", RootDeviceType: "ebs"}
					if err := tx.InsertImage(ctx, img); err != nil {
						return err
					}
					ids <- img.ID
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			svc, err := image.NewService(ctx, st, image.Options{Events: events})
			if err != nil {
				b.Fatal(err)
			}
			c := resource.Caller{Viewer: resource.Viewer{Account: owner}, Region: "us-east-1"}
			b.SetParallelism(4)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := <-ids // each image changed by one goroutine at a time
					if err := svc.DisableImage(ctx, c, id, false); err != nil {
						b.Error(err)
					}
					if err := svc.EnableImage(ctx, c, id, false); err != nil {
						b.Error(err)
					}
					ids <- id
				}
			})
		})
	}
}
