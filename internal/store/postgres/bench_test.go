package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/pgtest"
)

// benchStore returns a store holding n images owned by 10 accounts; about
// a tenth are public and each carries up to two user grants (the sqlite
// engine's benchmark population).
func benchStore(b *testing.B, opts Options, n int) *Store {
	b.Helper()
	s := openTest(b, pgtest.Start(b), opts)
	b.Cleanup(func() { s.Close() })
	rng := rand.New(rand.NewPCG(1, 2))
	err := s.Update(b.Context(), func(tx image.Tx) error {
		for i := range n {
			img := &image.Image{
				Region:         "us-east-1",
				ID:             benchID(i),
				OwnerID:        benchAccount(rng.IntN(10)),
				Name:           fmt.Sprintf("image-%d", i),
				State:          image.StateAvailable,
				CreationDate:   time.UnixMilli(1700000000000 + int64(i)),
				Architecture:   "x86_64",
				RootDeviceName: "/dev/xvda",
				BlockDeviceMappings: []image.BlockDeviceMapping{{DeviceName: "/dev/xvda",
					Ebs: &image.EbsBlockDevice{SnapshotID: "snap-0123456789abcdef0", VolumeType: "gp3"}}},
			}
			if rng.IntN(10) == 0 {
				img.LaunchPermissions = append(img.LaunchPermissions, image.Public)
			}
			for range rng.IntN(3) {
				p := image.LaunchPermission{Kind: image.PermUser, Value: benchAccount(rng.IntN(10))}
				if !slices.Contains(img.LaunchPermissions, p) {
					img.LaunchPermissions = append(img.LaunchPermissions, p)
				}
			}
			if err := tx.InsertImage(b.Context(), img); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// Planner statistics, as autovacuum would gather on a live database.
	if _, err := s.pool.Exec(b.Context(), `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchID(i int) string      { return fmt.Sprintf("ami-%017x", i) }
func benchAccount(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// BenchmarkUpdateParallel: read-modify-write of an image description from
// 16 goroutines per core over 100 images, through a pool of 16 connections.
// retries/op counts serialization failures run again.
func BenchmarkUpdateParallel(b *testing.B) {
	s := benchStore(b, Options{MaxConns: 16}, 100)
	ctx := b.Context()
	var next atomic.Int64
	retries := s.retries.Load()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			id := benchID(int(n % 100))
			err := s.Update(ctx, func(tx image.Tx) error {
				img, err := tx.Image(ctx, "us-east-1", id)
				if err != nil {
					return err
				}
				img.Description = fmt.Sprint("update ", n)
				return tx.UpdateImage(ctx, img)
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(s.retries.Load()-retries)/float64(b.N), "retries/op")
}

func BenchmarkImageByID(b *testing.B) {
	s := benchStore(b, Options{}, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := benchID(i % 1000)
		err := s.View(ctx, func(tx image.Tx) error {
			_, err := tx.Image(ctx, "us-east-1", id)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindVisible lists every image one of 10 accounts may see, out of
// 1,000 (about 200 each: its own, the public ones and its grants).
func BenchmarkFindVisible(b *testing.B) {
	s := benchStore(b, Options{}, 1000)
	ctx := b.Context()
	var found int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v := &resource.Viewer{Account: benchAccount(i % 10)}
		err := s.View(ctx, func(tx image.Tx) error {
			imgs, err := tx.FindImages(ctx, image.Query{Region: "us-east-1", VisibleTo: v})
			found += len(imgs)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(found)/float64(b.N), "images/op")
}
