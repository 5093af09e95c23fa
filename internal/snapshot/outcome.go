package snapshot

import (
	"context"
	"time"
)

// An Outcome makes the snapshot a request creates (CreateSnapshot,
// CopySnapshot) stay pending for After, then read as error with Message.
// Fault injection (/_amigo/faults) plans one to rehearse a failed
// snapshot; snapshots fail into error where images fail into failed.
type Outcome struct {
	After   time.Duration
	Message string
}

type outcomeKey struct{}

// WithOutcome returns ctx carrying o for the snapshot the request creates:
// it belongs to one request and EC2's inputs have no room for it.
func WithOutcome(ctx context.Context, o Outcome) context.Context {
	return context.WithValue(ctx, outcomeKey{}, o)
}
