package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// RunConfig is one load run.
type RunConfig struct {
	Endpoint string
	Region   string
	// Principals sign the requests; see principals.
	Principals []*Principal
	// Images are the images the image kinds name; each is used with its
	// owner's principal. Images of owners without a principal are skipped.
	Images      []OwnedImage
	Mix         Mix
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	// Progress, when set, receives a live status line ("\r…") twice a second.
	Progress io.Writer
	// Backoff, when positive, makes a worker that got a 503 (the server
	// shedding load) wait a random time up to Backoff, doubled per 503 in a
	// row up to 20×, before its next request, as the SDKs' retryers do;
	// those 503s count as shed rather than failed.
	Backoff time.Duration
}

// Limits that keep a run bounded.
const (
	maxConcurrency = 4096
	maxDuration    = 24 * time.Hour
	// drainGrace is how long requests still in flight at the end of the
	// measured window may take before they are cancelled; they are not
	// counted either way.
	drainGrace = 5 * time.Second
)

func (c *RunConfig) check() error {
	switch {
	case c.Concurrency < 1 || c.Concurrency > maxConcurrency:
		return fmt.Errorf("--concurrency must be from 1 to %d", maxConcurrency)
	case c.Duration <= 0 || c.Duration > maxDuration:
		return fmt.Errorf("--duration must be positive and at most %s", maxDuration)
	case c.Warmup < 0 || c.Warmup > maxDuration:
		return fmt.Errorf("--warmup must be from 0 to %s", maxDuration)
	case len(c.Principals) == 0:
		return errors.New("no account of the bootstrap file has an access key")
	case c.Mix.total == 0:
		return errors.New("empty mix")
	}
	return nil
}

// target is an image with the principal that owns it.
type target struct {
	p    *Principal
	id   string
	snap string // the image's root snapshot, when the ids file names it
}

// plan is what workers share, read-only.
type plan struct {
	cfg     *RunConfig
	client  *client
	targets []target
	// other maps an account to another account id it grants launch
	// permission to.
	other map[string]string
}

func newPlan(cfg *RunConfig, c *client) (*plan, error) {
	byAccount := make(map[string]*Principal, len(cfg.Principals))
	for _, p := range cfg.Principals {
		byAccount[p.Account] = p
	}
	pl := &plan{cfg: cfg, client: c, other: make(map[string]string)}
	for _, im := range cfg.Images {
		if p := byAccount[im.Owner]; p != nil {
			if cfg.Mix.weights[DescribeSnapshotID] > 0 && im.Snapshot == "" {
				continue // only images with a known snapshot serve that kind
			}
			pl.targets = append(pl.targets, target{p: p, id: im.ID, snap: im.Snapshot})
		}
	}
	if cfg.Mix.needsImages() && len(pl.targets) == 0 {
		return nil, fmt.Errorf("the mix %s names images, but no image of an account with a key is known: run `amigo bench populate` first or pass --ids", cfg.Mix)
	}
	for i, p := range cfg.Principals {
		o := cfg.Principals[(i+1)%len(cfg.Principals)].Account
		if o == p.Account {
			o = strangerAccount
		}
		pl.other[p.Account] = o
	}
	return pl, nil
}

// strangerAccount is the grantee when the file has a single account.
const strangerAccount = "999988887777"

// kindStats is what one worker saw of one kind.
type kindStats struct {
	hist   Histogram // latency of successful requests
	count  uint64    // every request completed in the window
	failed uint64
	non2xx uint64
	shed   uint64 // 503s with Backoff set
	codes  map[string]uint64
}

func (s *kindStats) merge(o *kindStats) {
	s.hist.Merge(&o.hist)
	s.count += o.count
	s.failed += o.failed
	s.non2xx += o.non2xx
	s.shed += o.shed
	for c, n := range o.codes {
		if s.codes == nil {
			s.codes = make(map[string]uint64)
		}
		s.codes[c] += n
	}
}

// worker is one connection's worth of load.
type worker struct {
	pl      *plan
	rng     *rand.Rand
	buf     bytes.Buffer
	stats   [numKinds]*kindStats
	grant   bool  // flips at every modify-permission: true adds, false removes
	lastErr error // of a request without answer, in the window
	shedRun int   // 503s in a row, for the backoff
}

