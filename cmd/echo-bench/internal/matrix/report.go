package matrix

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/selectc/selectc/cmd/echo-bench/internal/stats"
	"github.com/selectc/selectc/cmd/echo-bench/internal/table"
)

var csvHeader = []string{
	"round", "server", "conns", "idle", "size", "depth", "window_s", "echoes", "echoes_per_s", "mb_per_s",
	"p50_us", "p99_us", "server_cpu_us_per_echo", "ctx_switches_per_echo", "server_cpu_pct",
	"client_cpu_pct", "client_bound", "other_cpu_pct", "steal_pct", "peak_rss_bytes", "threads", "errors", "note",
}

// WriteCSV writes one row per sample (the raw per-round data).
func WriteCSV(w io.Writer, samples []Sample) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	for _, s := range samples {
		note := s.Note
		if len(s.ErrorSamples) > 0 {
			note = strings.TrimPrefix(note+"; "+strings.Join(s.ErrorSamples, "; "), "; ")
		}
		cw.Write([]string{
			strconv.Itoa(s.Round), s.Server, strconv.Itoa(s.Conns), strconv.Itoa(s.Idle), strconv.Itoa(s.Size),
			strconv.Itoa(s.Depth), f(s.WindowSec), strconv.FormatInt(s.Echoes, 10), f(s.EchoesPerSec), f(s.MBPerSec),
			f(s.P50us), f(s.P99us), f(s.SrvCPUus), f(s.CtxSw), f(s.SrvCPUPct),
			f(s.CliCPUPct), strconv.FormatBool(s.ClientBound), f(s.OtherCPUPct), f(s.StealPct), strconv.FormatUint(s.PeakRSS, 10),
			strconv.Itoa(s.Threads), strconv.FormatInt(s.Errors, 10), note,
		})
	}
	cw.Flush()
	return cw.Error()
}

// WriteBenchfmt writes one Go benchmark line per clean sample, so that
// `benchstat old.txt new.txt` compares two runs (each round is a sample).
func WriteBenchfmt(w io.Writer, samples []Sample) {
	for _, s := range samples {
		if !s.ok() {
			continue
		}
		name := "BenchmarkEcho/server=" + s.Server + "/" + s.Cell.Key()
		if s.Depth > 1 {
			name += "/depth=" + strconv.Itoa(s.Depth)
		}
		fmt.Fprintf(w, "%s \t %d \t %.1f ns/op \t %.0f echoes/s \t %.3f MB/s \t %.3f us-cpu/echo \t %.4f ctxsw/echo \t %.1f p50-us \t %.1f p99-us \t %.1f srv-cpu-pct \t %.1f cli-cpu-pct \t %d peak-rss-B\n",
			name, s.Echoes, 1e9/s.EchoesPerSec, s.EchoesPerSec, s.MBPerSec, s.SrvCPUus, s.CtxSw,
			s.P50us, s.P99us, s.SrvCPUPct, s.CliCPUPct, s.PeakRSS)
	}
}

// WriteMarkdown renders what the figures mean, the ratio overviews and
// one table per cell; nothing without summaries.
func WriteMarkdown(w io.Writer, sums []Summary, servers []string, base string) {
	if len(sums) == 0 {
		return
	}
	fmt.Fprintf(w, "Each server is started fresh for each cell. Ratios divide a server's figure by the %s server's on the same cell **in the same round**; "+
		"shown as median [min–max] over rounds. Throughput ratio: higher is better; CPU ratio: lower is better. "+
		"Absolute figures are medians over rounds without errors. "+
		"*client-bound*: the load generator used ≥ %d %% of its core(s) in some round, so the server may be faster than shown; compare CPU per echo instead. "+
		"*busy machine*: other processes took more than %d %% of a core on the measured cores during the window, so that round's figures are suspect.\n\n",
		base, clientBoundPct, busyOtherPct)
	cells := cellsOf(sums)
	writeOverview(w, "Throughput vs "+base+" (echoes/s ratio)", sums, cells, servers, func(s *Summary) *stats.Spread { return s.EchoesRatio })
	writeOverview(w, "Server CPU per echo vs "+base+" (ratio; lower is better)", sums, cells, servers, func(s *Summary) *stats.Spread { return s.CPURatio })
	for _, c := range cells {
		writeCellTable(w, c, sums, base)
	}
}

// WriteErrors lists each failed sample on a line of its own.
func WriteErrors(w io.Writer, samples []Sample) {
	for _, s := range samples {
		if s.Errors > 0 {
			fmt.Fprintf(w, "- round %d, %s, %s: %d error(s): %s\n", s.Round, s.Server, s.Cell, s.Errors, table.Escape(strings.Join(s.ErrorSamples, "; ")))
		}
	}
}

func cellsOf(sums []Summary) []Cell {
	var cells []Cell
	seen := map[Cell]bool{}
	for _, s := range sums {
		if !seen[s.Cell] {
			seen[s.Cell] = true
			cells = append(cells, s.Cell)
		}
	}
	return cells
}

func writeOverview(w io.Writer, title string, sums []Summary, cells []Cell, servers []string, pick func(*Summary) *stats.Spread) {
	fmt.Fprintf(w, "## %s\n\n", title)
	var cols []string
	for _, c := range cells {
		cols = append(cols, shortCell(c))
	}
	table.WriteGrid(w, "server", cols, servers, func(row, col int) string {
		s := find(sums, cells[col], servers[row])
		if s == nil {
			return "–"
		}
		if s.Errors > 0 {
			return table.Spread(pick(s)) + " ⚠"
		}
		return table.Spread(pick(s))
	})
}

func shortCell(c Cell) string {
	if c.Idle > 0 {
		return fmt.Sprintf("%d+%didle×%dB", c.Conns, c.Idle, c.Size)
	}
	return fmt.Sprintf("%d×%dB", c.Conns, c.Size)
}

func writeCellTable(w io.Writer, c Cell, sums []Summary, base string) {
	fmt.Fprintf(w, "## %s\n\n", c)
	fmt.Fprintf(w, "| server | echoes/s | ×%s | MB/s | p50 µs | p99 µs | srv µs/echo | ×%s | ctxsw/echo | srv CPU %% | client CPU %% | peak RSS MiB | errors | notes |\n", base, base)
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for i := range sums {
		s := &sums[i]
		if s.Cell != c {
			continue
		}
		var notes []string
		if s.ClientBound > 0 {
			notes = append(notes, fmt.Sprintf("client-bound (%d/%d)", s.ClientBound, s.CleanRounds))
		}
		if s.BusyRounds > 0 {
			notes = append(notes, fmt.Sprintf("busy machine (%d/%d; up to %.0f %% other load)", s.BusyRounds, s.CleanRounds, s.OtherCPUPct))
		}
		if s.CleanRounds < s.Rounds {
			notes = append(notes, fmt.Sprintf("%d of %d rounds failed", s.Rounds-s.CleanRounds, s.Rounds))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n",
			s.Server, table.Int(s.EchoesPerSec), table.Spread(s.EchoesRatio), table.Num(s.MBPerSec, 1),
			table.Num(s.P50us, 1), table.Num(s.P99us, 1), table.Num(s.SrvCPUus, 2), table.Spread(s.CPURatio),
			table.Num(s.CtxSw, 3), table.Num(s.SrvCPUPct, 0), table.Num(s.CliCPUPct, 0),
			table.Num(float64(s.PeakRSS)/(1<<20), 1), s.Errors, strings.Join(notes, "; "))
	}
	fmt.Fprintln(w)
}
