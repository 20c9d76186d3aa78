package matrix

import "github.com/selectc/selectc/cmd/echo-bench/internal/stats"

// clientBoundPct is the load generator's CPU, in percent of its one core,
// above which a cell measures the client as much as the server.
const clientBoundPct = 90

// busyOtherPct is the CPU time other processes may take on the measured
// cores (percent of one core) before a sample is flagged: above it, a
// neighbour (a compiler, a test run) competed for the cores being measured.
const busyOtherPct = 15

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
		*dst = stats.Median(col)
	}
	return out
}

// ok reports whether s is a clean measurement that ratios may use.
func (s *Sample) ok() bool { return s.Errors == 0 && s.Echoes > 0 }

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
	EchoesRatio *stats.Spread `json:"echoes_ratio,omitempty"`
	CPURatio    *stats.Spread `json:"cpu_ratio,omitempty"`
}

// Summarize folds samples into one Summary per (cell, server), in the
// order of cells and then servers given.
func Summarize(samples []Sample, cells []Cell, servers []string, baseline string) []Summary {
	type key struct {
		cell   Cell
		server string
	}
	byKey := stats.ByRound(samples, func(s *Sample) key { return key{s.Cell, s.Server} }, func(s *Sample) int { return s.Round })
	ok := (*Sample).ok
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
				sum.EchoesRatio = stats.SpreadPtr(stats.WithinRound(rounds, base, ok, func(s *Sample) float64 { return s.EchoesPerSec }))
				sum.CPURatio = stats.SpreadPtr(stats.WithinRound(rounds, base, ok, func(s *Sample) float64 { return s.SrvCPUus }))
			}
			out = append(out, sum)
		}
	}
	return out
}

// find is the summary of server on cell c, or nil.
func find(sums []Summary, c Cell, server string) *Summary {
	return stats.Find(sums, func(s *Summary) bool { return s.Cell == c && s.Server == server })
}
