package loadgen

import (
	"math/bits"
	"time"
)

// subBits sets the histogram's resolution: every power of two is split into
// 2^subBits buckets, so a reported quantile is within 1/32 (~3 %) of the true
// sample. That is far finer than run-to-run noise and costs one bits.Len64
// per sample.
const subBits = 5

// maxBits caps the recorded values at 2^40 ns (~18 min); nothing in a bounded
// run waits that long, and the cap keeps a histogram at ~9 KiB.
const maxBits = 40

const nBuckets = (maxBits-subBits)<<subBits + 2<<subBits

// Histogram is a log-linear histogram of durations. The zero value is ready
// to use; it is not safe for concurrent use (each connection keeps its own
// and they are merged afterwards).
type Histogram struct {
	counts [nBuckets]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

func bucketOf(v uint64) int {
	if v >= 1<<maxBits {
		v = 1<<maxBits - 1
	}
	if v < 2<<subBits {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	return (shift << subBits) + int(v>>shift)
}

// bucketLow is the smallest value that falls in bucket b.
func bucketLow(b int) uint64 {
	if b < 2<<subBits {
		return uint64(b)
	}
	shift := b>>subBits - 1
	top := uint64(b&(1<<subBits-1)) | 1<<subBits
	return top << shift
}

// Record adds one sample.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Count is the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Mean is the arithmetic mean of the samples (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Max is the largest sample, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the q-quantile (0 <= q <= 1) as the middle of the bucket
// holding it, never above Max; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1 // 1-based rank of the sample wanted
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketLow(b), bucketLow(b+1)
			return min(time.Duration(lo+(hi-lo)/2), h.max)
		}
	}
	return h.max
}
