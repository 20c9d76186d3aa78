package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBucketsAreContiguous(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v++ {
		b := bucketOf(v)
		if b != prev && b != prev+1 {
			t.Fatalf("value %d jumps from bucket %d to %d", v, prev, b)
		}
		if lo := bucketLow(b); lo > v || bucketLow(b+1) <= v {
			t.Fatalf("value %d in bucket %d = [%d, %d)", v, b, lo, bucketLow(b+1))
		}
		prev = b
	}
	if b := bucketOf(math.MaxUint64); b >= nBuckets {
		t.Fatalf("huge value lands in bucket %d of %d", b, nBuckets)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h, h1, h2 Histogram
	var all []time.Duration
	for i := range 100000 {
		d := time.Duration(r.ExpFloat64() * float64(30*time.Microsecond))
		all = append(all, d)
		h.Record(d)
		if i%2 == 0 {
			h1.Record(d)
		} else {
			h2.Record(d)
		}
	}
	h1.Merge(&h2)
	slices.Sort(all)
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 1} {
		want := all[int(q*float64(len(all)-1))]
		for _, hh := range []*Histogram{&h, &h1} {
			got := hh.Quantile(q)
			if rel := math.Abs(float64(got-want)) / float64(want); rel > 1.0/32 && got-want > 1 {
				t.Errorf("q%.2f = %v, want %v (±3%%)", q, got, want)
			}
		}
	}
	if h.Count() != 100000 || h1.Count() != 100000 || h.Max() != all[len(all)-1] || h1.Mean() != h.Mean() {
		t.Errorf("count %d/%d max %v/%v mean %v/%v", h.Count(), h1.Count(), h.Max(), all[len(all)-1], h.Mean(), h1.Mean())
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram reports samples")
	}
}
