package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// callWrapper is one way of making the same select call: a row of the
// call-level table and the worker that times it.
type callWrapper struct {
	Name  string // short name for -calls-wrappers, JSON and CSV
	Label string // the API, short enough for a chart's legend
	What  string // one line: what a call does
	// Program is the worker: a binary in the bin directory, or a script
	// (relative to the repository root) run by python3.
	Program string
	Python  bool
	API     string   // the worker's -api, if it has several
	Args    []string // more arguments
	// Cgo is, for a Go worker, the CGO_ENABLED its binary must have been
	// built with: x/sys/unix's row means nothing if the binary links cgo.
	Cgo string
}

// callWrappers are every wrapper of the call-level benchmark; c is the
// baseline the ratios divide by.
var callWrappers = []callWrapper{
	{Name: "c", Label: "C (FD_* macros, select)", Program: "selectcalls-c",
		What: "the C prototype's way: FD_ZERO, FD_SET per fd, select, FD_ISSET per fd (csrc/selectcalls.c, the C server's CFLAGS)"},
	{Name: "c-thread", Label: "C, + an idle thread", Program: "selectcalls-c", Args: []string{"-threads", "1"},
		What: "the same C in a process with a second, idle thread, as every Go process has: the kernel's select then takes and drops a reference on each watched file, which it skips for a single-threaded process"},
	{Name: "fdset", Label: "selectc.SelectFdSet + FdSet", Program: "selectcalls-go", API: "fdset", Cgo: "1",
		What: "the same loop on selectc's fd_set level: Zero, Set per fd, SelectFdSet, IsSet per fd, each one cgo call"},
	{Name: "select", Label: "selectc.Select", Program: "selectcalls-go", API: "select", Cgo: "1",
		What: "Python's contract from Go: a list in, a new slice of the ready ones out, one cgo call"},
	{Name: "selector", Label: "selectc.Selector", Program: "selectcalls-go", API: "selector", Cgo: "1",
		What: "selectc.Select with its memory kept between calls (no allocation)"},
	{Name: "poller", Label: "selectc.Poller", Program: "selectcalls-go", API: "poller", Cgo: "1",
		What: "fds registered once; Wait copies the C-side sets, selects and writes back the ready fds, one cgo call"},
	{Name: "unix", Label: "x/sys/unix.Select", Program: "selectcalls-unix", API: "unix", Cgo: "0",
		What: "the C prototype's loop in pure Go: FdSet methods in Go, one raw system call; binary built with CGO_ENABLED=0"},
	{Name: "py", Label: "Python select.select", Program: "cmd/echo-py/select_calls.py", Python: true, API: "select",
		What: "select.select(fds, [], [], 0): the list turned into fd_sets and the ready ones back into a new list"},
	{Name: "py-selectors", Label: "Python SelectSelector", Program: "cmd/echo-py/select_calls.py", Python: true, API: "selectors",
		What: "fds registered once, then sel.select(0): select.select underneath, plus a (key, events) pair per ready fd"},
}

// callsBaseline is the wrapper the ratios divide by.
const callsBaseline = "c"

// CallsGrid is a named set of call-level measurements.
type CallsGrid struct {
	Name    string        `json:"name"`
	Ns      []int         `json:"n"`     // watched descriptors
	Ready   []string      `json:"ready"` // one, all, none
	Rounds  int           `json:"rounds"`
	Warmup  time.Duration `json:"warmup_ns"`
	Window  time.Duration `json:"window_ns"`
	MaxCall int64         `json:"max_calls"` // per measurement, whatever the window
}

// The quick grid is echo-bench -calls (part of make bench): 15 cells × 9
// wrappers × 5 rounds of ~6 ms, about 5 s. Short windows and more rounds
// rather than the reverse: on a shared machine a window can lose its CPU,
// and the median over rounds shrugs that off. The full grid is make
// bench-calls: 7 rounds of 100 ms windows, about 2 minutes.
var (
	quickCallsGrid = CallsGrid{Name: "quick", Ns: []int{1, 8, 64, 256, 1000}, Ready: []string{"one", "all", "none"},
		Rounds: 5, Warmup: time.Millisecond, Window: 5 * time.Millisecond, MaxCall: 10_000_000}
	fullCallsGrid = CallsGrid{Name: "full", Ns: []int{1, 8, 64, 256, 1000}, Ready: []string{"one", "all", "none"},
		Rounds: 7, Warmup: 20 * time.Millisecond, Window: 100 * time.Millisecond, MaxCall: 10_000_000}
)

