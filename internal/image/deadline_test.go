package image_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// tripContext is a context whose deadline "passes" at its trip-th look at
// Err (never, when trip is 0), and which counts the looks: it shows where
// a loop checks the request's deadline without depending on the speed of
// the machine.
type tripContext struct {
	context.Context
	trip  int64
	looks atomic.Int64
}

func (c *tripContext) Err() error {
	if n := c.looks.Add(1); c.trip > 0 && n >= c.trip {
		return context.DeadlineExceeded
	}
	return nil
}

// A DescribeImages whose filters test many candidates stops at the
// request's deadline instead of testing them all.
func TestDescribeImagesHonoursDeadline(t *testing.T) {
	const n = 3000
	e := it.New(t, image.Options{})
	err := e.Store.Update(ctx, func(tx image.Tx) error {
		for i := range n {
			img := &image.Image{Region: it.Region, ID: fmt.Sprintf("ami-%017x", i+1), OwnerID: it.Owner, Name: fmt.Sprintf("img-%d", i),
				Description: "a long description that the filter will not match", State: image.StateAvailable,
				CreationDate: it.Epoch, Architecture: "x86_64", RootDeviceName: "/dev/xvda", RootDeviceType: "ebs"}
			if err := tx.InsertImage(ctx, img); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	owner := it.Caller(it.Owner)
	req := &image.DescribeRequest{Filters: []resource.Filter{{Name: ptr("description"), Values: []string{"*no*such*thing*"}}}}

	// Unhurried, the request looks at its deadline at least once per
	// resource.PollEvery candidates.
	calm := &tripContext{Context: context.Background()}
	if out, _, err := e.Svc.DescribeImages(calm, owner, req); err != nil || len(out) != 0 {
		t.Fatalf("no deadline: %d images, %v", len(out), err)
	}
	looks := calm.looks.Load()
	if looks < n/resource.PollEvery {
		t.Fatalf("%d looks at the deadline for %d candidates", looks, n)
	}

	// With the deadline passing halfway, it stops there and says why.
	hurried := &tripContext{Context: context.Background(), trip: looks / 2}
	start := time.Now()
	_, _, err = e.Svc.DescribeImages(hurried, owner, req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if got := hurried.looks.Load(); got != hurried.trip {
		t.Fatalf("%d looks, want it to stop at the %dth", got, hurried.trip)
	}
	t.Logf("%d looks for %d candidates; stopped after %v", looks, n, time.Since(start))
}
