// Package callgrind is echo-bench -callgrind: the user-space instructions
// each server spends per echo, counted by valgrind's callgrind tool, with
// what valgrind itself breaks told apart from what the server breaks.
package callgrind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/console"
	"github.com/selectc/selectc/cmd/echo-bench/internal/servers"
)

// Result is one server's user-space instruction count per echo.
type Result struct {
	Server    string  `json:"server"`
	Size      int     `json:"size"`
	N1        int64   `json:"n1"`
	N2        int64   `json:"n2"`
	Ir1       uint64  `json:"ir1"` // instructions executed up to the N1-th echo
	Ir2       uint64  `json:"ir2"` // ... up to the N2-th echo
	IrPerEcho float64 `json:"ir_per_echo"`
	Method    string  `json:"method"`
	Errors    int64   `json:"errors"`
	Note      string  `json:"note,omitempty"`
	// Attempts is how many valgrind runs the count took: 1 is the first
	// try; each failed attempt's reason, in plain words, is in Failures.
	Attempts int      `json:"attempts"`
	Failures []string `json:"failures,omitempty"`
}

// Config says how to measure.
type Config struct {
	N1, N2  int64
	Size    int
	Dir     string // where callgrind writes its files
	NoFile  uint64
	Verbose bool
}

// Callgrind runs are slow (a Python echo takes milliseconds under it), so
// the limits are generous; they still bound every wait.
const (
	callgrindStall  = 60 * time.Second
	callgrindWindow = 10 * time.Minute
)

// Attempts bounds the valgrind runs per server: a run that valgrind
// itself breaks (see valgrindTrouble) is retried, any other failure is not.
const Attempts = 3

// Run measures each server under valgrind's callgrind tool: in one
// server process it runs N1 echoes on one connection, dumps the counters
// with callgrind_control, runs N2-N1 more and dumps again; the second dump
// holds exactly those N2-N1 echoes (and whatever the idle loop costs), so
// start-up and the first warm-up echoes cancel out. When callgrind_control
// does not work, it falls back to two server runs of N1 and N2 echoes and
// subtracts their totals. A run that valgrind breaks is retried, up to
// Attempts in all, and the result says how many it took and why.
func Run(ctx context.Context, ss []servers.Server, cfg Config) ([]Result, error) {
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		return nil, fmt.Errorf("callgrind: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("callgrind: %w", err)
	}
	var out []Result
	for _, s := range ss {
		res := Result{Server: s.Name, Size: cfg.Size, N1: cfg.N1, N2: cfg.N2}
		for attempt := 1; attempt <= Attempts; attempt++ {
			slog.Info("callgrind", "server", s.Name, "n1", cfg.N1, "n2", cfg.N2, "attempt", attempt)
			res.Attempts = attempt
			res.Method = "callgrind_control dumps in one process"
			ir1, ir2, note, err := inOneProcess(ctx, valgrind, s, cfg)
			if errors.Is(err, errNoControl) {
				slog.Warn("callgrind_control failed; using two separate runs", "server", s.Name, "err", console.FirstLine(err.Error()))
				res.Method = "two runs, totals subtracted"
				ir1, ir2, err = inTwoRuns(ctx, valgrind, s, cfg)
			}
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			if err == nil {
				res.Ir1, res.Ir2, res.Note = ir1, ir2, note
				res.IrPerEcho = float64(int64(ir2)-int64(ir1)) / float64(cfg.N2-cfg.N1)
				break
			}
			trouble := valgrindTrouble(err.Error())
			if trouble == "" {
				// The server or the echoes failed, not valgrind: running
				// it again would hide a real bug.
				res.Errors, res.Note = 1, console.FirstLine(err.Error())
				break
			}
			res.Failures = append(res.Failures, fmt.Sprintf("attempt %d: %s", attempt, trouble))
			if attempt == Attempts {
				res.Errors, res.Note = 1, fmt.Sprintf("valgrind failed in all %d attempts: %s", attempt, trouble)
				break
			}
			slog.Warn("valgrind broke the run; trying again", "server", s.Name, "attempt", attempt, "why", trouble)
		}
		out = append(out, res)
	}
	return out, nil
}

// errNoControl marks a failure of callgrind_control itself (as opposed to
// the server or the echoes), which the two-run method avoids.
var errNoControl = errors.New("callgrind_control failed")
