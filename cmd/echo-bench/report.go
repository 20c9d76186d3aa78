package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Settings records how the run was configured.
type Settings struct {
	Preset      string            `json:"preset"`
	Servers     []string          `json:"servers"`
	ServerNotes map[string]string `json:"server_notes,omitempty"`
	Cells       []Cell            `json:"cells"`
	Rounds      int               `json:"rounds"`
	Warmup      string            `json:"warmup"`
	Window      string            `json:"window"`
	Depth       int               `json:"depth"`
	Baseline    string            `json:"baseline"`
	Seed        uint64            `json:"seed"`
	Pinning     string            `json:"pinning"`
}

// Results is everything a run produced; every output is rendered from it.
type Results struct {
	Env         Env               `json:"env"`
	Settings    Settings          `json:"settings"`
	Summary     []Summary         `json:"summary,omitempty"`
	Samples     []Sample          `json:"samples,omitempty"`
	Callgrind   []CallgrindResult `json:"callgrind,omitempty"`
	Calls       *CallsRun         `json:"calls,omitempty"`
	Interrupted bool              `json:"interrupted,omitempty"`
}

// Errors is the total number of failures over every sample and callgrind run.
func (r *Results) Errors() int64 {
	var n int64
	for _, s := range r.Samples {
		n += s.Errors
	}
	for _, c := range r.Callgrind {
		n += c.Errors
	}
	if r.Calls != nil {
		n += r.Calls.Errors
	}
	return n
}

// writeJSON writes r, indented.
func writeJSON(w io.Writer, r *Results) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

var csvHeader = []string{
	"round", "server", "conns", "idle", "size", "depth", "window_s", "echoes", "echoes_per_s", "mb_per_s",
	"p50_us", "p99_us", "server_cpu_us_per_echo", "ctx_switches_per_echo", "server_cpu_pct",
	"client_cpu_pct", "client_bound", "other_cpu_pct", "steal_pct", "peak_rss_bytes", "threads", "errors", "note",
}

