package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// EventMetrics count the AMI state change events' deliveries; they
// satisfy outbox.Observer.
type EventMetrics struct {
	delivered, failed, gaveUp, rejected prometheus.Counter
	backlog                             prometheus.Gauge
}

// Events returns the event delivery collectors, registered on first use
// (only a server with --events-url has them). Safe on a nil *Metrics: it
// then returns nil, which outbox accepts as no observer.
func (m *Metrics) Events() *EventMetrics {
	if m == nil {
		return nil
	}
	m.eventsOnce.Do(func() {
		e := &EventMetrics{
			delivered: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "amigo_events_delivered_total",
				Help: "AMI state change events the --events-url receiver accepted (2xx).",
			}),
			failed: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "amigo_events_delivery_failures_total",
				Help: "Event delivery attempts that failed (no answer, a timeout, or a 3xx, 5xx, 408 or 429 answer); each is retried with backoff.",
			}),
			gaveUp: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "amigo_events_dropped_total",
				Help: "Events given up, undelivered 24 hours after their change.",
			}),
			rejected: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "amigo_events_rejected_total",
				Help: "Events given up at once because the receiver refused them for good (a 4xx other than 408 and 429).",
			}),
			backlog: prometheus.NewGauge(prometheus.GaugeOpts{
				Name: "amigo_events_backlog",
				Help: "Events in the outbox not yet delivered, due or scheduled (read at most once a second).",
			}),
		}
		m.reg.MustRegister(e.delivered, e.failed, e.gaveUp, e.rejected, e.backlog)
		m.events = e
	})
	return m.events
}

// Delivered implements outbox.Observer.
func (e *EventMetrics) Delivered() { e.delivered.Inc() }

// Failed implements outbox.Observer.
func (e *EventMetrics) Failed() { e.failed.Inc() }

// GaveUp implements outbox.Observer.
func (e *EventMetrics) GaveUp() { e.gaveUp.Inc() }

// Rejected implements outbox.Observer.
func (e *EventMetrics) Rejected() { e.rejected.Inc() }

// Backlog implements outbox.Observer.
func (e *EventMetrics) Backlog(n int) { e.backlog.Set(float64(n)) }

// eventsState is the lazily registered event collectors.
type eventsState struct {
	eventsOnce sync.Once
	events     *EventMetrics
}
