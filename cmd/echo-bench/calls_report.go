package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CallSummary is one wrapper on one cell over all rounds.
type CallSummary struct {
	Wrapper string `json:"wrapper"`
	CallCell
	Rounds      int `json:"rounds"`
	CleanRounds int `json:"clean_rounds"`
	// NsPerCall is the median and range of the clean rounds; Ratio the
	// same of the per-round ratios to the baseline (nil without one).
	NsPerCall *Spread `json:"ns_per_call,omitempty"`
	Ratio     *Spread `json:"ratio,omitempty"`
	Errors    int     `json:"errors"`
}

// summarizeCalls folds the samples into one summary per (cell, wrapper),
// in the order given.
func summarizeCalls(samples []CallSample, cells []CallCell, ws []callWrapper, baseline string) []CallSummary {
	type key struct {
		cell    CallCell
		wrapper string
	}
	byKey := map[key]map[int]*CallSample{}
	for i := range samples {
		s := &samples[i]
		k := key{s.CallCell, s.Wrapper}
		if byKey[k] == nil {
			byKey[k] = map[int]*CallSample{}
		}
		byKey[k][s.Round] = s
	}
	var out []CallSummary
	for _, c := range cells {
		base := byKey[key{c, baseline}]
		for _, w := range ws {
			rounds := byKey[key{c, w.Name}]
			if len(rounds) == 0 {
				continue
			}
			sum := CallSummary{Wrapper: w.Name, CallCell: c, Rounds: len(rounds)}
			var ns, ratios []float64
			for round, s := range rounds {
				if !s.ok() {
					sum.Errors++
					continue
				}
				sum.CleanRounds++
				ns = append(ns, s.NsPerCall)
				if b, ok := base[round]; ok && b.ok() {
					ratios = append(ratios, s.NsPerCall/b.NsPerCall)
				}
			}
			if sp, ok := spreadOf(ns); ok {
				sum.NsPerCall = &sp
			}
			if sp, ok := spreadOf(ratios); ok {
				sum.Ratio = &sp
			}
			out = append(out, sum)
		}
	}
	return out
}

func findCallSummary(sums []CallSummary, c CallCell, wrapper string) *CallSummary {
	for i := range sums {
		if sums[i].CallCell == c && sums[i].Wrapper == wrapper {
			return &sums[i]
		}
	}
	return nil
}

// readyWords says what a readiness state means, for headings.
var readyWords = map[string]string{
	"one":  "one ready (the last)",
	"all":  "all ready",
	"none": "none ready",
}

// writeCallsMarkdown renders the call-level tables: per readiness state,
// ns per call and the ratio to the baseline, each as median [min–max].
func writeCallsMarkdown(w io.Writer, c *CallsRun) {
	g := c.Grid
	fmt.Fprintf(w, "## One select call through each wrapper\n\n")
	fmt.Fprintf(w, "The same call everywhere: select for reading on N descriptors (%d..%d+N−1, dups of an empty pipe "+
		"and of one holding a byte), timeout 0, write and except sets empty. Each wrapper runs in a worker process of its own, "+
		"pinned to the same CPU, started once; the wrappers take turns on each cell in an order that rotates and reverses "+
		"from cell to cell. Each worker checks every call's ready count and the full ready list before and after timing. "+
		"Grid %s: %d round(s), warm-up %v, window %v per measurement. ns/call: median [min–max] over rounds; "+
		"×%s: the ratio to %s on the same cell in the same round, median [min–max] (lower is better).\n\n",
		callsFirstFD, callsFirstFD, g.Name, g.Rounds, g.Warmup, g.Window, c.Baseline, c.Baseline)
	fmt.Fprintf(w, "| wrapper | what a call does |\n|---|---|\n")
	for _, wr := range c.Wrappers {
		fmt.Fprintf(w, "| %s | %s |\n", wr.Label, mdEscape(wr.What))
	}
	fmt.Fprintln(w)
	for _, ready := range g.Ready {
		fmt.Fprintf(w, "### %s: ns per call (×%s)\n\n| wrapper |", readyWords[ready], c.Baseline)
		for _, n := range g.Ns {
			fmt.Fprintf(w, " N=%d |", n)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(g.Ns)))
		for _, wr := range c.Wrappers {
			fmt.Fprintf(w, "| %s |", wr.Label)
			for _, n := range g.Ns {
				fmt.Fprintf(w, " %s |", callCellText(findCallSummary(c.Summary, CallCell{N: n, Ready: ready}, wr.Name)))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	if c.Errors > 0 {
		fmt.Fprintf(w, "### Errors: %d\n\n", c.Errors)
		for _, s := range c.Samples {
			if s.Error != "" {
				fmt.Fprintf(w, "- round %d, %s, %s: %s\n", s.Round, s.Wrapper, s.CallCell, mdEscape(s.Error))
			}
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "Errors: 0 (every call's ready count and the ready lists checked).\n")
	}
}

// callCellText is "1 234 [1 200–1 300] ×1.05 [1.01–1.10]".
func callCellText(s *CallSummary) string {
	if s == nil || s.NsPerCall == nil {
		if s != nil && s.Errors > 0 {
			return "failed"
		}
		return "–"
	}
	t := fmtInt(s.NsPerCall.Median)
	if s.NsPerCall.N > 1 {
		t += fmt.Sprintf(" [%s–%s]", fmtInt(s.NsPerCall.Min), fmtInt(s.NsPerCall.Max))
	}
	if s.Ratio != nil {
		t += " ×" + fmtSpread(s.Ratio)
	}
	if s.Errors > 0 {
		t += " ⚠"
	}
	return t
}

var callsCSVHeader = []string{"round", "wrapper", "n", "ready", "ready_count", "calls", "ns", "ns_per_call", "error"}

// writeCallsCSV writes one row per sample.
func writeCallsCSV(w io.Writer, c *CallsRun) error {
	cw := csv.NewWriter(w)
	cw.Write(callsCSVHeader)
	for _, s := range c.Samples {
		cw.Write([]string{
			strconv.Itoa(s.Round), s.Wrapper, strconv.Itoa(s.N), s.Ready, strconv.Itoa(s.readyCount()),
			strconv.FormatInt(s.Calls, 10), strconv.FormatInt(s.Ns, 10), strconv.FormatFloat(s.NsPerCall, 'g', 6, 64), s.Error,
		})
	}
	cw.Flush()
	return cw.Error()
}

// writeCallsBenchfmt writes one Go benchmark line per clean sample, so
// benchstat can compare two runs.
func writeCallsBenchfmt(w io.Writer, c *CallsRun) {
	for _, s := range c.Samples {
		if s.ok() {
			fmt.Fprintf(w, "BenchmarkSelectCall/wrapper=%s/%s \t %d \t %.1f ns/op\n", s.Wrapper, s.CallCell, s.Calls, s.NsPerCall)
		}
	}
}
