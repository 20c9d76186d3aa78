// Command echo-bench compares the project's echo servers side by side: it
// starts each one from bin/ pinned to its own CPU, drives it with N
// closed-loop connections from an in-process load generator that verifies
// every echoed byte, and reports each server's figures as ratios against the
// C prototype measured in the same round. It writes a Markdown table to
// stdout and JSON, CSV, Go benchmark-format lines and charts to -out.
//
// Usage:
//
//	echo-bench -quick                 # what `make bench` runs (≤ 3 min)
//	echo-bench                        # the full matrix (`make bench-full`)
//	echo-bench -servers c,go-net -conns 1,100 -sizes 64 -rounds 5
//	echo-bench -callgrind             # user-space instructions per echo
//	echo-bench -calls                 # one select call through every wrapper (make bench-calls: -calls-grid full)
//
// It builds nothing: run `make` first. It exits 1 if any echo failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/selectc/selectc/cmd/internal/loadgen"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "echo-bench:", err)
		return 2
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))

	// Pin before any goroutine of ours exists (signal.NotifyContext below
	// starts one), so that every thread is on the load generator's CPU.
	pinning, clientCores, serverCPU := "none (-no-pin)", runtime.GOMAXPROCS(0), -1
	var measured []int // cores whose foreign load is watched; none: all
	if !o.noPin {
		if n := cpuCount(); n < 2 || o.clientCPU == o.serverCPU {
			pinning = fmt.Sprintf("none (%d CPU(s), or client and server CPU equal)", n)
		} else if err := pinSelf(o.clientCPU); err != nil {
			slog.Warn("could not pin the load generator; running unpinned", "err", err)
			pinning = "none (pinning failed: " + err.Error() + ")"
		} else {
			clientCores, serverCPU = 1, o.serverCPU
			measured = []int{o.clientCPU, o.serverCPU}
			pinning = "" // run says it, once it knows the servers
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	res, err := measureMatrix(ctx, o, pinning, clientCores, serverCPU, measured, stderr)
	if res == nil {
		fmt.Fprintln(stderr, "echo-bench:", err)
		return 2
	}
	if err := writeOutputs(o, res, stdout); err != nil {
		fmt.Fprintln(stderr, "echo-bench:", err)
		return 1
	}
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "echo-bench:", err)
		return 1
	case res.Errors() > 0:
		fmt.Fprintf(stderr, "echo-bench: %d error(s); see the Errors section\n", res.Errors())
		return 1
	}
	return 0
}

