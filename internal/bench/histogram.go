package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets, as HdrHistogram does:
// every power of two is split into 64 equal sub-buckets, so a reported
// value is at most 1/64 (1.6 %) above the true one, over the whole range
// from 1 ns to about 18 minutes, in a fixed 18 KiB. Recording is a few
// instructions and no allocation; histograms of several workers merge by
// adding. The zero value is empty and ready to use; it is not safe for
// concurrent use.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

const (
	subBits     = 7                  // values below 2^subBits have a bucket each
	subHalf     = 1 << (subBits - 1) // sub-buckets per power of two
	maxShift    = 34                 // 2^(34+7) ns ≈ 36 min
	histBuckets = (maxShift+1)*subHalf + subHalf
)

// bucketOf returns the bucket index of v nanoseconds.
func bucketOf(v uint64) int {
	shift := bits.Len64(v) - subBits
	if shift <= 0 {
		return int(v)
	}
	if shift > maxShift {
		return histBuckets - 1
	}
	return shift*subHalf + int(v>>uint(shift))
}

// bucketHigh returns the largest value that falls into bucket i.
func bucketHigh(i int) uint64 {
	if i < 2*subHalf {
		return uint64(i)
	}
	shift := uint(i/subHalf - 1)
	mantissa := uint64(i%subHalf + subHalf)
	return (mantissa+1)<<shift - 1
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds every value recorded in o.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest recorded value, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean is the average of the recorded values, exactly.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Percentile returns the nearest-rank q-th percentile (0 < q ≤ 100): the
// smallest recorded value v such that at least q % of the values are ≤ v,
// rounded up to the top of its bucket and never above Max. It is 0 for an
// empty histogram.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketHigh(i)), h.max)
		}
	}
	return h.max
}
