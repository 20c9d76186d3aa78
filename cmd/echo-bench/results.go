package main

// Results: what a run produced, whichever benchmark, and its renderings;
// each benchmark's package writes its own part.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/selectc/selectc/cmd/echo-bench/internal/callgrind"
	"github.com/selectc/selectc/cmd/echo-bench/internal/calls"
	"github.com/selectc/selectc/cmd/echo-bench/internal/env"
	"github.com/selectc/selectc/cmd/echo-bench/internal/matrix"
	"github.com/selectc/selectc/cmd/echo-bench/internal/table"
)

// Settings records how the run was configured.
type Settings struct {
	Preset      string            `json:"preset"`
	Servers     []string          `json:"servers"`
	ServerNotes map[string]string `json:"server_notes,omitempty"`
	Cells       []matrix.Cell     `json:"cells"`
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
	Env         env.Env            `json:"env"`
	Settings    Settings           `json:"settings"`
	Summary     []matrix.Summary   `json:"summary,omitempty"`
	Samples     []matrix.Sample    `json:"samples,omitempty"`
	Callgrind   []callgrind.Result `json:"callgrind,omitempty"`
	Calls       *calls.Results     `json:"calls,omitempty"`
	Interrupted bool               `json:"interrupted,omitempty"`
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

// writeCSV writes one row per sample (the raw per-round data).
func writeCSV(w io.Writer, r *Results) error {
	if r.Calls != nil {
		return calls.WriteCSV(w, r.Calls)
	}
	return matrix.WriteCSV(w, r.Samples)
}

// writeBenchfmt writes one Go benchmark line per clean sample, so that
// `benchstat old.txt new.txt` compares two runs (each round is a sample).
func writeBenchfmt(w io.Writer, r *Results) error {
	fmt.Fprintf(w, "goos: linux\ngoarch: %s\npkg: github.com/selectc/selectc/cmd/echo-bench\ncpu: %s\n",
		goarch(r.Env.Go), r.Env.CPUModel)
	fmt.Fprintf(w, "depth: %d\nwindow: %s\n", r.Settings.Depth, r.Settings.Window)
	matrix.WriteBenchfmt(w, r.Samples)
	callgrind.WriteBenchfmt(w, r.Callgrind)
	if r.Calls != nil {
		calls.WriteBenchfmt(w, r.Calls)
	}
	return nil
}

func goarch(goVersion string) string {
	if _, arch, ok := strings.Cut(goVersion, "/"); ok {
		return arch
	}
	return "unknown"
}

// writeMarkdown renders the environment header, then the benchmark's
// tables, then any errors.
func writeMarkdown(w io.Writer, r *Results) error {
	e, st := r.Env, r.Settings
	fmt.Fprintf(w, "# selectc echo benchmark, %s\n\n", e.Date)
	if r.Interrupted {
		fmt.Fprintf(w, "**Interrupted: the tables hold only what was measured before the signal.**\n\n")
	}
	rows := e.Rows()
	row := func(k, v string) { rows = append(rows, table.Row{Key: k, Value: v}) }
	if c := r.Calls; c != nil {
		row("pinning", st.Pinning)
		row("run", calls.RunText(c))
		table.WriteRows(w, "", "", rows)
		calls.WriteMarkdown(w, c)
		return nil
	}
	row("RLIMIT_NOFILE", fmt.Sprintf("load generator %s; servers %d", e.NoFileClient, e.NoFileServer))
	row("pinning", st.Pinning)
	if len(r.Callgrind) > 0 {
		row("run", callgrind.RunText(r.Callgrind))
	} else {
		row("run", fmt.Sprintf("preset %s · %d round(s) · warm-up %s · window %s · depth %d · seed %d · server order shuffled per round and cell",
			st.Preset, st.Rounds, st.Warmup, st.Window, st.Depth, st.Seed))
	}
	table.WriteRows(w, "", "", rows)
	var notes []table.Row
	for _, name := range st.Servers {
		notes = append(notes, table.Row{Key: name, Value: st.ServerNotes[name]})
	}
	table.WriteRows(w, "server", "what it is", notes)

	matrix.WriteMarkdown(w, r.Summary, st.Servers, st.Baseline)
	if len(r.Callgrind) > 0 {
		callgrind.WriteTable(w, r.Callgrind, st.Baseline)
	}
	if n := r.Errors(); n > 0 {
		fmt.Fprintf(w, "## Errors: %d\n\n", n)
		matrix.WriteErrors(w, r.Samples)
		callgrind.WriteErrors(w, r.Callgrind)
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "Errors: 0 (every echoed byte verified).\n")
	}
	return nil
}

// writeCharts draws the benchmark's charts into dir and returns the file
// names written.
func writeCharts(dir string, r *Results) ([]string, error) {
	if r.Calls != nil {
		return calls.WriteCharts(dir, r.Calls)
	}
	return matrix.WriteCharts(dir, &matrix.Results{Servers: r.Settings.Servers, Baseline: r.Settings.Baseline, Samples: r.Samples, Summary: r.Summary})
}
