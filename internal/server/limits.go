package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/amigo-ec2/amigo/internal/store"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Limits are the budgets of the HTTP edge: what one request, connection or
// client may cost. docs/operations.md gives each one's default, flag and
// reason. A zero field takes its default; a negative duration or count
// turns that budget off (tests only).
type Limits struct {
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
	// MaxBodyBytes bounds one request body.
	MaxBodyBytes int64
	// HeaderTimeout bounds reading the request line and headers.
	HeaderTimeout time.Duration
	// BodyTimeout bounds reading the body, from the end of the headers.
	BodyTimeout time.Duration
	// WriteTimeout bounds each write of the answer (a long answer is
	// written in chunks); past it the connection is closed.
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive connection that sends nothing.
	IdleTimeout time.Duration
	// RequestTimeout bounds the work on one request, up to the first byte
	// of its answer: it is the deadline of the request's context.
	RequestTimeout time.Duration
	// MaxConns caps open connections; past it a new connection gets a 503
	// and is closed.
	MaxConns int
	// MaxInFlight caps requests being worked on (body read, authenticated,
	// answered); past it a request is shed at once with 503 Unavailable.
	// With TargetLatency set, the cap in force adapts below it (admission.go).
	MaxInFlight int
	// TargetLatency is the time in flight of reads past which the cap
	// shrinks (admission.go); 0 or negative keeps the cap fixed, the
	// default: see SuggestedTargetLatency.
	TargetLatency time.Duration
	// MaxInFlightPerKey caps the in-flight requests of one access key; 0
	// means half the cap in force, negative no cap of its own.
	MaxInFlightPerKey int
	// MaxRunQueue caps the goroutines waiting for a CPU (requests queue
	// there under CPU overload, before the handler sees them); past it
	// requests are shed like past MaxInFlight. 0 means 4 × MaxInFlight
	// (net/http gives each busy connection two goroutines).
	MaxRunQueue int
	// MaxWriters caps the answers held for clients that read slowly (a
	// write blocked past 20 ms moves its request from in flight to here);
	// when none is free the request keeps its in-flight slot.
	MaxWriters int
	// MaxBodyMemory bounds the bodies held by requests that are not yet
	// authenticated; it is reserved as bytes arrive, so a slow body holds
	// only what it has sent.
	MaxBodyMemory int64
}

// Defaults of Limits.
const (
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxBodyBytes   = 1 << 20
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultBodyTimeout    = 20 * time.Second
	DefaultWriteTimeout   = 15 * time.Second
	DefaultIdleTimeout    = 120 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxConns       = 2048
	DefaultMaxInFlight    = 64
	// DefaultMaxBodyMemory is room for DefaultMaxInFlight full bodies.
	DefaultMaxBodyMemory = 64 << 20
)

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.HeaderTimeout, DefaultHeaderTimeout)
	def(&l.BodyTimeout, DefaultBodyTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	def(&l.RequestTimeout, DefaultRequestTimeout)
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxBodyBytes == 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxConns == 0 {
		l.MaxConns = DefaultMaxConns
	}
	if l.MaxInFlight == 0 {
		l.MaxInFlight = DefaultMaxInFlight
	}
	if l.MaxRunQueue == 0 {
		l.MaxRunQueue = 4 * max(l.MaxInFlight, 1)
	}
	if l.MaxWriters == 0 {
		l.MaxWriters = 4 * max(l.MaxInFlight, 1)
	}
	if l.MaxBodyMemory == 0 {
		l.MaxBodyMemory = DefaultMaxBodyMemory
	}
	return l
}

// maxKeyWaiters bounds the requests waiting for their key's share: half
// the connection cap, so that waiters can pace a client with as many
// workers as connections it may open while the rest of the connections
// stay for others; a waiter costs its goroutine and a small body.
func maxKeyWaiters(l Limits) int64 {
	if l.MaxConns > 0 {
		return int64(max(1, l.MaxConns/2))
	}
	return DefaultMaxConns / 2
}

