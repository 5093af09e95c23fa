package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Options tune a Deliverer; zero fields take the defaults below.
type Options struct {
	// Poll is how often the outbox is read when the last read found
	// nothing to do (default 250ms).
	Poll time.Duration
	// Timeout bounds one POST (default 10s).
	Timeout time.Duration
	// Lease is how long a claimed message is this process's (default
	// Timeout + 20s): longer than a delivery, so another process takes
	// it over only when this one died.
	Lease time.Duration
	// BaseBackoff and MaxBackoff bound the wait after a failed delivery:
	// BaseBackoff doubled per attempt, at most MaxBackoff, then jittered
	// to between half and all of it (defaults 250ms, 1m).
	BaseBackoff, MaxBackoff time.Duration
	// MaxAge gives a message up when it is still undelivered this long
	// after it was written (default 24h, as EventBridge retries).
	MaxAge time.Duration
	// Batch is how many messages one claim takes and delivers at once,
	// each of another key (default 16).
	Batch int
	// Client sends the POSTs (default a client with Timeout).
	Client *http.Client
	// Observer hears of every delivery, for metrics; may be nil.
	Observer Observer
	Log      *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Observer hears what a Deliverer does. It must be quick.
type Observer interface {
	// Delivered counts a message the receiver accepted; Failed a delivery
	// attempt that did not succeed (and is retried); GaveUp a message
	// dropped after MaxAge; Rejected a message dropped because the
	// receiver refused it for good (see Permanent).
	Delivered()
	Failed()
	GaveUp()
	Rejected()
	// Backlog reports the undelivered messages after a round.
	Backlog(n int)
}

// Deliverer POSTs one topic's messages to a URL, as application/json, and
// counts any 2xx answer as delivered; a permanent refusal (Permanent) gives
// the message up at once, and anything else is retried with backoff. It never holds a store transaction
// while it waits for the receiver.
type Deliverer struct {
	store Store
	topic string
	url   string
	opts  Options
}

// NewDeliverer returns a deliverer of topic's messages in store to url.
func NewDeliverer(store Store, topic, url string, opts Options) *Deliverer {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = opts.Timeout + 20*time.Second
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 24 * time.Hour
	}
	if opts.Batch <= 0 {
		opts.Batch = 16
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: opts.Timeout}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Deliverer{store: store, topic: topic, url: url, opts: opts}
}

// Run delivers until ctx ends. Store errors are logged and the round is
// tried again after Poll: the outbox keeps the messages meanwhile.
func (d *Deliverer) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	backlogAt := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := d.Round(ctx)
		if err != nil && ctx.Err() == nil {
			d.opts.Log.Warn("events: outbox round failed", "error", err)
		}
		// Counting is a scan of the outbox: at most once a second.
		if o := d.opts.Observer; o != nil && time.Since(backlogAt) >= time.Second {
			if b, err := d.store.Backlog(ctx, d.topic); err == nil {
				o.Backlog(b)
				backlogAt = time.Now()
			}
		}
		if n == d.opts.Batch && err == nil {
			t.Reset(0) // a full batch: more may be due
		} else {
			t.Reset(d.opts.Poll)
		}
	}
}

// Round claims the due messages (up to Batch) and delivers them, each key
// at most once per round, in parallel; it returns how many it claimed.
func (d *Deliverer) Round(ctx context.Context) (int, error) {
	now := d.opts.Now()
	msgs, err := d.store.Claim(ctx, d.topic, now, d.opts.Lease, d.opts.Batch)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done []int64
		errs []error
	)
	for _, m := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if now.Sub(m.Created) > d.opts.MaxAge {
				d.opts.Log.Warn("events: giving up an undelivered event", "id", m.ID, "key", m.Key, "attempts", m.Attempts)
				d.observe(Observer.GaveUp)
				mu.Lock()
				done = append(done, m.Seq)
				mu.Unlock()
				return
			}
			err := d.post(ctx, m)
			var refused *Refused
			if errors.As(err, &refused) && Permanent(refused.Status) {
				// The same body would be refused again for 24 hours, and
				// hold up the image's later events meanwhile.
				d.opts.Log.Warn("events: the receiver refused an event; giving it up", "id", m.ID, "key", m.Key,
					"status", refused.Status, "attempt", m.Attempts+1)
				d.observe(Observer.Rejected)
				mu.Lock()
				done = append(done, m.Seq)
				mu.Unlock()
				return
			}
			if err != nil {
				d.observe(Observer.Failed)
				d.opts.Log.Info("events: delivery failed", "id", m.ID, "attempt", m.Attempts+1, "error", err)
				// A fresh context: the lease must end even when ctx did.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				if err := d.store.Retry(rctx, m.Seq, d.opts.Now().Add(d.backoff(m.Attempts))); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				return
			}
			d.observe(Observer.Delivered)
			mu.Lock()
			done = append(done, m.Seq)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(done) > 0 {
		// Delivered messages must be marked even as the process stops;
		// one that is not is delivered again (at least once).
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := d.store.Done(dctx, done); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return len(msgs), errs[0]
	}
	return len(msgs), nil
}

func (d *Deliverer) observe(f func(Observer)) {
	if d.opts.Observer != nil {
		f(d.opts.Observer)
	}
}

// backoff is the wait after the failed attempt number attempts+1: base
// doubled per attempt, capped, with full jitter over its upper half so
// that many messages failing at once do not retry in step.
func (d *Deliverer) backoff(attempts int) time.Duration {
	b := d.opts.MaxBackoff
	if attempts < 30 {
		b = min(b, d.opts.BaseBackoff<<attempts)
	}
	return b/2 + rand.N(b/2+1)
}

func (d *Deliverer) post(ctx context.Context, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(m.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "amigo-events")
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &Refused{Status: resp.StatusCode, Text: resp.Status}
	}
	return nil
}

// Refused is a receiver's answer other than 2xx.
type Refused struct {
	Status int
	Text   string // the status line's text, for the log
}

func (r *Refused) Error() string { return fmt.Sprintf("receiver answered %s", r.Text) }

// Permanent reports an answer that retrying the same message cannot
// change: a 4xx, except 408 (Request Timeout) and 429 (Too Many
// Requests), which say "later". 5xx, 3xx and network errors are retried
// until MaxAge, as EventBridge retries its targets.
func Permanent(status int) bool {
	return status >= 400 && status <= 499 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
}
