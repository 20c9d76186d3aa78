package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/selectc/selectc/cmd/internal/loadgen"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// runConfig is everything the runner needs.
type runConfig struct {
	Servers  []server
	Cells    []Cell
	Rounds   int
	Warmup   time.Duration
	Duration time.Duration
	Depth    int
	NoFile   uint64 // servers' RLIMIT_NOFILE
	Seed     uint64 // for the server order of each round
	// ClientCores is how many cores the load generator may use; a cell is
	// client-bound when its CPU reaches clientBoundPct of them.
	ClientCores int
	// MeasuredCPUs are the cores whose load from other processes is
	// reported (the pinned ones; empty: the whole machine).
	MeasuredCPUs []int
	Progress     io.Writer
	Verbose      bool // copy server output to stderr
}

// maxEchoesPerWindow bounds a window by count as well as by time. Two
// loopback cores echo well under a million messages a second, so in a
// window of seconds the cap only matters if the clock misbehaves.
const maxEchoesPerWindow = 100_000_000

// runner measures every server on every cell, round after round.
type runner struct {
	cfg  runConfig
	prog *progress
}

// preflight starts and stops each server once, so a missing or broken
// binary (or a mode the binary does not have yet) fails the run at once
// rather than after minutes of measuring: a server asked for is measured or
// the run fails, it is never silently left out.
func (r *runner) preflight(ctx context.Context) error {
	for _, s := range r.cfg.Servers {
		if err := s.Spec.Check(); err != nil {
			return fmt.Errorf("%w (run `make` first, or pass -bin)", err)
		}
		p, err := serverproc.Start(ctx, s.Spec, r.procOptions(s))
		if err != nil {
			// serverproc appends the server's output, which names the flag.
			return fmt.Errorf("server %s (%s) does not start; is bin/ up to date with the tree (`make`)?\n%w", s.Name, s.Spec.Source, err)
		}
		if _, err := p.Stop(); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) procOptions(s server) serverproc.Options {
	opt := serverproc.Options{NoFile: r.cfg.NoFile, CPU: s.CPU, Env: s.Env}
	if r.cfg.Verbose {
		opt.Stderr = prefixWriter{w: stderrWriter(), prefix: s.Name + ": "}
	}
	return opt
}

// matrix measures every server on every cell, round after round. The order
// of servers is shuffled afresh for each round and cell, so no server always
// runs first (cold caches) or right after another one's load. On
// cancellation it returns what it has.
func (r *runner) matrix(ctx context.Context) ([]Sample, error) {
	total := r.cfg.Rounds * len(r.cfg.Cells) * len(r.cfg.Servers)
	r.prog = newProgress(r.cfg.Progress, total)
	defer r.prog.finish()
	var samples []Sample
	for round := 1; round <= r.cfg.Rounds; round++ {
		rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(round)))
		for ci, cell := range r.cfg.Cells {
			order := append([]server(nil), r.cfg.Servers...)
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for si, s := range order {
				r.prog.step(fmt.Sprintf("round %d/%d · cell %d/%d %s · %s (%d/%d)",
					round, r.cfg.Rounds, ci+1, len(r.cfg.Cells), cell, s.Name, si+1, len(order)))
				smp, err := r.measure(ctx, s, cell, round)
				if err != nil {
					return samples, err
				}
				if smp.Errors > 0 {
					slog.Error("errors", "server", s.Name, "cell", cell.String(), "round", round,
						"errors", smp.Errors, "first", strings.Join(smp.ErrorSamples, "; "), "note", smp.Note)
				}
				samples = append(samples, smp)
			}
		}
	}
	return samples, nil
}