// Limits returns the budgets in force, defaults filled in.
func (s *Server) Limits() Limits { return s.limits }

// SetLimits installs the budgets; call it before serving.
func (s *Server) SetLimits(l Limits) {
	s.limits = l.withDefaults()
	s.inflight = newLimiter(s.limits.MaxInFlight, s.limits.TargetLatency)
	s.keys = &keyShare{fixed: int64(s.limits.MaxInFlightPerKey), lim: s.inflight, maxWaiters: maxKeyWaiters(s.limits)}
	s.runq = newRunQueue(s.limits.MaxRunQueue)
	s.writers = newGate(s.limits.MaxWriters)
	s.bodyMem = newGate(int(s.limits.MaxBodyMemory))
}

// HTTPServer returns an http.Server that applies the connection-level
// budgets (headers, idle connections) and serves s. Wrap its listener with
// LimitListener for the connection cap.
func (s *Server) HTTPServer() *http.Server {
	l := s.limits
	hs := &http.Server{Handler: s, MaxHeaderBytes: l.MaxHeaderBytes}
	if l.HeaderTimeout > 0 {
		hs.ReadHeaderTimeout = l.HeaderTimeout
	}
	if l.IdleTimeout > 0 {
		hs.IdleTimeout = l.IdleTimeout
	}
	return hs
}

// gate is a counting semaphore that never waits: shedding, not queueing,
// is what keeps latency bounded past capacity. n ≤ 0 means no limit.
type gate struct {
	max int64
	n   atomic.Int64
}

func newGate(n int) *gate { return &gate{max: int64(n)} }

func (g *gate) tryAcquire(k int64) bool {
	if g.max <= 0 {
		return true
	}
	if g.n.Add(k) > g.max {
		g.n.Add(-k)
		return false
	}
	return true
}

func (g *gate) release(k int64) {
	if g.max > 0 {
		g.n.Add(-k)
	}
}

// InFlight is the units of the in-flight cap held by requests being worked
// on: one per request, a listing's cost (cost.go) (for tests and probes).
func (s *Server) InFlight() int { return int(s.inflight.n.Load()) }

// InFlightLimit is the in-flight cap in force (admission.go).
func (s *Server) InFlightLimit() int { return s.inflight.Limit() }

// ticket is what one request holds: units of the in-flight cap and of its
// access key's share while it is worked on and its answer is encoded (one
// unit on arrival, its cost once it is known: cost.go), or a writer slot
// and the key's units once its client reads slowly.
type ticket struct {
	s      *Server
	units  int64 // of the in-flight cap; 0: none held
	writer bool
	since  time.Time // the in-flight units were taken
	key    *keyCount // the access key's count, while held
	keyN   int64     // units of it held
	// read: the request is a Describe, List, Get or Search, whose slot
	// time tells the cap about CPU; a write's is mostly its wait for the
	// one writer and its fsync, which admitting fewer writes would not
	// shorten (group commit would only get smaller batches).
	read bool
}

func (t *ticket) admit() bool {
	if t.s.runq.over() {
		return false
	}
	if !t.s.inflight.tryAcquireN(1) {
		return false
	}
	t.units, t.since = 1, time.Now()
	return true
}

// keyWait is how long a request may wait for its access key's share
// (keyShare.waitN): long enough to pace a client that never backs off to a
// few refusals per second per worker, short against an SDK's timeouts.
const keyWait = 250 * time.Millisecond

// maxWaitBody: a request waits for its key's share only with a body of at
// most this size; a waiter holds its body, and bodies share MaxBodyMemory.
const maxWaitBody = 64 << 10

