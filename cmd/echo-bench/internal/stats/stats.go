// Package stats holds what every echo-bench benchmark summarises with:
// medians with their range over rounds, and ratios to a baseline taken
// within each round.
package stats

import (
	"math"
	"slices"
)

// Spread is the median and range of a set of values.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// SpreadOf summarises xs; ok is false when xs is empty.
func SpreadOf(xs []float64) (sp Spread, ok bool) {
	if len(xs) == 0 {
		return Spread{}, false
	}
	return Spread{Median: Median(xs), Min: slices.Min(xs), Max: slices.Max(xs), N: len(xs)}, true
}

// SpreadPtr is SpreadOf as a pointer, nil for no values (the JSON leaves
// it out).
func SpreadPtr(xs []float64) *Spread {
	if sp, ok := SpreadOf(xs); ok {
		return &sp
	}
	return nil
}

// Median is the middle value, or the mean of the two middle values; NaN for
// no values. xs is left as it is.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Find returns the first of xs that match reports, or nil.
func Find[T any](xs []T, match func(*T) bool) *T {
	for i := range xs {
		if match(&xs[i]) {
			return &xs[i]
		}
	}
	return nil
}

// Rounds is one row's samples on one cell, by round.
type Rounds[S any] map[int]*S

// ByRound groups samples by key (a cell and a row) and then by round.
func ByRound[K comparable, S any](samples []S, key func(*S) K, round func(*S) int) map[K]Rounds[S] {
	out := map[K]Rounds[S]{}
	for i := range samples {
		s := &samples[i]
		k := key(s)
		if out[k] == nil {
			out[k] = Rounds[S]{}
		}
		out[k][round(s)] = s
	}
	return out
}

// WithinRound divides each round's figure of one row by the baseline's
// figure on the same cell in the same round: a slow patch of the machine
// then slows both and cancels out. Rounds where either sample is missing
// or not ok, or the baseline's figure is not positive, are skipped. The
// ratios come back sorted, so map order cannot leak into the output.
func WithinRound[S any](row, baseline Rounds[S], ok func(*S) bool, figure func(*S) float64) []float64 {
	var rs []float64
	for round, s := range row {
		b, found := baseline[round]
		if !found || !ok(s) || !ok(b) {
			continue
		}
		if d := figure(b); d > 0 {
			rs = append(rs, figure(s)/d)
		}
	}
	slices.Sort(rs)
	return rs
}