// measure runs one server on one cell: start it, open the connections,
// warm up, measure, stop it. Failures of the server are recorded in the
// sample; only cancellation returns an error.
func (r *runner) measure(ctx context.Context, s server, cell Cell, round int) (Sample, error) {
	smp := Sample{Round: round, Server: s.Name, Cell: cell, Depth: r.cfg.Depth, Note: s.Note}
	fail := func(n int64, what string, err error) {
		smp.Errors += n
		smp.ErrorSamples = append(smp.ErrorSamples, what+": "+firstLine(err.Error()))
	}
	p, err := serverproc.Start(ctx, s.Spec, r.procOptions(s))
	if err != nil {
		if ctx.Err() != nil {
			return smp, ctx.Err()
		}
		fail(1, "start", err)
		smp.ServerLog = tailOf(err.Error(), serverLogKeep) // serverproc put the output there
		return smp, nil
	}
	defer p.Stop() // a no-op after the Stop below; covers early returns

	sess, err := loadgen.Open(ctx, loadgen.Config{
		Addr: p.Addr, Conns: cell.Conns, Idle: cell.Idle, Size: cell.Size,
		Depth: r.cfg.Depth, Seed: uint64(round),
	})
	if err != nil {
		if ctx.Err() != nil {
			return smp, ctx.Err()
		}
		var se *loadgen.SetupError
		n := int64(1)
		if errors.As(err, &se) {
			n = int64(se.Failed)
		}
		fail(n, "open", err)
		return smp, nil
	}
	var st0, st1 serverproc.Stats
	var ct0, ct1 cpuTimes
	var err0, err1, errCT error
	res, runErr := sess.Run(ctx, loadgen.Window{
		Warmup:    r.cfg.Warmup,
		Duration:  r.cfg.Duration,
		MaxEchoes: maxEchoesPerWindow,
		OnStart: func() {
			ct0, errCT = readCPUTimes(r.cfg.MeasuredCPUs)
			st0, err0 = p.Stats()
		},
		OnEnd: func() {
			st1, err1 = p.Stats()
			if errCT == nil {
				ct1, errCT = readCPUTimes(r.cfg.MeasuredCPUs)
			}
		},
	})
	sess.Close()
	final, errFinal := p.Stats()
	if _, err := p.Stop(); err != nil && ctx.Err() == nil {
		fail(1, "stop", err)
	}
	if runErr != nil {
		if ctx.Err() != nil {
			return smp, ctx.Err()
		}
		fail(1, "run", runErr)
	}
	smp.Errors += res.Errors
	smp.ErrorSamples = append(smp.ErrorSamples, res.ErrorSamples...)

	smp.WindowSec = res.Window.Seconds()
	smp.Echoes = res.Echoes
	smp.EchoesPerSec = res.EchoesPerSec()
	smp.MBPerSec = res.MBPerSec()
	smp.P50us = us(res.RTT.Quantile(0.50))
	smp.P99us = us(res.RTT.Quantile(0.99))
	smp.CliCPUPct = res.ClientCPUPercent()
	smp.ClientBound = smp.CliCPUPct >= clientBoundPct*float64(max(r.cfg.ClientCores, 1))
	if err := errors.Join(err0, err1); err != nil {
		fail(1, "server stats", err)
	} else if res.Echoes > 0 && res.Window > 0 {
		cpu := st1.CPU - st0.CPU
		smp.SrvCPUus = us(cpu) / float64(res.Echoes)
		smp.SrvCPUPct = 100 * cpu.Seconds() / res.Window.Seconds()
		smp.CtxSw = float64((st1.VolCtxt+st1.InvolCtxt)-(st0.VolCtxt+st0.InvolCtxt)) / float64(res.Echoes)
	}
	if errCT == nil && err0 == nil && err1 == nil && res.Window > 0 {
		// Whatever ran on the measured cores besides the two of us.
		other := (ct1.task - ct0.task) - (st1.CPU - st0.CPU) - res.ClientCPU
		smp.OtherCPUPct = max(0, 100*other.Seconds()/res.Window.Seconds())
		smp.StealPct = 100 * (ct1.steal - ct0.steal).Seconds() / res.Window.Seconds()
	}
	smp.PeakRSS, smp.Threads = st1.PeakRSS, st1.Threads
	if errFinal == nil {
		smp.PeakRSS = max(smp.PeakRSS, final.PeakRSS)
	}
	if smp.Errors > 0 {
		smp.ServerLog = tailOf(p.Log(), serverLogKeep)
	}
	return smp, nil
}

// serverLogKeep is how much of a failing server's output a sample keeps:
// enough for its last complaints, not a megabyte of -v lines.
const serverLogKeep = 2 << 10

func tailOf(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[...]" + s[len(s)-n:]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// firstLine keeps a multi-line error (serverproc appends the server's whole
// output) to its first line for tables and logs.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
