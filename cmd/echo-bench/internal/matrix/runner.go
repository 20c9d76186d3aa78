package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/console"
	"github.com/selectc/selectc/cmd/echo-bench/internal/cpu"
	"github.com/selectc/selectc/cmd/echo-bench/internal/servers"
	"github.com/selectc/selectc/cmd/internal/loadgen"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// Config is everything a run of the matrix needs.
type Config struct {
	Servers  []servers.Server
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
	cfg  Config
	prog *console.Progress
}

// Run measures every server on every cell, round after round. The order
// of servers is shuffled afresh for each round and cell, so no server always
// runs first (cold caches) or right after another one's load. On
// cancellation it returns what it has.
func Run(ctx context.Context, cfg Config) ([]Sample, error) {
	r := &runner{cfg: cfg, prog: console.NewProgress(cfg.Progress, cfg.Rounds*len(cfg.Cells)*len(cfg.Servers))}
	defer r.prog.Finish()
	var samples []Sample
	for round := 1; round <= r.cfg.Rounds; round++ {
		rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(round)))
		for ci, cell := range r.cfg.Cells {
			order := append([]servers.Server(nil), r.cfg.Servers...)
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for si, s := range order {
				r.prog.Step(fmt.Sprintf("round %d/%d · cell %d/%d %s · %s (%d/%d)",
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
func (r *runner) measure(ctx context.Context, s servers.Server, cell Cell, round int) (Sample, error) {
	smp := Sample{Round: round, Server: s.Name, Cell: cell, Depth: r.cfg.Depth, Note: s.Note}
	fail := func(n int64, what string, err error) {
		smp.Errors += n
		smp.ErrorSamples = append(smp.ErrorSamples, what+": "+console.FirstLine(err.Error()))
	}
	p, err := serverproc.Start(ctx, s.Spec, s.Options(r.cfg.NoFile, r.cfg.Verbose))
	if err != nil {
		if ctx.Err() != nil {
			return smp, ctx.Err()
		}
		fail(1, "start", err)
		smp.ServerLog = console.Tail(err.Error(), serverLogKeep) // serverproc put the output there
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
	var ct0, ct1 cpu.Times
	var err0, err1, errCT error
	res, runErr := sess.Run(ctx, loadgen.Window{
		Warmup:    r.cfg.Warmup,
		Duration:  r.cfg.Duration,
		MaxEchoes: maxEchoesPerWindow,
		OnStart: func() {
			ct0, errCT = cpu.ReadTimes(r.cfg.MeasuredCPUs)
			st0, err0 = p.Stats()
		},
		OnEnd: func() {
			st1, err1 = p.Stats()
			if errCT == nil {
				ct1, errCT = cpu.ReadTimes(r.cfg.MeasuredCPUs)
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
		srv := st1.CPU - st0.CPU
		smp.SrvCPUus = us(srv) / float64(res.Echoes)
		smp.SrvCPUPct = 100 * srv.Seconds() / res.Window.Seconds()
		smp.CtxSw = float64((st1.VolCtxt+st1.InvolCtxt)-(st0.VolCtxt+st0.InvolCtxt)) / float64(res.Echoes)
	}
	if errCT == nil && err0 == nil && err1 == nil && res.Window > 0 {
		// Whatever ran on the measured cores besides the two of us.
		other := (ct1.Task - ct0.Task) - (st1.CPU - st0.CPU) - res.ClientCPU
		smp.OtherCPUPct = max(0, 100*other.Seconds()/res.Window.Seconds())
		smp.StealPct = 100 * (ct1.Steal - ct0.Steal).Seconds() / res.Window.Seconds()
	}
	smp.PeakRSS, smp.Threads = st1.PeakRSS, st1.Threads
	if errFinal == nil {
		smp.PeakRSS = max(smp.PeakRSS, final.PeakRSS)
	}
	if smp.Errors > 0 {
		smp.ServerLog = console.Tail(p.Log(), serverLogKeep)
	}
	return smp, nil
}

// serverLogKeep is how much of a failing server's output a sample keeps:
// enough for its last complaints, not a megabyte of -v lines.
const serverLogKeep = 2 << 10

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