// measureMatrix measures the echo matrix and returns the results; with a nil *Results the error is a
// setup problem, otherwise the results are partial (interrupted).
func measureMatrix(ctx context.Context, o *options, pinning string, clientCores, serverCPU int, measured []int, stderr io.Writer) (*Results, error) {
	if o.calls {
		return measureCalls(ctx, o, pinning, serverCPU, stderr)
	}
	presetName, p, err := o.preset()
	if err != nil {
		return nil, err
	}
	repoRoot, binDir, err := o.dirs()
	if err != nil {
		return nil, err
	}
	servers, err := resolveServers(parseNames(o.servers), binDir, repoRoot, serverCPU)
	if err != nil {
		return nil, err
	}
	if o.out == "" {
		o.out = filepath.Join(repoRoot, "bench", "results", time.Now().Format("20060102-150405"))
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	if _, err := loadgen.RaiseNoFile(uint64(p.Idle+p.IdleConn+maxInts(p.Conns)) + 64); err != nil {
		return nil, err
	}

	if o.callgrind {
		// Under callgrind an unpinned variant would repeat its base (every
		// Go server runs with one P there), and nothing is pinned.
		servers = slices.DeleteFunc(servers, func(s server) bool { return s.Unpinned })
		pinning = fmt.Sprintf("none: under valgrind a process runs one thread at a time anyway; Go servers with GOMAXPROCS=1 GODEBUG=%s",
			strings.Join(callgrindGODEBUG, ","))
	} else if pinning == "" {
		pinning = pinningText(o.clientCPU, serverCPU, servers)
	}

	res := &Results{Env: collectEnv(ctx, repoRoot, o.callgrind)}
	res.Env.NoFileServer = o.noFile
	res.Env.ClientCPUs = pinning
	if serverCPU >= 0 {
		res.Env.ServerCPU = fmt.Sprint(serverCPU)
	} else {
		res.Env.ServerCPU = "unpinned"
	}
	res.Settings = Settings{
		Preset: presetName, Cells: p.Cells(), Rounds: p.Rounds, Warmup: p.Warmup.String(), Window: p.Duration.String(),
		Depth: o.depth, Baseline: o.baseline, Seed: o.seed, Pinning: pinning, ServerNotes: map[string]string{},
	}
	if o.callgrind {
		res.Settings.Preset, res.Settings.Cells, res.Settings.Rounds = "callgrind", nil, 0
		res.Settings.Warmup, res.Settings.Window = "", ""
	}

	r := &runner{cfg: runConfig{
		Servers: servers, Cells: p.Cells(), Rounds: p.Rounds, Warmup: p.Warmup, Duration: p.Duration,
		Depth: o.depth, NoFile: o.noFile, Seed: o.seed, Progress: stderr, Verbose: o.verbose, ClientCores: clientCores, MeasuredCPUs: measured,
	}}
	if err := r.preflight(ctx); err != nil {
		return nil, err
	}
	for _, s := range servers {
		res.Settings.Servers = append(res.Settings.Servers, s.Name)
		res.Settings.ServerNotes[s.Name] = s.description()
	}

	if o.callgrind {
		if o.cgN1 < 1 || o.cgN2 <= o.cgN1 {
			return nil, fmt.Errorf("need 0 < -callgrind-n1 < -callgrind-n2")
		}
		dir := filepath.Join(o.out, "callgrind")
		if o.out == "none" {
			if dir, err = os.MkdirTemp("", "echo-bench-callgrind"); err != nil {
				return nil, err
			}
		}
		res.Callgrind, err = runCallgrind(ctx, servers, callgrindConfig{N1: o.cgN1, N2: o.cgN2, Size: o.cgSize, Dir: dir, NoFile: o.noFile, Verbose: o.verbose})
	} else {
		res.Samples, err = r.matrix(ctx)
		res.Summary = summarize(res.Samples, p.Cells(), res.Settings.Servers, o.baseline)
	}
	if err != nil {
		res.Interrupted = ctx.Err() != nil
	}
	return res, err
}

// measureCalls measures, for -calls, the call-level grid instead of the
// echo matrix.
func measureCalls(ctx context.Context, o *options, pinning string, cpu int, stderr io.Writer) (*Results, error) {
	g, ws, err := o.callsGrid()
	if err != nil {
		return nil, err
	}
	repoRoot, binDir, err := o.dirs()
	if err != nil {
		return nil, err
	}
	if o.out == "" {
		o.out = filepath.Join(repoRoot, "bench", "results", time.Now().Format("20060102-150405")+"-calls")
	}
	if pinning == "" {
		pinning = fmt.Sprintf("echo-bench on CPU %d (it only waits for answers), every worker on CPU %d, one measuring at a time; "+
			"Go workers at the runtime's default GOMAXPROCS for one allowed CPU (1)", o.clientCPU, cpu)
	}
	res := &Results{Env: collectEnv(ctx, repoRoot, false)}
	res.Env.ClientCPUs = pinning
	res.Settings = Settings{Preset: "calls " + g.Name, Rounds: g.Rounds, Baseline: callsBaseline, Pinning: pinning}
	res.Calls, err = runCalls(ctx, g, ws, binDir, repoRoot, cpu, stderr)
	if res.Calls == nil {
		return nil, err
	}
	res.Interrupted = ctx.Err() != nil
	return res, err
}

func maxInts(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