// CallCell is one point of the grid.
type CallCell struct {
	N     int    `json:"n"`
	Ready string `json:"ready"`
}

func (c CallCell) String() string { return fmt.Sprintf("n=%d/ready=%s", c.N, c.Ready) }

// readyCount is how many descriptors the cell has ready.
func (c CallCell) readyCount() int {
	switch c.Ready {
	case "all":
		return c.N
	case "one":
		return 1
	}
	return 0
}

// Cells lists the grid by readiness, then N.
func (g CallsGrid) Cells() []CallCell {
	var cells []CallCell
	for _, r := range g.Ready {
		for _, n := range g.Ns {
			cells = append(cells, CallCell{N: n, Ready: r})
		}
	}
	return cells
}

// callsOptions turns the flags into a grid and the wrappers to run.
func (o *options) callsGrid() (CallsGrid, []callWrapper, error) {
	g := quickCallsGrid
	switch o.callsGridName {
	case "quick":
	case "full":
		g = fullCallsGrid
	default:
		return g, nil, fmt.Errorf("-calls-grid %q: want quick or full", o.callsGridName)
	}
	var err error
	if o.callsN != "" {
		if g.Ns, err = parseInts(o.callsN); err != nil {
			return g, nil, fmt.Errorf("-calls-n: %w", err)
		}
		g.Name += " (overridden)"
	}
	if o.callsReady != "" {
		g.Ready = parseNames(o.callsReady)
		for _, r := range g.Ready {
			if r != "one" && r != "all" && r != "none" {
				return g, nil, fmt.Errorf("-calls-ready %q: want one, all or none", r)
			}
		}
		g.Name += " (overridden)"
	}
	for _, n := range g.Ns {
		if callsFirstFD+n > 1024 {
			return g, nil, fmt.Errorf("-calls-n %d: the watched descriptors %d..%d must stay below FD_SETSIZE (1024)", n, callsFirstFD, callsFirstFD+n-1)
		}
	}
	if o.rounds > 0 {
		g.Rounds = o.rounds
	}
	if o.warmup > 0 {
		g.Warmup = o.warmup
	}
	if o.duration > 0 {
		g.Window = o.duration
	}
	ws := callWrappers
	if o.callsWrappers != "" {
		ws = nil
		for _, name := range parseNames(o.callsWrappers) {
			i := slices.IndexFunc(callWrappers, func(w callWrapper) bool { return w.Name == name })
			if i < 0 {
				return g, nil, fmt.Errorf("unknown wrapper %q (known: %s)", name, wrapperNames(callWrappers))
			}
			ws = append(ws, callWrappers[i])
		}
	}
	return g, ws, nil
}

func wrapperNames(ws []callWrapper) string {
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	return strings.Join(names, ", ")
}

// argv is how to start w's worker.
func (w callWrapper) argv(binDir, repoRoot string) []string {
	var argv []string
	if w.Python {
		argv = []string{"python3", filepath.Join(repoRoot, w.Program)}
	} else {
		argv = []string{filepath.Join(binDir, w.Program)}
	}
	if w.API != "" {
		argv = append(argv, "-api", w.API)
	}
	return append(argv, w.Args...)
}

// check says why w's worker cannot be trusted or run: a missing program,
// or a Go binary built with the wrong CGO_ENABLED.
func (w callWrapper) check(binDir, repoRoot string) error {
	path := w.argv(binDir, repoRoot)[0]
	if w.Python {
		path = filepath.Join(repoRoot, w.Program)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("wrapper %s: %w (run `make` first, or pass -bin)", w.Name, err)
	}
	if w.Cgo == "" {
		return nil
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("wrapper %s: %w", w.Name, err)
	}
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" {
			if s.Value != w.Cgo {
				return fmt.Errorf("wrapper %s: %s was built with CGO_ENABLED=%s, want %s (build it as the Makefile does)", w.Name, path, s.Value, w.Cgo)
			}
			return nil
		}
	}
	return fmt.Errorf("wrapper %s: %s records no CGO_ENABLED setting", w.Name, path)
}

