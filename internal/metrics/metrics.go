// Package metrics holds amigo's Prometheus collectors and the small API the
// rest of the program reports through: the edge (requests, in flight, shed,
// injected faults) and the store engines (commits, through the Commit
// method, which satisfies their observer interfaces without them importing
// Prometheus). Every method is safe on a nil *Metrics, so code that runs
// without metrics needs no checks. docs/operations.md documents each metric.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// Unknown is the action label of requests whose action is not one amigo
// serves, and the code label of codes outside awserr's table: labels only
// take known values, so a client cannot grow the series without bound.
const Unknown = "unknown"

// Metrics is one registry with amigo's collectors.
type Metrics struct {
	reg     *prometheus.Registry
	actions map[string]bool

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	shed     prometheus.Counter
	refused  prometheus.Counter
	faults   *prometheus.CounterVec

	commits    prometheus.Counter
	batch      prometheus.Histogram
	commitTime prometheus.Histogram
	fsyncTime  prometheus.Histogram

	eventsState // events.go
}

// New returns the collectors, registered with the Go runtime and process
// collectors. actions are the action names the action label may take.
func New(actions []string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), actions: make(map[string]bool, len(actions))}
	for _, a := range actions {
		m.actions[a] = true
	}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "amigo_requests_total",
		Help: "Requests answered, by action, EC2 error code (empty on success) and HTTP status.",
	}, []string{"action", "code", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "amigo_request_duration_seconds",
		Help:    "Time from receiving a request to finishing its answer, by action.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"action"})
	m.shed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "amigo_requests_shed_total",
		Help: "Requests refused with a retryable 503 because the in-flight cap or the run queue was full.",
	})
	m.refused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "amigo_connections_refused_total",
		Help: "Connections refused at the connection cap (--max-conns): answered 503 Unavailable and closed, or closed at once when many are being refused.",
	})
	m.faults = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "amigo_faults_injected_total",
		Help: "Faults injected by the rules of /_amigo/faults, by action and kind (error, delay, outcome).",
	}, []string{"action", "kind"})
	m.commits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "amigo_store_commits_total",
		Help: "Write transactions the store committed (SQLite: one per group commit).",
	})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "amigo_store_commit_batch_size",
		Help:    "Updates folded into one committed transaction by the SQLite group commit.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
	})
	m.commitTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "amigo_store_commit_duration_seconds",
		Help:    "Time of one write transaction, from BEGIN to durable COMMIT.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
	})
	m.fsyncTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "amigo_store_fsync_duration_seconds",
		Help:    "Time of the COMMIT statement alone, which with synchronous=FULL is the WAL fsync.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
	})
	m.reg.MustRegister(m.requests, m.duration, m.shed, m.refused, m.faults,
		m.commits, m.batch, m.commitTime, m.fsyncTime,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry is the registry, for tests and for collectors added later.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Action is the action label for action: itself when known, else Unknown.
func (m *Metrics) Action(action string) string {
	if m.actions[action] {
		return action
	}
	return Unknown
}

// edgeCodes are the access log's codes for answers that never reached the
// client: it went away (HTTP status 499) or stopped reading (status 0).
var edgeCodes = map[string]bool{"ClientClosedRequest": true, "ClientTimeout": true}

// Code is the code label: "" on success, the code when awserr's table has
// it (or it is one of the edge's own), else Unknown.
func Code(code string) string {
	if code == "" || awserr.Known(code) || edgeCodes[code] {
		return code
	}
	return Unknown
}

// Request counts one answered request and its duration.
func (m *Metrics) Request(action, code string, status int, d time.Duration) {
	if m == nil {
		return
	}
	a := m.Action(action)
	m.requests.WithLabelValues(a, Code(code), strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(a).Observe(d.Seconds())
}

// WatchInFlight exports the edge's count of requests in flight (those
// holding a slot of its cap), read on scrape.
func (m *Metrics) WatchInFlight(n func() int) {
	if m == nil || n == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "amigo_requests_in_flight",
		Help: "Units of the in-flight cap (--max-in-flight) held by requests being worked on: one per small call, more for a listing.",
	}, func() float64 { return float64(n()) }))
}

