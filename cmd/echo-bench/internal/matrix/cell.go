// Package matrix is echo-bench's echo matrix: every server on every cell
// (connections × message size, and an idle cell), round after round, each
// figure a ratio to the baseline server in the same round.
package matrix

import (
	"fmt"
	"time"
)

// Cell is one point of the matrix: Conns active connections (plus Idle
// connections held open without traffic) echoing Size-byte messages.
type Cell struct {
	Conns int `json:"conns"`
	Idle  int `json:"idle"`
	Size  int `json:"size"`
}

// String is the cell as the tables show it.
func (c Cell) String() string {
	if c.Idle > 0 {
		return fmt.Sprintf("conns=%d+%d idle, size=%d B", c.Conns, c.Idle, c.Size)
	}
	return fmt.Sprintf("conns=%d, size=%d B", c.Conns, c.Size)
}

// Key is the cell as a benchmark sub-name, key=value pairs joined by "/", so
// benchstat can group and filter by each.
func (c Cell) Key() string {
	if c.Idle > 0 {
		return fmt.Sprintf("conns=%d/idle=%d/size=%d", c.Conns, c.Idle, c.Size)
	}
	return fmt.Sprintf("conns=%d/size=%d", c.Conns, c.Size)
}

// Preset is a named set of defaults for the matrix flags.
type Preset struct {
	Conns          []int
	Sizes          []int
	Idle, IdleConn int // the idle cell: IdleConn active + Idle idle connections (Idle 0: no idle cell)
	Rounds         int
	Warmup         time.Duration
	Duration       time.Duration
}

// QuickPreset is what `make bench` runs. Its budget is 3 minutes on two
// cores for the seven default servers: 9 cells x 7 servers x 2 rounds = 126
// measurements of ~1.1 s each (0.3 s warm-up, 0.7 s window, start/stop).
var QuickPreset = Preset{
	Conns:    []int{1, 10, 100, 1000},
	Sizes:    []int{64, 1024},
	Idle:     900,
	IdleConn: 10,
	Rounds:   2,
	Warmup:   300 * time.Millisecond,
	Duration: 700 * time.Millisecond,
}

// FullPreset is `make bench-full`: the whole matrix, three rounds, longer
// windows (16 cells x 7 servers x 3 rounds x ~3.2 s, about 18 minutes).
var FullPreset = Preset{
	Conns:    []int{1, 10, 100, 500, 1000},
	Sizes:    []int{64, 1024, 16384},
	Idle:     900,
	IdleConn: 10,
	Rounds:   3,
	Warmup:   time.Second,
	Duration: 2 * time.Second,
}

// Cells lists the matrix in report order: by size, then connections, and
// the idle cell (at the first size) last.
func (p Preset) Cells() []Cell {
	var cells []Cell
	for _, s := range p.Sizes {
		for _, c := range p.Conns {
			cells = append(cells, Cell{Conns: c, Size: s})
		}
	}
	if p.Idle > 0 && len(p.Sizes) > 0 {
		cells = append(cells, Cell{Conns: p.IdleConn, Idle: p.Idle, Size: p.Sizes[0]})
	}
	return cells
}

// MaxConns is the most active connections of any cell of p.
func (p Preset) MaxConns() int { return maxOf(p.Conns) }

// MaxSize is the largest message size of p.
func (p Preset) MaxSize() int { return maxOf(p.Sizes) }

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
