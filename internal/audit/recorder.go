package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/amigo-ec2/amigo/internal/store"
)

// Defaults of Options.
const (
	DefaultRetention = 90 * 24 * time.Hour // CloudTrail's event history
	DefaultMaxEvents = 1_000_000           // per account
	DefaultQueue     = 4096
	pruneBatch       = 256
	pruneEvery       = time.Minute
	asyncBatch       = 128
)

// Options tune a Recorder; zero fields take the defaults.
type Options struct {
	// Reads records read-only calls too (--audit-reads).
	Reads bool
	// Retention is how long events are kept (--audit-retention).
	Retention time.Duration
	// MaxEvents bounds each account's trail (--audit-max-events).
	MaxEvents int
	// Queue bounds the asynchronous queue of refused calls and reads;
	// past it they are dropped and counted.
	Queue int
	Now   func() time.Time
	NewID func() string
	// Dropped, when set, hears of each event the full queue dropped.
	Dropped func()
	Log     *slog.Logger
}

// newEventID is a version 7 UUID: ordered by time, so the engines append
// each event's EventId row to their index instead of dirtying a random page
// of it per event. A failure of the random source falls back to version 4.
func newEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// Recorder records calls: a successful change in its own transaction
// (through the context, see Begin), everything else through a bounded
// queue that a background writer drains.
type Recorder struct {
	st    Store
	opts  Options
	queue chan *Event
	drops atomic.Int64
	wg    sync.WaitGroup
	// idle is signalled when the writer finds the queue empty (Flush).
	mu    sync.Mutex
	idle  *sync.Cond
	inFly int
}

// New returns a Recorder over st. Call Run to start its writer and pruner.
func New(st Store, o Options) *Recorder {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = newEventID
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{st: st, opts: o, queue: make(chan *Event, o.Queue)}
	r.idle = sync.NewCond(&r.mu)
	return r
}

// Now is the recorder's clock (event times, the retention window).
func (r *Recorder) Now() time.Time { return r.opts.Now() }

// Retention is the window LookupEvents searches by default.
func (r *Recorder) Retention() time.Duration { return r.opts.Retention }

// Dropped returns how many events the full queue dropped.
func (r *Recorder) Dropped() int64 { return r.drops.Load() }

// Call is what the edge knows of a call before it runs.
type Call struct {
	Account, Region string
	Name, Source    string
	ReadOnly        bool
	Identity        Identity
	SourceIP        string
	UserAgent       string
	RequestID       string
}

// Pending is the event of one call in progress. It rides in the call's
// context as a store.Attachment, so the call's first successful update
// writes it in its own transaction.
type Pending struct {
	r *Recorder
	e *Event
	// created holds response elements of the resources the call creates.
	created map[string][]string
	// mu guards e and created against Created from the caller while an
	// engine's writer goroutine writes the event.
	mu sync.Mutex
	// ready is the event Prepare encoded, while nothing changed since
	// (gen counts the changes: SetParameters, Created).
	ready         *Event
	gen, readyGen uint64
}

type pendingKey struct{}