// CallSample is one wrapper measured on one cell in one round.
type CallSample struct {
	Round   int    `json:"round"`
	Wrapper string `json:"wrapper"`
	CallCell
	Calls     int64   `json:"calls"`
	Ns        int64   `json:"ns"`
	NsPerCall float64 `json:"ns_per_call"`
	Error     string  `json:"error,omitempty"`
}

func (s *CallSample) ok() bool { return s.Error == "" && s.Calls > 0 }

// CallsRun is the call-level benchmark's part of the results.
type CallsRun struct {
	Grid     CallsGrid      `json:"grid"`
	Baseline string         `json:"baseline"`
	Pinning  string         `json:"pinning"`
	Wrappers []CallsWrapper `json:"wrappers"`
	Samples  []CallSample   `json:"samples"`
	Summary  []CallSummary  `json:"summary"`
	Errors   int64          `json:"errors"`
}

// CallsWrapper describes one row of the results.
type CallsWrapper struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	What  string `json:"what"`
}

// runCalls starts one worker per wrapper, all pinned to cpu, and measures
// the grid round after round. Within a round the wrappers take turns on
// each cell, in an order that rotates by one and reverses from cell to
// cell, so each runs early and late and next to each other one; a ratio
// divides by the baseline's figure on the same cell in the same round.
func runCalls(ctx context.Context, g CallsGrid, ws []callWrapper, binDir, repoRoot string, cpu int, progressOut io.Writer) (*CallsRun, error) {
	run := &CallsRun{Grid: g, Baseline: callsBaseline}
	for _, w := range ws {
		if err := w.check(binDir, repoRoot); err != nil {
			return nil, err
		}
		run.Wrappers = append(run.Wrappers, CallsWrapper{Name: w.Name, Label: w.Label, What: w.What})
	}
	if err := closeInheritedOnExec(); err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	workers := make([]*callWorker, len(ws))
	defer func() {
		for i, w := range workers {
			if w != nil {
				if err := w.close(); err != nil {
					slog.Warn("call worker", "wrapper", ws[i].Name, "err", err)
				}
			}
		}
	}()
	for i, w := range ws {
		cw, err := startCallWorker(w.Name, w.argv(binDir, repoRoot), nil, cpu)
		if err != nil {
			return nil, err
		}
		workers[i] = cw
	}

	cells := g.Cells()
	prog := newProgress(progressOut, g.Rounds*len(cells)*len(ws))
	defer prog.finish()
	slot := 0
	for round := 1; round <= g.Rounds; round++ {
		for _, cell := range cells {
			order := turnOrder(len(ws), slot)
			slot++
			for _, i := range order {
				prog.step(fmt.Sprintf("round %d/%d · %s · %s", round, g.Rounds, cell, ws[i].Name))
				calls, d, err := workers[i].measure(ctx, cell.N, cell.Ready, g.Warmup, g.Window, g.MaxCall)
				if ctx.Err() != nil {
					return run, ctx.Err()
				}
				s := CallSample{Round: round, Wrapper: ws[i].Name, CallCell: cell, Calls: calls, Ns: d.Nanoseconds()}
				if err != nil {
					s.Error = firstLine(err.Error())
					run.Errors++
					slog.Error("call measurement failed", "wrapper", ws[i].Name, "cell", cell.String(), "round", round, "err", s.Error)
				} else {
					s.NsPerCall = float64(d.Nanoseconds()) / float64(calls)
				}
				run.Samples = append(run.Samples, s)
			}
		}
	}
	run.Summary = summarizeCalls(run.Samples, cells, ws, callsBaseline)
	if run.Errors > 0 {
		return run, fmt.Errorf("%d call measurement(s) failed", run.Errors)
	}
	return run, nil
}

// turnOrder is the order of n wrappers in the given slot: 0..n-1 rotated
// by slot, reversed in odd slots.
func turnOrder(n, slot int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = (i + slot) % n
	}
	if slot%2 == 1 {
		slices.Reverse(order)
	}
	return order
}
