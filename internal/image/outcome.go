package image

import (
	"context"
	"time"
)

// An Outcome overrides how the image a request creates ends up: pending for
// After, then failed with Reason. Fault injection (/_amigo/faults) plans
// one for matching RegisterImage, CopyImage and CreateImage calls, to
// rehearse a build that fails; the service never does on its own.
type Outcome struct {
	After  time.Duration
	Reason StateReason
}

type outcomeKey struct{}

// WithOutcome returns ctx carrying o for the image the request creates.
// It travels in the context because it belongs to one request, like its
// deadline, and the actions' inputs mirror EC2's wire, which has no room
// for it.
func WithOutcome(ctx context.Context, o Outcome) context.Context {
	return context.WithValue(ctx, outcomeKey{}, o)
}

// planOutcome applies the Outcome of ctx, if any, to a new image whose
// state startPending has set.
func planOutcome(ctx context.Context, img *Image) {
	o, ok := ctx.Value(outcomeKey{}).(Outcome)
	if !ok {
		return
	}
	at := img.CreationDate.Add(o.After)
	reason := o.Reason
	img.State = StatePending
	img.AvailableAt = &at
	img.FailsWith = &reason
}