// admitKey takes w units (the request's cost, at least 1) of the access
// key's share, waiting for them if wait allows, and the units beyond the
// one taken on arrival from the in-flight cap; false sheds the request (and
// gives back what it held, which did no work worth measuring).
func (t *ticket) admitKey(ctx context.Context, id string, w int64, wait bool) bool {
	k := t.s.keys
	n, ok := k.tryAcquireN(id, w)
	if !ok && wait {
		// The in-flight unit is not held while waiting: waiters must not
		// fill the cap that other keys' requests need.
		t.s.inflight.releaseN(t.units, -1)
		t.units = 0
		ok = k.waitN(ctx, n, w, keyWait)
	}
	if ok && w > t.units {
		if t.s.inflight.tryAcquireN(w - t.units) {
			if t.units == 0 {
				t.since = time.Now()
			}
			t.units = w
		} else {
			k.release(n, w)
			ok = false
		}
	}
	if !ok {
		t.s.inflight.releaseN(t.units, -1)
		t.units = 0
		return false
	}
	t.key, t.keyN = n, w
	return true
}

// releaseInFlight gives back the in-flight units.
func (t *ticket) releaseInFlight() {
	if t.units > 0 {
		var held time.Duration
		if t.read {
			held = time.Since(t.since)
		}
		t.s.inflight.releaseN(t.units, held)
		t.units = 0
	}
}

func (t *ticket) releaseKey() {
	if t.key != nil {
		t.s.keys.release(t.key, t.keyN)
		t.key, t.keyN = nil, 0
	}
}

// isRead says whether an action only reads (EC2's non-mutating kinds).
func isRead(action string) bool {
	for _, p := range []string{"Describe", "List", "Get", "Search"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// toWriter trades the in-flight units for a writer slot: the client is
// reading slowly, so the request mostly waits rather than works. It keeps
// its key's units: a streamed listing still reads and encodes between its
// writes, and a key whose clients do not read must not get more work
// admitted in their place. False when no writer slot is free (the request
// keeps its in-flight units).
func (t *ticket) toWriter() bool {
	if !t.writer {
		if !t.s.writers.tryAcquire(1) {
			return false
		}
		t.writer = true
	}
	t.releaseInFlight()
	return true
}

func (t *ticket) release() {
	t.releaseInFlight()
	t.releaseKey()
	if t.writer {
		t.s.writers.release(1)
		t.writer = false
	}
}

// Errors of the budgets.
const (
	msgOverloaded = "The server is overloaded and can't handle the request."
	msgTimedOut   = "The request could not be completed in time. Please try again shortly."
	msgStoreDown  = "The service is unavailable. Please try again shortly."
)

// errOverloaded is the answer past a cap: retryable, so SDKs back off and
// try again.
func errOverloaded() *awserr.Error { return awserr.New(awserr.CodeUnavailable, msgOverloaded) }

func errTimedOut(cause error) *awserr.Error {
	e := awserr.New(awserr.CodeServiceUnavailable, msgTimedOut)
	e.Cause = cause
	return e
}

func errBodyTooLarge(max int64) *awserr.Error {
	return awserr.Newf(awserr.CodeMalformedQueryString, "The request body is larger than %d bytes.", max)
}

// errClientGone marks a request whose client went away: nothing is
// written and nothing is logged as an error.
var errClientGone = errors.New("client went away")

// requestContext gives the work on a request its deadline.
func (s *Server) requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	if d := s.limits.RequestTimeout; d > 0 {
		return context.WithTimeout(r.Context(), d)
	}
	return context.WithCancel(r.Context())
}

// outcome maps what the work returned when its context ended: a client
// that went away is not a server error, a deadline is a retryable 503.
func outcome(r *http.Request, ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if r.Context().Err() != nil {
		return errClientGone
	}
	if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) && isInternal(err) {
		return errTimedOut(err)
	}
	if errors.Is(err, store.ErrUnavailable) && isInternal(err) {
		// A stalled or unreachable store: retryable, not amigo's fault.
		e := awserr.New(awserr.CodeServiceUnavailable, msgStoreDown)
		e.Cause = err
		return e
	}
	return err
}

func isInternal(err error) bool {
	var e *awserr.Error
	return !errors.As(err, &e) || e.Status >= 500
}
