package store

import (
	"context"
	"sync/atomic"
)

// An Attachment is a write a request carries in its context, to be made in
// the transaction of the request's first successful update (the audit
// event of the call; an outbox entry), so that an acknowledged change
// always has it. Engines know nothing of what is written: they hand their
// transaction to WriteTx, and the attachment asserts the interface it
// needs (audit.Tx, say), which the engine's transaction implements.
type Attachment interface {
	WriteTx(ctx context.Context, tx any) error
}

type attachKey struct{}

// attached is the list a context carries; written is set once an update
// carrying them has committed, so a call that updates several times writes
// them once.
type attached struct {
	list    []Attachment
	written atomic.Bool
}

// Attach returns ctx carrying a besides what ctx already carries.
func Attach(ctx context.Context, a Attachment) context.Context {
	prev, _ := ctx.Value(attachKey{}).(*attached)
	at := &attached{}
	if prev != nil {
		at.list = append(at.list, prev.list...)
	}
	at.list = append(at.list, a)
	return context.WithValue(ctx, attachKey{}, at)
}

// WriteAttached writes ctx's attachments into tx, unless an earlier update
// under ctx committed them. Engines call it inside the transaction (the
// savepoint, under group commit) of an update function that returned nil;
// an error fails that function as its own error would.
func WriteAttached(ctx context.Context, tx any) error {
	at, _ := ctx.Value(attachKey{}).(*attached)
	if at == nil || at.written.Load() {
		return nil
	}
	for _, a := range at.list {
		if err := a.WriteTx(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// Committed tells ctx's attachments that an update carrying them is
// durable. Engines call it when Update returns nil; until then a retry of
// the function (alone, after a failed group) writes them again, which is
// right because the failed attempt was rolled back.
func Committed(ctx context.Context) {
	if at, _ := ctx.Value(attachKey{}).(*attached); at != nil {
		at.written.Store(true)
	}
}

// WasCommitted reports whether an update under ctx committed its
// attachments: the caller records the call another way when none did.
func WasCommitted(ctx context.Context) bool {
	at, _ := ctx.Value(attachKey{}).(*attached)
	return at != nil && at.written.Load()
}

// A Preparer is an Attachment with work it can do before the update, on
// the caller's goroutine (encoding an audit event), so that the engine's
// writer, which every update waits for, only writes.
type Preparer interface {
	Prepare()
}

// PrepareAttached calls Prepare on ctx's attachments that are Preparers,
// unless an update under ctx committed them. Engines call it before they
// queue an update; it is an optimization, never needed for correctness.
func PrepareAttached(ctx context.Context) {
	at, _ := ctx.Value(attachKey{}).(*attached)
	if at == nil || at.written.Load() {
		return
	}
	for _, a := range at.list {
		if p, ok := a.(Preparer); ok {
			p.Prepare()
		}
	}
}
