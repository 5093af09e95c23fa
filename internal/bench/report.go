package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run over its measured window.
type Report struct {
	Endpoint        string         `json:"endpoint"`
	Region          string         `json:"region"`
	Mix             string         `json:"mix"`
	Concurrency     int            `json:"concurrency"`
	WarmupSeconds   float64        `json:"warmup_s"`
	DurationSeconds float64        `json:"duration_s"` // the measured window
	Total           Totals         `json:"total"`
	Actions         []ActionReport `json:"actions"`
	// TransportError is one of the errors of requests that got no HTTP
	// answer, if any did.
	TransportError string `json:"transport_error,omitempty"`
}

// Totals sums every action.
type Totals struct {
	Requests      uint64  `json:"requests"`
	RPS           float64 `json:"rps"`
	Failed        uint64  `json:"failed"`
	Non2xx        uint64  `json:"non_2xx"`
	Shed          uint64  `json:"shed,omitempty"`
	OKRPS         float64 `json:"ok_rps"` // answered with success
	FailedPercent float64 `json:"failed_percent"`
}

// ActionReport is one operation kind. Latencies are of the successful
// requests, in milliseconds.
type ActionReport struct {
	Action   string            `json:"action"`
	Requests uint64            `json:"requests"`
	RPS      float64           `json:"rps"`
	OK       uint64            `json:"ok"`
	Failed   uint64            `json:"failed"`
	Non2xx   uint64            `json:"non_2xx"`
	Shed     uint64            `json:"shed,omitempty"` // 503s, with --backoff
	MeanMS   float64           `json:"mean_ms"`
	P50MS    float64           `json:"p50_ms"`
	P90MS    float64           `json:"p90_ms"`
	P99MS    float64           `json:"p99_ms"`
	MaxMS    float64           `json:"max_ms"`
	Errors   map[string]uint64 `json:"errors,omitempty"` // by EC2 error code (or Transport, NoErrorCode, EmptyResult)
}

// maxFailedPercent is the share of failed requests above which a run
// counts as failed.
const maxFailedPercent = 1.0

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3 // to the microsecond
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func newReport(cfg *RunConfig, window time.Duration, workers []*worker) *Report {
	r := &Report{
		Endpoint: cfg.Endpoint, Region: cfg.Region, Mix: cfg.Mix.String(),
		Concurrency: cfg.Concurrency, WarmupSeconds: cfg.Warmup.Seconds(), DurationSeconds: window.Seconds(),
		Actions: []ActionReport{},
	}
	secs := window.Seconds()
	rate := func(n uint64) float64 {
		if secs <= 0 {
			return 0
		}
		return round1(float64(n) / secs)
	}
	for _, k := range cfg.Mix.Kinds() {
		var s kindStats
		for _, w := range workers {
			if w.stats[k] != nil {
				s.merge(w.stats[k])
			}
		}
		h := &s.hist
		r.Actions = append(r.Actions, ActionReport{
			Action: k.String(), Requests: s.count, RPS: rate(s.count), OK: h.Count(),
			Failed: s.failed, Non2xx: s.non2xx, Shed: s.shed, Errors: s.codes,
			MeanMS: ms(h.Mean()), P50MS: ms(h.Percentile(50)), P90MS: ms(h.Percentile(90)),
			P99MS: ms(h.Percentile(99)), MaxMS: ms(h.Max()),
		})
		r.Total.Requests += s.count
		r.Total.Failed += s.failed
		r.Total.Non2xx += s.non2xx
		r.Total.Shed += s.shed
		r.Total.OKRPS += float64(h.Count())
	}
	r.Total.RPS = rate(r.Total.Requests)
	r.Total.OKRPS = rate(uint64(r.Total.OKRPS))
	for _, w := range workers {
		if w.lastErr != nil {
			r.TransportError = w.lastErr.Error()
			break
		}
	}
	if r.Total.Requests > 0 {
		r.Total.FailedPercent = math.Round(float64(r.Total.Failed)/float64(r.Total.Requests)*1e4) / 100
	}
	return r
}

// Err reports a run with no requests, or with more than 1 % of them failed.
func (r *Report) Err() error {
	if r.Total.Requests == 0 {
		return fmt.Errorf("no request completed in the measured window")
	}
	if r.Total.FailedPercent > maxFailedPercent {
		return fmt.Errorf("%d of %d requests failed (%.2f %%, more than %.0f %%)",
			r.Total.Failed, r.Total.Requests, r.Total.FailedPercent, maxFailedPercent)
	}
	return nil
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a table.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "endpoint %s  region %s  concurrency %d  measured %s after %s warm-up\nmix %s\n\n",
		r.Endpoint, r.Region, r.Concurrency, secs(r.DurationSeconds), secs(r.WarmupSeconds), r.Mix)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "action            \trequests\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tfailed\tnon-2xx\t")
	for _, a := range r.Actions {
		fmt.Fprintf(tw, "%-18s\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t\n",
			a.Action, a.Requests, a.RPS, a.P50MS, a.P90MS, a.P99MS, a.MaxMS, a.Failed, a.Non2xx)
	}
	fmt.Fprintf(tw, "total             \t%d\t%.1f\t\t\t\t\t%d\t%d\t\n", r.Total.Requests, r.Total.RPS, r.Total.Failed, r.Total.Non2xx)
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Total.Shed > 0 {
		fmt.Fprintf(w, "\nshed: %d requests answered 503 (%.1f %%); answered with success: %.1f req/s\n",
			r.Total.Shed, 100*float64(r.Total.Shed)/float64(r.Total.Requests), r.Total.OKRPS)
	}
	if r.Total.Failed > 0 {
		fmt.Fprintf(w, "\nfailures (%.2f %% of requests):\n", r.Total.FailedPercent)
		for _, a := range r.Actions {
			for _, c := range sortedCodes(a.Errors) {
				fmt.Fprintf(w, "  %-20s %-36s %d\n", a.Action, c, a.Errors[c])
			}
		}
	}
	if r.TransportError != "" {
		fmt.Fprintf(w, "  a request without answer: %s\n", r.TransportError)
	}
	return nil
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}
