package calls

import (
	"fmt"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/callworker"
)

// Grid is a named set of call-level measurements.
type Grid struct {
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
	quickGrid = Grid{Name: "quick", Ns: []int{1, 8, 64, 256, 1000}, Ready: []string{"one", "all", "none"},
		Rounds: 5, Warmup: time.Millisecond, Window: 5 * time.Millisecond, MaxCall: 10_000_000}
	fullGrid = Grid{Name: "full", Ns: []int{1, 8, 64, 256, 1000}, Ready: []string{"one", "all", "none"},
		Rounds: 7, Warmup: 20 * time.Millisecond, Window: 100 * time.Millisecond, MaxCall: 10_000_000}
)

// Cell is one point of the grid.
type Cell struct {
	N     int    `json:"n"`
	Ready string `json:"ready"`
}

// String is the cell as benchmark names and logs show it.
func (c Cell) String() string { return fmt.Sprintf("n=%d/ready=%s", c.N, c.Ready) }

// readyCount is how many descriptors the cell has ready.
func (c Cell) readyCount() int {
	switch c.Ready {
	case "all":
		return c.N
	case "one":
		return 1
	}
	return 0
}

// Cells lists the grid by readiness, then N.
func (g Grid) Cells() []Cell {
	var cells []Cell
	for _, r := range g.Ready {
		for _, n := range g.Ns {
			cells = append(cells, Cell{N: n, Ready: r})
		}
	}
	return cells
}

// GridNamed is the grid of -calls-grid: quick or full.
func GridNamed(name string) (Grid, error) {
	switch name {
	case "quick":
		return quickGrid, nil
	case "full":
		return fullGrid, nil
	}
	return quickGrid, fmt.Errorf("-calls-grid %q: want quick or full", name)
}

// Check refuses a grid whose cells the workers cannot lay out: a
// readiness state other than one, all or none, or watched descriptors
// that would reach FD_SETSIZE.
func (g Grid) Check() error {
	for _, r := range g.Ready {
		if r != "one" && r != "all" && r != "none" {
			return fmt.Errorf("-calls-ready %q: want one, all or none", r)
		}
	}
	for _, n := range g.Ns {
		if firstFD+n > callworker.FdSetSize {
			return fmt.Errorf("-calls-n %d: the watched descriptors %d..%d must stay below FD_SETSIZE (%d)", n, firstFD, firstFD+n-1, callworker.FdSetSize)
		}
	}
	return nil
}
