package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amigo-ec2/amigo/internal/audit"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store"
)

// benchStore returns a store holding n images owned by 10 accounts; about
// a tenth are public and each carries up to two user grants.
func benchStore(b *testing.B, opts Options, n int) *Store {
	b.Helper()
	s := openTest(b, filepath.Join(b.TempDir(), "bench.db"), opts)
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
	return s
}

func benchID(i int) string      { return fmt.Sprintf("ami-%017x", i) }
func benchAccount(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// BenchmarkUpdateParallel: read-modify-write of an image description from
// 16 goroutines per core, with and without group commit. commits/op below 1
// is group commit at work: each commit is one fsync.
func BenchmarkUpdateParallel(b *testing.B) {
	for _, group := range []bool{true, false} {
		name := "GroupCommit"
		if !group {
			name = "NoGroupCommit"
		}
		b.Run(name, func(b *testing.B) { benchUpdateParallel(b, group, false) })
	}
	// With each update's CloudTrail event attached, as the server writes
	// it: the audit trail's cost on the writer is the difference.
	b.Run("GroupCommitAudit", func(b *testing.B) { benchUpdateParallel(b, true, true) })
}

// benchEvent is an event the size of a ModifyImageAttribute one.
func benchEvent(account, id string) *audit.Event {
	return &audit.Event{Account: account, Region: "us-east-1", Time: time.Now(), ID: uuid.Must(uuid.NewV7()).String(),
		Name: "ModifyImageAttribute", Source: audit.SourceEC2,
		Identity: audit.Identity{Type: "IAMUser", PrincipalID: "AIDA" + account, ARN: "arn:aws:iam::" + account + ":user/ci",
			AccountID: account, AccessKeyID: "AKIA" + account, UserName: "ci"},
		SourceIP: "127.0.0.1", UserAgent: "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.1 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.210.0",
		RequestID:         uuid.NewString(),
		RequestParameters: json.RawMessage(`{"imageId":"` + id + `","description":{"value":"update"}}`),
		ResponseElements:  json.RawMessage(`{"requestId":"` + uuid.NewString() + `","_return":true}`),
		Resources:         []audit.Resource{{Type: "AWS::EC2::Ami", Name: id}}}
}

type benchAttachment struct{ e *audit.Event }

func (a benchAttachment) WriteTx(ctx context.Context, tx any) error {
	return tx.(audit.Tx).InsertEvent(ctx, a.e)
}

// wchar is the bytes this process has passed to write calls so far.
func wchar() int64 {
	b, _ := os.ReadFile("/proc/self/io")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func benchUpdateParallel(b *testing.B, group, withAudit bool) {
	opts := DefaultOptions()
	opts.GroupCommit = group
	s := benchStore(b, opts, 100)
	ctx := b.Context()
	var next atomic.Int64
	commits, written := s.commits.Load(), wchar()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			id := benchID(int(n % 100))
			uctx := ctx
			if withAudit {
				uctx = store.Attach(ctx, benchAttachment{benchEvent(benchAccount(int(n%10)), id)})
			}
			err := s.Update(uctx, func(tx image.Tx) error {
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
	b.ReportMetric(float64(s.commits.Load()-commits)/float64(b.N), "commits/op")
	b.ReportMetric(float64(wchar()-written)/float64(b.N), "wbytes/op")
}

// cacheModes runs a read benchmark with the read cache on (the default)
// and off, which is what the cache saves.
func cacheModes(b *testing.B, fn func(b *testing.B, opts Options)) {
	b.Run("Cache", func(b *testing.B) { fn(b, DefaultOptions()) })
	b.Run("NoCache", func(b *testing.B) {
		opts := DefaultOptions()
		opts.CacheImages = -1
		fn(b, opts)
	})
}

func BenchmarkImageByID(b *testing.B) {
	cacheModes(b, func(b *testing.B, opts Options) {
		s := benchStore(b, opts, 1000)
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
	})
}

// BenchmarkFindVisible lists every image one of 10 accounts may see, out of
// 1,000 (about 200 each: its own, the public ones and its grants).
func BenchmarkFindVisible(b *testing.B) {
	cacheModes(b, func(b *testing.B, opts Options) {
		s := benchStore(b, opts, 1000)
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
	})
}
