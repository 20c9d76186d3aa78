package stats

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{2, 2, 9, 9, 9}, 9},
	} {
		in := append([]float64(nil), tc.xs...)
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.xs[i] {
				t.Fatalf("Median reordered its argument: %v", tc.xs)
			}
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	if _, ok := SpreadOf(nil); ok {
		t.Error("spread of nothing reported ok")
	}
	if SpreadPtr(nil) != nil {
		t.Error("SpreadPtr of nothing is not nil")
	}
	if sp, _ := SpreadOf([]float64{0.9, 1.2, 1.0, 0.8}); sp != (Spread{Median: 0.95, Min: 0.8, Max: 1.2, N: 4}) {
		t.Errorf("spread = %+v", sp)
	}
}

type smp struct {
	row   string
	round int
	v     float64
	bad   bool
}

func TestWithinRound(t *testing.T) {
	samples := []smp{
		{"base", 1, 10, false}, {"x", 1, 5, false},
		{"base", 2, 20, false}, {"x", 2, 30, false},
		{"base", 3, 0, false}, {"x", 3, 7, false}, // a baseline of 0: skipped
		{"base", 4, 10, true}, {"x", 4, 1, false}, // a bad baseline: skipped
		{"x", 5, 9, false}, // no baseline: skipped
	}
	by := ByRound(samples, func(s *smp) string { return s.row }, func(s *smp) int { return s.round })
	if len(by["x"]) != 5 || len(by["base"]) != 4 {
		t.Fatalf("grouping: %d and %d rounds", len(by["x"]), len(by["base"]))
	}
	got := WithinRound(by["x"], by["base"], func(s *smp) bool { return !s.bad }, func(s *smp) float64 { return s.v })
	if len(got) != 2 || got[0] != 0.5 || got[1] != 1.5 {
		t.Errorf("ratios %v, want [0.5 1.5]", got)
	}
}