// backoff sleeps after a 503 like an SDK retryer: a random time up to
// Backoff·2^(n-1), at most 20·Backoff.
func (w *worker) backoff(ctx context.Context, r result) {
	if w.pl.cfg.Backoff <= 0 {
		return
	}
	if r.status != 503 {
		w.shedRun = 0
		return
	}
	w.shedRun++
	d := min(w.pl.cfg.Backoff<<min(w.shedRun-1, 5), 20*w.pl.cfg.Backoff)
	t := time.NewTimer(time.Duration(w.rng.Int64N(int64(d) + 1)))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// body builds the request for kind k and returns it with its signer.
func (w *worker) body(k Kind) ([]byte, *Principal) {
	var t target
	if k.needsImage() {
		t = w.pl.targets[w.rng.IntN(len(w.pl.targets))]
	} else {
		ps := w.pl.cfg.Principals
		t.p = ps[w.rng.IntN(len(ps))]
	}
	var f *form
	switch k {
	case DescribeID:
		f = newForm("DescribeImages").add("ImageId.1", t.id)
	case DescribeSelf:
		f = newForm("DescribeImages").add("Owner.1", "self")
	case DescribeAll:
		f = newForm("DescribeImages")
	case ModifyDescription:
		f = newForm("ModifyImageAttribute").add("ImageId", t.id).
			add("Description.Value", "bench "+strconv.FormatUint(w.rng.Uint64(), 36))
	case ModifyPermission:
		op := "LaunchPermission.Remove.1.UserId"
		if w.grant = !w.grant; w.grant {
			op = "LaunchPermission.Add.1.UserId"
		}
		f = newForm("ModifyImageAttribute").add("ImageId", t.id).add(op, w.pl.other[t.p.Account])
	case DescribeAttribute:
		f = newForm("DescribeImageAttribute").add("ImageId", t.id).add("Attribute", "launchPermission")
	case DescribeSnapshotID:
		f = newForm("DescribeSnapshots").add("SnapshotId.1", t.snap)
	default:
		panic("bench: unknown kind " + k.String())
	}
	return f.b, t.p
}

// one sends one request of kind k and judges the answer.
func (w *worker) one(ctx context.Context, k Kind) (result, error) {
	body, p := w.body(k)
	r, err := w.pl.client.do(ctx, p, body, &w.buf)
	if err == nil && r.code == "" && k == DescribeID && !bytes.Contains(w.buf.Bytes(), []byte("<imageId>")) {
		r.code = codeEmptyResult
	}
	if err == nil && r.code == "" && k == DescribeSnapshotID && !bytes.Contains(w.buf.Bytes(), []byte("<snapshotId>")) {
		r.code = codeEmptyResult
	}
	return r, err
}

func (w *worker) record(k Kind, r result, err error, d time.Duration) {
	if err != nil {
		w.lastErr = err
	}
	s := w.stats[k]
	if s == nil {
		s = &kindStats{}
		w.stats[k] = s
	}
	s.count++
	if r.status != 0 && r.status/100 != 2 {
		s.non2xx++
	}
	if r.status == 503 && w.pl.cfg.Backoff > 0 {
		s.shed++
		return
	}
	if r.code == "" {
		s.hist.Record(d)
		return
	}
	s.failed++
	if s.codes == nil {
		s.codes = make(map[string]uint64)
	}
	s.codes[r.code]++
}

// Run drives the endpoint with cfg.Concurrency workers for the warm-up and
// then the measured duration, and reports on the measured window only: a
// request counts when it started after the warm-up and finished before the
// end. Cancelling ctx ends the run early; the report then covers the
// window up to that moment.
func Run(ctx context.Context, cfg RunConfig) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	c, err := newClient(cfg.Endpoint, cfg.Region, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	defer c.close()
	pl, err := newPlan(&cfg, c)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	measureStart := start.Add(cfg.Warmup)
	measureEnd := measureStart.Add(cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, measureEnd.Add(drainGrace))
	defer cancel()

	var done atomic.Uint64 // requests finished, warm-up included, for the progress line
	workers := make([]*worker, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{pl: pl, rng: rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i)))}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(measureEnd) {
					return
				}
				k := cfg.Mix.pick(w.rng)
				r, err := w.one(ctx, k)
				t1 := time.Now()
				done.Add(1)
				if !t0.Before(measureStart) && !t1.After(measureEnd) && ctx.Err() == nil {
					w.record(k, r, err, t1.Sub(t0))
				}
				w.backoff(ctx, r)
			}
		}()
	}
	stopProgress := showRunProgress(cfg.Progress, &done, start, measureStart, measureEnd)
	wg.Wait()
	stopProgress()

	end := time.Now()
	window := cfg.Duration
	if end.Before(measureEnd) { // interrupted
		window = max(end.Sub(measureStart), 0)
	}
	return newReport(&cfg, window, workers), nil
}

func showRunProgress(out io.Writer, done *atomic.Uint64, start, measureStart, measureEnd time.Time) (stop func()) {
	if out == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		last, lastT := uint64(0), start
		for {
			select {
			case <-quit:
				fmt.Fprint(out, "\r\033[K")
				return
			case now := <-tick.C:
				n := done.Load()
				rate := float64(n-last) / now.Sub(lastT).Seconds()
				last, lastT = n, now
				phase := "measuring"
				if now.Before(measureStart) {
					phase = "warming up"
				}
				left := max(measureEnd.Sub(now), 0).Round(time.Second)
				fmt.Fprintf(out, "\r\033[K%s  %d requests  %.0f req/s  %s left", phase, n, rate, left)
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// sortedCodes returns codes by count, most frequent first.
func sortedCodes(m map[string]uint64) []string {
	cs := make([]string, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if m[cs[i]] != m[cs[j]] {
			return m[cs[i]] > m[cs[j]]
		}
		return cs[i] < cs[j]
	})
	return cs
}