// writeCSV writes one row per sample (the raw per-round data).
func writeCSV(w io.Writer, r *Results) error {
	if r.Calls != nil {
		return writeCallsCSV(w, r.Calls)
	}
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	for _, s := range r.Samples {
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

// writeBenchfmt writes one Go benchmark line per clean sample, so that
// `benchstat old.txt new.txt` compares two runs (each round is a sample).
func writeBenchfmt(w io.Writer, r *Results) error {
	fmt.Fprintf(w, "goos: linux\ngoarch: %s\npkg: github.com/selectc/selectc/cmd/echo-bench\ncpu: %s\n",
		goarch(r.Env.Go), r.Env.CPUModel)
	fmt.Fprintf(w, "depth: %d\nwindow: %s\n", r.Settings.Depth, r.Settings.Window)
	for _, s := range r.Samples {
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
	for _, c := range r.Callgrind {
		if c.Errors > 0 || c.IrPerEcho <= 0 {
			continue
		}
		fmt.Fprintf(w, "BenchmarkEchoCallgrind/server=%s/size=%d \t %d \t %.0f instr/echo\n", c.Server, c.Size, c.N2-c.N1, c.IrPerEcho)
	}
	if r.Calls != nil {
		writeCallsBenchfmt(w, r.Calls)
	}
	return nil
}

func goarch(goVersion string) string {
	if _, arch, ok := strings.Cut(goVersion, "/"); ok {
		return arch
	}
	return "unknown"
}

// writeMarkdown renders the environment header, the ratio overviews, one
// table per cell, the callgrind table and any skips and errors.
func writeMarkdown(w io.Writer, r *Results) error {
	e, st := r.Env, r.Settings
	fmt.Fprintf(w, "# selectc echo benchmark, %s\n\n", e.Date)
	if r.Interrupted {
		fmt.Fprintf(w, "**Interrupted: the tables hold only what was measured before the signal.**\n\n")
	}
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	row := func(k, v string) { fmt.Fprintf(w, "| %s | %s |\n", k, mdEscape(v)) }
	row("date", e.Date)
	row("CPU", fmt.Sprintf("%s × %d", e.CPUModel, e.CPUs))
	row("kernel", e.Kernel)
	row("Go", e.Go)
	row("gcc", e.GCC)
	row("Python", e.Python)
	if e.Valgrind != "" {
		row("valgrind", e.Valgrind)
	}
	row("C server flags", e.CFlags)
	row("cgo flags (selectc)", e.CgoCFlags)
	row("FORTIFY in force", e.Fortify)
	if c := r.Calls; c != nil {
		row("pinning", st.Pinning)
		row("run", fmt.Sprintf("call-level grid %s · %d round(s) · warm-up %v · window %v · N %v · ready %v",
			c.Grid.Name, c.Grid.Rounds, c.Grid.Warmup, c.Grid.Window, c.Grid.Ns, c.Grid.Ready))
		fmt.Fprintln(w)
		writeCallsMarkdown(w, c)
		return nil
	}
	row("RLIMIT_NOFILE", fmt.Sprintf("load generator %s; servers %d", e.NoFileClient, e.NoFileServer))
	row("pinning", st.Pinning)
	if cg := r.Callgrind; len(cg) > 0 {
		row("run", fmt.Sprintf("callgrind · one connection · %d B messages · counters dumped after %d and %d echoes · at most %d valgrind runs per server",
			cg[0].Size, cg[0].N1, cg[0].N2, callgrindAttempts))
	} else {
		row("run", fmt.Sprintf("preset %s · %d round(s) · warm-up %s · window %s · depth %d · seed %d · server order shuffled per round and cell",
			st.Preset, st.Rounds, st.Warmup, st.Window, st.Depth, st.Seed))
	}
	fmt.Fprintln(w)
	writeServerNotes(w, st.Servers, st.ServerNotes)

	if len(r.Summary) > 0 {
		base := st.Baseline
		fmt.Fprintf(w, "Each server is started fresh for each cell. Ratios divide a server's figure by the %s server's on the same cell **in the same round**; "+
			"shown as median [min–max] over rounds. Throughput ratio: higher is better; CPU ratio: lower is better. "+
			"Absolute figures are medians over rounds without errors. "+
			"*client-bound*: the load generator used ≥ %d %% of its core(s) in some round, so the server may be faster than shown; compare CPU per echo instead. "+
			"*busy machine*: other processes took more than %d %% of a core on the measured cores during the window, so that round's figures are suspect.\n\n",
			base, clientBoundPct, busyOtherPct)
		cells := cellsOf(r.Summary)
		servers := st.Servers
		writeOverview(w, "Throughput vs "+base+" (echoes/s ratio)", r.Summary, cells, servers, func(s *Summary) *Spread { return s.EchoesRatio })
		writeOverview(w, "Server CPU per echo vs "+base+" (ratio; lower is better)", r.Summary, cells, servers, func(s *Summary) *Spread { return s.CPURatio })
		for _, c := range cells {
			writeCellTable(w, c, r.Summary, base)
		}
	}
	if len(r.Callgrind) > 0 {
		writeCallgrindTable(w, r.Callgrind, st.Baseline)
	}
	if n := r.Errors(); n > 0 {
		fmt.Fprintf(w, "## Errors: %d\n\n", n)
		for _, s := range r.Samples {
			if s.Errors > 0 {
				fmt.Fprintf(w, "- round %d, %s, %s: %d error(s): %s\n", s.Round, s.Server, s.Cell, s.Errors, mdEscape(strings.Join(s.ErrorSamples, "; ")))
			}
		}
		for _, c := range r.Callgrind {
			if c.Errors > 0 {
				fmt.Fprintf(w, "- callgrind %s: %s\n", c.Server, mdEscape(c.Note))
			}
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "Errors: 0 (every echoed byte verified).\n")
	}
	return nil
}

// writeServerNotes says what each row is, in the words of serverproc's
// table (and of the variant, for a variant row).
func writeServerNotes(w io.Writer, servers []string, notes map[string]string) {
	if len(servers) == 0 {
		return
	}
	fmt.Fprintf(w, "| server | what it is |\n|---|---|\n")
	for _, name := range servers {
		fmt.Fprintf(w, "| %s | %s |\n", name, mdEscape(notes[name]))
	}
	fmt.Fprintln(w)
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

func findSummary(sums []Summary, c Cell, server string) *Summary {
	for i := range sums {
		if sums[i].Cell == c && sums[i].Server == server {
			return &sums[i]
		}
	}
	return nil
}

func writeOverview(w io.Writer, title string, sums []Summary, cells []Cell, servers []string, pick func(*Summary) *Spread) {
	fmt.Fprintf(w, "## %s\n\n| server |", title)
	for _, c := range cells {
		fmt.Fprintf(w, " %s |", shortCell(c))
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(cells)))
	for _, name := range servers {
		fmt.Fprintf(w, "| %s |", name)
		for _, c := range cells {
			s := findSummary(sums, c, name)
			cell := "–"
			if s != nil {
				cell = fmtSpread(pick(s))
				if s.Errors > 0 {
					cell += " ⚠"
				}
			}
			fmt.Fprintf(w, " %s |", cell)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
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
			s.Server, fmtInt(s.EchoesPerSec), fmtSpread(s.EchoesRatio), fmtNum(s.MBPerSec, 1),
			fmtNum(s.P50us, 1), fmtNum(s.P99us, 1), fmtNum(s.SrvCPUus, 2), fmtSpread(s.CPURatio),
			fmtNum(s.CtxSw, 3), fmtNum(s.SrvCPUPct, 0), fmtNum(s.CliCPUPct, 0),
			fmtNum(float64(s.PeakRSS)/(1<<20), 1), s.Errors, strings.Join(notes, "; "))
	}
	fmt.Fprintln(w)
}

func fmtSpread(sp *Spread) string {
	if sp == nil {
		return "–"
	}
	if sp.N == 1 || sp.Min == sp.Max {
		return fmt.Sprintf("%.2f", sp.Median)
	}
	return fmt.Sprintf("%.2f [%.2f–%.2f]", sp.Median, sp.Min, sp.Max)
}

func fmtNum(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// fmtInt groups thousands with a thin space, which Markdown leaves alone.
func fmtInt(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u2009")
		}
		b.WriteRune(ch)
	}
	return b.String()
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
