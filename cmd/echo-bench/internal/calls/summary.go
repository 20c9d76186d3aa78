package calls

import "github.com/selectc/selectc/cmd/echo-bench/internal/stats"

// Summary is one wrapper on one cell over all rounds.
type Summary struct {
	Wrapper string `json:"wrapper"`
	Cell
	Rounds      int `json:"rounds"`
	CleanRounds int `json:"clean_rounds"`
	// NsPerCall is the median and range of the clean rounds; Ratio the
	// same of the per-round ratios to the baseline (nil without one).
	NsPerCall *stats.Spread `json:"ns_per_call,omitempty"`
	Ratio     *stats.Spread `json:"ratio,omitempty"`
	Errors    int           `json:"errors"`
}

// summarize folds the samples into one summary per (cell, wrapper), in
// the order given.
func summarize(samples []Sample, cells []Cell, ws []Wrapper, baseline string) []Summary {
	type key struct {
		cell    Cell
		wrapper string
	}
	byKey := stats.ByRound(samples, func(s *Sample) key { return key{s.Cell, s.Wrapper} }, func(s *Sample) int { return s.Round })
	nsPerCall := func(s *Sample) float64 { return s.NsPerCall }
	var out []Summary
	for _, c := range cells {
		base := byKey[key{c, baseline}]
		for _, w := range ws {
			rounds := byKey[key{c, w.Name}]
			if len(rounds) == 0 {
				continue
			}
			sum := Summary{Wrapper: w.Name, Cell: c, Rounds: len(rounds)}
			var ns []float64
			for _, s := range rounds {
				if !s.ok() {
					sum.Errors++
					continue
				}
				sum.CleanRounds++
				ns = append(ns, s.NsPerCall)
			}
			sum.NsPerCall = stats.SpreadPtr(ns)
			sum.Ratio = stats.SpreadPtr(stats.WithinRound(rounds, base, (*Sample).ok, nsPerCall))
			out = append(out, sum)
		}
	}
	return out
}

// find is the summary of wrapper on cell c, or nil.
func find(sums []Summary, c Cell, wrapper string) *Summary {
	return stats.Find(sums, func(s *Summary) bool { return s.Cell == c && s.Wrapper == wrapper })
}
