package calls

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/selectc/selectc/cmd/echo-bench/internal/console"
)

// Sample is one wrapper measured on one cell in one round.
type Sample struct {
	Round   int    `json:"round"`
	Wrapper string `json:"wrapper"`
	Cell
	Calls     int64   `json:"calls"`
	Ns        int64   `json:"ns"`
	NsPerCall float64 `json:"ns_per_call"`
	Error     string  `json:"error,omitempty"`
}

func (s *Sample) ok() bool { return s.Error == "" && s.Calls > 0 }

// Results are the call-level benchmark's part of the results.
type Results struct {
	Grid     Grid          `json:"grid"`
	Baseline string        `json:"baseline"`
	Pinning  string        `json:"pinning"`
	Wrappers []WrapperInfo `json:"wrappers"`
	Samples  []Sample      `json:"samples"`
	Summary  []Summary     `json:"summary"`
	Errors   int64         `json:"errors"`
}

// WrapperInfo describes one row of the results.
type WrapperInfo struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	What  string `json:"what"`
}

// Measure starts one worker per wrapper, all pinned to cpu, and measures
// the grid round after round. Within a round the wrappers take turns on
// each cell, in an order that rotates by one and reverses from cell to
// cell, so each runs early and late and next to each other one; a ratio
// divides by the baseline's figure on the same cell in the same round.
func Measure(ctx context.Context, g Grid, ws []Wrapper, binDir, repoRoot string, cpu int, progressOut io.Writer) (*Results, error) {
	run := &Results{Grid: g, Baseline: Baseline}
	for _, w := range ws {
		if err := w.check(binDir, repoRoot); err != nil {
			return nil, err
		}
		run.Wrappers = append(run.Wrappers, WrapperInfo{Name: w.Name, Label: w.Label, What: w.What})
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
	prog := console.NewProgress(progressOut, g.Rounds*len(cells)*len(ws))
	defer prog.Finish()
	slot := 0
	for round := 1; round <= g.Rounds; round++ {
		for _, cell := range cells {
			order := turnOrder(len(ws), slot)
			slot++
			for _, i := range order {
				prog.Step(fmt.Sprintf("round %d/%d · %s · %s", round, g.Rounds, cell, ws[i].Name))
				calls, d, err := workers[i].measure(ctx, cell.N, cell.Ready, g.Warmup, g.Window, g.MaxCall)
				if ctx.Err() != nil {
					return run, ctx.Err()
				}
				s := Sample{Round: round, Wrapper: ws[i].Name, Cell: cell, Calls: calls, Ns: d.Nanoseconds()}
				if err != nil {
					s.Error = console.FirstLine(err.Error())
					run.Errors++
					slog.Error("call measurement failed", "wrapper", ws[i].Name, "cell", cell.String(), "round", round, "err", s.Error)
				} else {
					s.NsPerCall = float64(d.Nanoseconds()) / float64(calls)
				}
				run.Samples = append(run.Samples, s)
			}
		}
	}
	run.Summary = summarize(run.Samples, cells, ws, Baseline)
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