// Begin starts recording c and returns the context the call runs with.
func (r *Recorder) Begin(ctx context.Context, c Call) (context.Context, *Pending) {
	p := &Pending{r: r, e: &Event{
		Account: c.Account, Region: c.Region, Name: c.Name, Source: c.Source, ReadOnly: c.ReadOnly,
		Identity: c.Identity, SourceIP: c.SourceIP, UserAgent: cut(c.UserAgent, 1024), RequestID: c.RequestID,
	}}
	if !c.ReadOnly {
		ctx = store.Attach(ctx, p)
	}
	return context.WithValue(ctx, pendingKey{}, p), p
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// SetParameters records the decoded input of the call (see Parameters).
func (p *Pending) SetParameters(action string, in any) {
	params, res := Parameters(action, in)
	p.mu.Lock()
	p.e.RequestParameters = params
	p.e.Resources = appendResources(p.e.Resources, res...)
	p.gen++
	p.mu.Unlock()
}

// SetRequestParameters records params (JSON; nil is null) as the call's
// requestParameters, for calls that are not EC2's (see JSONParameters).
func (p *Pending) SetRequestParameters(params json.RawMessage) {
	p.mu.Lock()
	p.e.RequestParameters = params
	p.mu.Unlock()
}

func appendResources(list []Resource, add ...Resource) []Resource {
	for _, r := range add {
		dup := false
		for _, have := range list {
			if have == r {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, r)
		}
	}
	return list
}

// Created notes the resources the call in ctx creates: the event names
// them, and its response elements carry their ids under field ("imageId";
// several as items, "instancesSet"). Domain code calls it in or before the
// update that stores them; a retried update's call replaces the earlier
// one's. Without a call in progress it does nothing.
func Created(ctx context.Context, field string, ids ...string) {
	p, _ := ctx.Value(pendingKey{}).(*Pending)
	if p == nil || len(ids) == 0 || ids[0] == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.created == nil {
		p.created = map[string][]string{}
	}
	p.created[field] = append([]string(nil), ids...)
	p.gen++
}

// WriteTx writes the event of a successful change in the change's own
// transaction (store.Attachment).
func (p *Pending) WriteTx(ctx context.Context, tx any) error {
	t, ok := tx.(Tx)
	if !ok {
		return nil
	}
	p.mu.Lock()
	e := p.ready
	if p.readyGen != p.gen {
		e = nil
	}
	p.ready = nil // a retry writes a fresh copy
	p.mu.Unlock()
	if e == nil {
		e = p.final(nil)
	}
	return t.InsertEvent(ctx, e)
}

// Prepare completes and encodes the event of a successful change before
// its update is queued (store.Preparer), so the engine's writer only
// inserts it. Its time is then when the update was queued, not written.
func (p *Pending) Prepare() {
	e := p.final(nil)
	if _, err := e.Encode(); err != nil {
		return // WriteTx encodes again, and reports it
	}
	p.mu.Lock()
	p.ready, p.readyGen = e, p.gen
	p.mu.Unlock()
}

// final completes the event for writing: time, id, and the outcome (err
// nil is success). Each call makes a fresh copy, since a retried update
// writes again.
func (p *Pending) final(err *Failure) *Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := *p.e
	e.Resources = append([]Resource(nil), p.e.Resources...)
	for _, field := range slices.Sorted(maps.Keys(p.created)) {
		for _, id := range p.created[field] {
			if r, ok := ResourceOf(id); ok {
				e.Resources = appendResources(e.Resources, r)
			}
		}
	}
	e.Time = p.r.opts.Now()
	if p.e.ID == "" {
		p.e.ID = p.r.opts.NewID()
	}
	e.ID = p.e.ID
	switch {
	case err != nil:
		e.ErrorCode, e.ErrorMessage = err.Code, err.Message
	case !e.ReadOnly:
		resp := map[string]any{"requestId": e.RequestID}
		for k, ids := range p.created {
			if len(ids) == 1 && !strings.HasSuffix(k, "Set") {
				resp[k] = ids[0]
				continue
			}
			items := make([]map[string]string, len(ids))
			for i, id := range ids {
				items[i] = map[string]string{strings.TrimSuffix(k, "sSet") + "Id": id}
			}
			resp[k] = map[string]any{"items": items}
		}
		if len(p.created) == 0 {
			resp["_return"] = true
		}
		e.ResponseElements, _ = json.Marshal(resp)
	}
	return &e
}

// Failure is a refused call's outcome as CloudTrail records it.
type Failure struct{ Code, Message string }

