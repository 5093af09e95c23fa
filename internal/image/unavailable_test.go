package image_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/image"
	it "github.com/amigo-ec2/amigo/internal/image/imagetest"
	"github.com/amigo-ec2/amigo/internal/store"
)

// stalled is a store whose reads fail as a stalled database's do.
type stalled struct{ image.Store }

func (s stalled) View(ctx context.Context, fn func(image.Tx) error) error {
	return s.Store.View(ctx, func(tx image.Tx) error { return fn(stalledTx{tx}) })
}

func (s stalled) Update(ctx context.Context, fn func(image.Tx) error) error {
	return s.Store.Update(ctx, func(tx image.Tx) error { return fn(stalledTx{tx}) })
}

type stalledTx struct{ image.Tx }

var errStalled = fmt.Errorf("postgres: statement timeout: %w", store.ErrUnavailable)

func (stalledTx) FindImages(context.Context, image.Query) ([]*image.Image, error) {
	return nil, errStalled
}

func (stalledTx) CountImages(context.Context, string, string) (int, error) { return 0, errStalled }

// The domain hands a store's unavailability to the edge unchanged, so the
// server can answer a retryable 503 instead of an InternalError.
func TestStoreUnavailablePassesThrough(t *testing.T) {
	e := it.New(t, image.Options{})
	svc, err := image.NewService(ctx, stalled{e.Store}, image.Options{Now: e.Clock.Now, NewID: e.IDs.Next})
	if err != nil {
		t.Fatal(err)
	}
	owner := it.Caller(it.Owner)
	_, _, derr := svc.DescribeImages(ctx, owner, &image.DescribeRequest{})
	_, rerr := svc.RegisterImage(ctx, owner, it.RegisterRequest("stalled"))
	for name, err := range map[string]error{"DescribeImages": derr, "RegisterImage": rerr} {
		var ae *awserr.Error
		if !errors.Is(err, store.ErrUnavailable) || errors.As(err, &ae) {
			t.Errorf("%s: %v; want store.ErrUnavailable in the chain and no EC2 error", name, err)
		}
	}
}
