package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactPercentile is the nearest-rank percentile of sorted values.
func exactPercentile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestExactPercentile(t *testing.T) {
	// The textbook example of the nearest-rank method.
	vs := []time.Duration{15, 20, 35, 40, 50}
	for q, want := range map[float64]time.Duration{5: 15, 30: 20, 40: 20, 50: 35, 100: 50} {
		if got := exactPercentile(vs, q); got != want {
			t.Errorf("p%v = %v, want %v", q, got, want)
		}
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	// Every value maps to a bucket whose top is ≥ the value and within
	// 1/64 of it, and the buckets tile the line without gaps.
	prevHigh := uint64(0)
	for i := 1; i < histBuckets; i++ {
		high := bucketHigh(i)
		if high <= prevHigh {
			t.Fatalf("bucket %d ends at %d, not after bucket %d's %d", i, high, i-1, prevHigh)
		}
		low := prevHigh + 1
		if bucketOf(low) != i || bucketOf(high) != i {
			t.Fatalf("bucket %d = [%d, %d], but bucketOf gives %d and %d", i, low, high, bucketOf(low), bucketOf(high))
		}
		if float64(high-low) > float64(low)/64 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/64 of its start", i, low, high)
		}
		prevHigh = high
	}
	if got := bucketOf(math.MaxUint64); got != histBuckets-1 {
		t.Errorf("bucketOf(max) = %d, want the last bucket %d", got, histBuckets-1)
	}
}

func TestHistogramPercentiles(t *testing.T) {
	tests := []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
		n    int
	}{
		{"uniform 0-10ms", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(10 * time.Millisecond))) }, 50_000},
		{"log-normal around 2ms", func(r *rand.Rand) time.Duration {
			return time.Duration(2e6 * math.Exp(r.NormFloat64()))
		}, 50_000},
		{"tiny values exact", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(100)) }, 1000},
		{"single value", func(*rand.Rand) time.Duration { return 1234567 }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 8))
			var h Histogram
			vs := make([]time.Duration, tt.n)
			var sum time.Duration
			for i := range vs {
				vs[i] = tt.gen(r)
				sum += vs[i]
				h.Record(vs[i])
			}
			slices.Sort(vs)
			if h.Count() != uint64(tt.n) || h.Max() != vs[len(vs)-1] || h.Mean() != sum/time.Duration(tt.n) {
				t.Fatalf("count %d max %v mean %v; want %d %v %v", h.Count(), h.Max(), h.Mean(), tt.n, vs[len(vs)-1], sum/time.Duration(tt.n))
			}
			for _, q := range []float64{1, 50, 90, 99, 99.9, 100} {
				want := exactPercentile(vs, q)
				got := h.Percentile(q)
				if got < want || float64(got-want) > float64(want)/64 {
					t.Errorf("p%v = %v, want %v (at most 1/64 above)", q, got, want)
				}
			}
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(&Histogram{})
	if m != all {
		t.Errorf("merged histogram differs from recording everything in one")
	}
	var empty Histogram
	if empty.Percentile(50) != 0 || empty.Mean() != 0 {
		t.Errorf("empty histogram: p50 %v mean %v, want 0", empty.Percentile(50), empty.Mean())
	}
	var neg Histogram
	neg.Record(-time.Second)
	if neg.Max() != 0 || neg.Percentile(100) != 0 {
		t.Errorf("a negative duration should count as 0")
	}
}