// Finish ends the call. A change already written in its transaction is
// done; anything else (a refusal, a read with Options.Reads, a change
// call that changed nothing) goes through the queue. failure is nil on
// success.
func (p *Pending) Finish(ctx context.Context, failure *Failure) {
	if p == nil {
		return
	}
	if failure == nil && store.WasCommitted(ctx) {
		return
	}
	if failure == nil && p.e.ReadOnly && !p.r.opts.Reads {
		return
	}
	if failure != nil && store.WasCommitted(ctx) {
		// A call that failed after committing a change (none does today)
		// keeps the one event its change wrote.
		return
	}
	p.r.enqueue(p.final(failure))
}

func (r *Recorder) enqueue(e *Event) {
	r.mu.Lock()
	r.inFly++
	r.mu.Unlock()
	select {
	case r.queue <- e:
	default:
		r.done(1)
		r.drops.Add(1)
		if r.opts.Dropped != nil {
			r.opts.Dropped()
		}
	}
}

func (r *Recorder) done(n int) {
	r.mu.Lock()
	r.inFly -= n
	if r.inFly == 0 {
		r.idle.Broadcast()
	}
	r.mu.Unlock()
}

// Flush waits until every queued event is written (tests, shutdown).
func (r *Recorder) Flush() {
	r.mu.Lock()
	for r.inFly > 0 {
		r.idle.Wait()
	}
	r.mu.Unlock()
}

// Run writes queued events in batches and prunes the trail until ctx ends,
// then writes what is still queued.
func (r *Recorder) Run(ctx context.Context) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.prune(ctx)
	}()
	batch := make([]*Event, 0, asyncBatch)
	for {
		select {
		case e := <-r.queue:
			batch = append(batch[:0], e)
		fill:
			for len(batch) < asyncBatch {
				select {
				case e := <-r.queue:
					batch = append(batch, e)
				default:
					break fill
				}
			}
			r.write(batch)
		case <-ctx.Done():
			for {
				select {
				case e := <-r.queue:
					r.write([]*Event{e})
				default:
					r.wg.Wait()
					return
				}
			}
		}
	}
}

func (r *Recorder) write(batch []*Event) {
	err := r.st.UpdateAudit(context.Background(), func(tx PruneTx) error {
		for _, e := range batch {
			if err := tx.InsertEvent(context.Background(), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.opts.Log.Warn("audit: events lost", "events", len(batch), "err", err)
		r.drops.Add(int64(len(batch)))
		if r.opts.Dropped != nil {
			for range batch {
				r.opts.Dropped()
			}
		}
	}
	r.done(len(batch))
}

// prune keeps the trail within its bounds, one small transaction at a
// time, so that pruning never holds the writer for long.
func (r *Recorder) prune(ctx context.Context) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		r.PruneOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneOnce deletes what is past retention and past each account's bound,
// in batches of pruneBatch, each its own transaction.
func (r *Recorder) PruneOnce(ctx context.Context) {
	cutoff := r.opts.Now().Add(-r.opts.Retention)
	for ctx.Err() == nil {
		n := 0
		err := r.st.UpdateAudit(ctx, func(tx PruneTx) (err error) {
			n, err = tx.PruneBefore(ctx, cutoff, pruneBatch)
			return err
		})
		if err != nil {
			r.opts.Log.Warn("audit: prune", "err", err)
			return
		}
		if n < pruneBatch {
			break
		}
	}
	over, err := r.st.AccountsOver(ctx, r.opts.MaxEvents)
	if err != nil {
		r.opts.Log.Warn("audit: prune", "err", err)
		return
	}
	for _, acct := range over {
		for ctx.Err() == nil {
			n := 0
			err := r.st.UpdateAudit(ctx, func(tx PruneTx) (err error) {
				n, err = tx.PruneAccount(ctx, acct, r.opts.MaxEvents, pruneBatch)
				return err
			})
			if err != nil {
				r.opts.Log.Warn("audit: prune", "account", acct, "err", err)
				return
			}
			if n < pruneBatch {
				break
			}
		}
	}
}
