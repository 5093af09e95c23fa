// Package store holds what callers of every store engine may test for,
// whichever engine answers: sentinel errors beyond the image.Tx contract's
// own (resource.ErrNotFound, resource.ErrExists). The engines live beneath it
// (sqlite, postgres); this package imports none of them, so the service
// layer can depend on it alone.
package store

import (
	"errors"
	"time"
)

// ErrUnavailable is in the chain of an error (errors.Is) when the store
// could not answer in time or at all: no connection within the acquire or
// connect timeout, a statement past its timeout, a database that closed
// the connection or is shutting down, or a deadline of the caller's that
// passed while the store was working. The request may succeed if retried
// later, so the service answers it as EC2's ServiceUnavailable (503),
// which the SDKs retry. A caller's own cancellation (context.Canceled) is
// not unavailability and never carries it.
var ErrUnavailable = errors.New("store unavailable")

// An Observer hears of every committed write transaction, for metrics:
// batch is how many Update calls it carried (group commit), total its time
// from begin to durable commit, and sync the commit alone, where the
// engine waits for its fsync. It is called on the writer's path, so it must
// be quick. The engines take it as an option and never import a metrics
// library.
type Observer interface {
	Commit(batch int, total, sync time.Duration)
}
