package calls

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/selectc/selectc/cmd/echo-bench/internal/table"
)

// readyWords says what a readiness state means, for headings.
var readyWords = map[string]string{
	"one":  "one ready (the last)",
	"all":  "all ready",
	"none": "none ready",
}

// WriteMarkdown renders the call-level tables: per readiness state,
// ns per call and the ratio to the baseline, each as median [min–max].
func WriteMarkdown(w io.Writer, c *Results) {
	g := c.Grid
	fmt.Fprintf(w, "## One select call through each wrapper\n\n")
	fmt.Fprintf(w, "The same call everywhere: select for reading on N descriptors (%d..%d+N−1, dups of an empty pipe "+
		"and of one holding a byte), timeout 0, write and except sets empty. Each wrapper runs in a worker process of its own, "+
		"pinned to the same CPU, started once; the wrappers take turns on each cell in an order that rotates and reverses "+
		"from cell to cell. Each worker checks every call's ready count and the full ready list before and after timing. "+
		"Grid %s: %d round(s), warm-up %v, window %v per measurement. ns/call: median [min–max] over rounds; "+
		"×%s: the ratio to %s on the same cell in the same round, median [min–max] (lower is better).\n\n",
		firstFD, firstFD, g.Name, g.Rounds, g.Warmup, g.Window, c.Baseline, c.Baseline)
	var rows []table.Row
	for _, wr := range c.Wrappers {
		rows = append(rows, table.Row{Key: wr.Label, Value: wr.What})
	}
	table.WriteRows(w, "wrapper", "what a call does", rows)
	var cols, labels []string
	for _, n := range g.Ns {
		cols = append(cols, fmt.Sprintf("N=%d", n))
	}
	for _, wr := range c.Wrappers {
		labels = append(labels, wr.Label)
	}
	for _, ready := range g.Ready {
		fmt.Fprintf(w, "### %s: ns per call (×%s)\n\n", readyWords[ready], c.Baseline)
		table.WriteGrid(w, "wrapper", cols, labels, func(row, col int) string {
			return cellText(find(c.Summary, Cell{N: g.Ns[col], Ready: ready}, c.Wrappers[row].Name))
		})
	}
	if c.Errors > 0 {
		fmt.Fprintf(w, "### Errors: %d\n\n", c.Errors)
		for _, s := range c.Samples {
			if s.Error != "" {
				fmt.Fprintf(w, "- round %d, %s, %s: %s\n", s.Round, s.Wrapper, s.Cell, table.Escape(s.Error))
			}
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "Errors: 0 (every call's ready count and the ready lists checked).\n")
	}
}

// cellText is "1 234 [1 200–1 300] ×1.05 [1.01–1.10]".
func cellText(s *Summary) string {
	if s == nil || s.NsPerCall == nil {
		if s != nil && s.Errors > 0 {
			return "failed"
		}
		return "–"
	}
	t := table.Int(s.NsPerCall.Median)
	if s.NsPerCall.N > 1 {
		t += fmt.Sprintf(" [%s–%s]", table.Int(s.NsPerCall.Min), table.Int(s.NsPerCall.Max))
	}
	if s.Ratio != nil {
		t += " ×" + table.Spread(s.Ratio)
	}
	if s.Errors > 0 {
		t += " ⚠"
	}
	return t
}

var csvHeader = []string{"round", "wrapper", "n", "ready", "ready_count", "calls", "ns", "ns_per_call", "error"}

// WriteCSV writes one row per sample.
func WriteCSV(w io.Writer, c *Results) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, s := range c.Samples {
		cw.Write([]string{
			strconv.Itoa(s.Round), s.Wrapper, strconv.Itoa(s.N), s.Ready, strconv.Itoa(s.readyCount()),
			strconv.FormatInt(s.Calls, 10), strconv.FormatInt(s.Ns, 10), strconv.FormatFloat(s.NsPerCall, 'g', 6, 64), s.Error,
		})
	}
	cw.Flush()
	return cw.Error()
}

// WriteBenchfmt writes one Go benchmark line per clean sample, so
// benchstat can compare two runs.
func WriteBenchfmt(w io.Writer, c *Results) {
	for _, s := range c.Samples {
		if s.ok() {
			fmt.Fprintf(w, "BenchmarkSelectCall/wrapper=%s/%s \t %d \t %.1f ns/op\n", s.Wrapper, s.Cell, s.Calls, s.NsPerCall)
		}
	}
}

// RunText is the report header's line on how c was measured.
func RunText(c *Results) string {
	return fmt.Sprintf("call-level grid %s · %d round(s) · warm-up %v · window %v · N %v · ready %v",
		c.Grid.Name, c.Grid.Rounds, c.Grid.Warmup, c.Grid.Window, c.Grid.Ns, c.Grid.Ready)
}

// PinningText says where the workers ran, for the report.
func PinningText(clientCPU, workerCPU int) string {
	return fmt.Sprintf("echo-bench on CPU %d (it only waits for answers), every worker on CPU %d, one measuring at a time; "+
		"Go workers at the runtime's default GOMAXPROCS for one allowed CPU (1)", clientCPU, workerCPU)
}