// WatchInFlightLimit exports the in-flight cap in force: it adapts below
// --max-in-flight to the time requests take (--target-latency).
func (m *Metrics) WatchInFlightLimit(n func() int) {
	if m == nil || n == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "amigo_requests_in_flight_limit",
		Help: "The in-flight cap in force, between a floor and --max-in-flight, following --target-latency.",
	}, func() float64 { return float64(n()) }))
}

// Shed counts a request refused because too many were in flight.
func (m *Metrics) Shed() {
	if m == nil {
		return
	}
	m.shed.Inc()
}

// ConnRefused counts a connection refused at the connection cap; its
// request, if any, never reaches the handler, so it is in no other count.
func (m *Metrics) ConnRefused() {
	if m == nil {
		return
	}
	m.refused.Inc()
}

// Fault counts one injected fault of kind (error, delay or outcome).
func (m *Metrics) Fault(action, kind string) {
	if m == nil {
		return
	}
	m.faults.WithLabelValues(m.Action(action), kind).Inc()
}

// Commit records one committed write transaction of batch updates: total
// is its whole time, fsync the COMMIT's. It satisfies the store engines'
// observer interfaces.
func (m *Metrics) Commit(batch int, total, fsync time.Duration) {
	if m == nil {
		return
	}
	m.commits.Inc()
	m.batch.Observe(float64(batch))
	m.commitTime.Observe(total.Seconds())
	m.fsyncTime.Observe(fsync.Seconds())
}

// CacheStats is what a store with a read cache reports.
type CacheStats interface {
	CacheStats() (hits, misses uint64)
}

// WatchCache exports the read cache's hits and misses, read on scrape.
func (m *Metrics) WatchCache(c CacheStats) {
	if m == nil || c == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "amigo_store_cache_hits_total",
			Help: "Reads of an image, a resource's tags or a setting that the SQLite read cache answered.",
		}, func() float64 { h, _ := c.CacheStats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "amigo_store_cache_misses_total",
			Help: "Reads of an image, a resource's tags or a setting that went to SQLite.",
		}, func() float64 { _, ms := c.CacheStats(); return float64(ms) }))
}

// ImageCounter counts the stored images of each region.
type ImageCounter interface {
	ImagesPerRegion(ctx context.Context) (map[string]int64, error)
}

// WatchImages exports amigo_images{region}, counted on scrape from the
// store's region index; a scrape within minAge of the last count reuses it,
// so frequent scrapes of a large store cost one count per minAge.
func (m *Metrics) WatchImages(c ImageCounter, minAge time.Duration) {
	if m == nil || c == nil {
		return
	}
	m.reg.MustRegister(&imageCollector{c: c, minAge: minAge, desc: prometheus.NewDesc("amigo_images",
		"Images stored per region (deregistered ones included until they are purged).", []string{"region"}, nil)})
}

type imageCollector struct {
	c      ImageCounter
	minAge time.Duration
	desc   *prometheus.Desc

	mu     sync.Mutex
	at     time.Time
	counts map[string]int64
}

func (ic *imageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- ic.desc }

func (ic *imageCollector) Collect(ch chan<- prometheus.Metric) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.counts == nil || time.Since(ic.at) >= ic.minAge {
		// A scrape must not hang on a busy store: a bounded count, and the
		// last good one if it fails.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		counts, err := ic.c.ImagesPerRegion(ctx)
		cancel()
		if err == nil {
			ic.counts, ic.at = counts, time.Now()
		}
	}
	for r, n := range ic.counts {
		ch <- prometheus.MustNewConstMetric(ic.desc, prometheus.GaugeValue, float64(n), r)
	}
}

// WatchAuditDrops exports how many audit events the asynchronous queue
// (refused calls; reads with --audit-reads) dropped, read on scrape.
func (m *Metrics) WatchAuditDrops(n func() int64) {
	if m == nil || n == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "amigo_audit_events_dropped_total",
		Help: "Audit events of refused calls (and of reads, with --audit-reads) lost because the asynchronous queue was full or its write failed.",
	}, func() float64 { return float64(n()) }))
}
