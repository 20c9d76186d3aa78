package main

import (
	"math"
	"slices"
)

// clientBoundPct is the load generator's CPU, in percent of its one core,
// above which a cell measures the client as much as the server.
const clientBoundPct = 90

// Sample is one server measured on one cell in one round.
type Sample struct {
	Round  int    `json:"round"`
	Server string `json:"server"`
	Cell
	Depth     int     `json:"depth"`
	WindowSec float64 `json:"window_s"`
	Echoes    int64   `json:"echoes"`
	Metrics
	ClientBound  bool     `json:"client_bound"`
	OtherCPUPct  float64  `json:"other_cpu_pct"` // other processes on the measured cores, % of one core
	StealPct     float64  `json:"steal_pct"`
	PeakRSS      uint64   `json:"peak_rss_bytes"`
	Threads      int      `json:"threads"`
	Errors       int64    `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	ServerLog    string   `json:"server_log,omitempty"` // its output's tail, when the sample failed
	Note         string   `json:"note,omitempty"`
}

// Metrics are the figures of one measured window; a Summary holds the
// median of each over the clean rounds.
type Metrics struct {
	EchoesPerSec float64 `json:"echoes_per_s"`
	MBPerSec     float64 `json:"mb_per_s"`
	P50us        float64 `json:"p50_us"`
	P99us        float64 `json:"p99_us"`
	SrvCPUus     float64 `json:"server_cpu_us_per_echo"`
	CtxSw        float64 `json:"ctx_switches_per_echo"`
	SrvCPUPct    float64 `json:"server_cpu_pct"`
	CliCPUPct    float64 `json:"client_cpu_pct"`
}

// fields lists m's figures, in declaration order, for medianOf.
func (m *Metrics) fields() []*float64 {
	return []*float64{&m.EchoesPerSec, &m.MBPerSec, &m.P50us, &m.P99us, &m.SrvCPUus, &m.CtxSw, &m.SrvCPUPct, &m.CliCPUPct}
}

// medianOf returns the field-by-field median of ms, which is not empty.
func medianOf(ms []Metrics) Metrics {
	var out Metrics
	col := make([]float64, len(ms))
	for f, dst := range out.fields() {
		for i := range ms {
			col[i] = *ms[i].fields()[f]
		}
		*dst = median(col)
	}
	return out
}

// ok reports whether s is a clean measurement that ratios may use.
func (s *Sample) ok() bool { return s.Errors == 0 && s.Echoes > 0 }

// Spread is the median and range of a set of values.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// spreadOf summarises xs; ok is false when xs is empty.
func spreadOf(xs []float64) (sp Spread, ok bool) {
	if len(xs) == 0 {
		return Spread{}, false
	}
	return Spread{Median: median(xs), Min: slices.Min(xs), Max: slices.Max(xs), N: len(xs)}, true
}

// median is the middle value, or the mean of the two middle values; NaN for
// no values.
func median(xs []float64) float64 {
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

// withinRoundRatios divides each round's figure of one server by the
// baseline's figure on the same cell in the same round: a slow patch of the
// machine then slows both and cancels out. Rounds where either sample is
// missing or failed, or the baseline's figure is not positive, are skipped.
func withinRoundRatios(server, baseline map[int]*Sample, figure func(*Sample) float64) []float64 {
	var rs []float64
	for round, s := range server {
		b, ok := baseline[round]
		if !ok || !s.ok() || !b.ok() {
			continue
		}
		if d := figure(b); d > 0 {
			rs = append(rs, figure(s)/d)
		}
	}
	slices.Sort(rs) // map order must not leak into the output
	return rs
}

// Summary is one server on one cell over all rounds: medians of the clean
// rounds' figures, and ratios against the baseline server.
type Summary struct {
	Server string `json:"server"`
	Cell
	Rounds      int     `json:"rounds"`       // rounds measured
	CleanRounds int     `json:"clean_rounds"` // rounds without errors
	Metrics             // medians over the clean rounds
	ClientBound int     `json:"client_bound_rounds"`
	OtherCPUPct float64 `json:"other_cpu_pct"`  // the largest over the clean rounds
	BusyRounds  int     `json:"busy_rounds"`    // rounds with other load above busyOtherPct
	PeakRSS     uint64  `json:"peak_rss_bytes"` // the largest over all rounds
	Errors      int64   `json:"errors"`         // summed over all rounds
	// Ratios against the baseline within each round (nil without one):
	// throughput (higher is better) and server CPU per echo (lower is better).
	EchoesRatio *Spread `json:"echoes_ratio,omitempty"`
	CPURatio    *Spread `json:"cpu_ratio,omitempty"`
}

// summarize folds samples into one Summary per (cell, server), in the order
// of cells and then servers given.
func summarize(samples []Sample, cells []Cell, servers []string, baseline string) []Summary {
	type key struct {
		cell   Cell
		server string
	}
	byKey := map[key]map[int]*Sample{}
	for i := range samples {
		s := &samples[i]
		k := key{s.Cell, s.Server}
		if byKey[k] == nil {
			byKey[k] = map[int]*Sample{}
		}
		byKey[k][s.Round] = s
	}
	var out []Summary
	for _, c := range cells {
		for _, name := range servers {
			rounds := byKey[key{c, name}]
			if len(rounds) == 0 {
				continue
			}
			sum := Summary{Server: name, Cell: c, Rounds: len(rounds)}
			var clean []Metrics
			for _, s := range rounds {
				sum.Errors += s.Errors
				sum.PeakRSS = max(sum.PeakRSS, s.PeakRSS)
				if !s.ok() {
					continue
				}
				sum.CleanRounds++
				if s.ClientBound {
					sum.ClientBound++
				}
				sum.OtherCPUPct = max(sum.OtherCPUPct, s.OtherCPUPct)
				if s.OtherCPUPct > busyOtherPct {
					sum.BusyRounds++
				}
				clean = append(clean, s.Metrics)
			}
			if len(clean) > 0 {
				sum.Metrics = medianOf(clean)
			}
			if base := byKey[key{c, baseline}]; baseline != "" && base != nil {
				if sp, ok := spreadOf(withinRoundRatios(rounds, base, func(s *Sample) float64 { return s.EchoesPerSec })); ok {
					sum.EchoesRatio = &sp
				}
				if sp, ok := spreadOf(withinRoundRatios(rounds, base, func(s *Sample) float64 { return s.SrvCPUus })); ok {
					sum.CPURatio = &sp
				}
			}
			out = append(out, sum)
		}
	}
	return out
}
