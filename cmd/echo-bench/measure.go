package main

// The dispatch: which benchmark the flags ask for, set up with what they
// share (directories, the environment header, the servers).

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/callgrind"
	"github.com/selectc/selectc/cmd/echo-bench/internal/calls"
	"github.com/selectc/selectc/cmd/echo-bench/internal/env"
	"github.com/selectc/selectc/cmd/echo-bench/internal/matrix"
	"github.com/selectc/selectc/cmd/echo-bench/internal/servers"
	"github.com/selectc/selectc/cmd/internal/loadgen"
)

// measure runs the benchmark the flags ask for and returns the results;
// with a nil *Results the error is a setup problem, otherwise the results
// are partial (interrupted).
func measure(ctx context.Context, o *options, pin pinning, stderr io.Writer) (*Results, error) {
	repoRoot, binDir, err := o.dirs()
	if err != nil {
		return nil, err
	}
	if o.calls {
		return measureCalls(ctx, o, pin, repoRoot, binDir, stderr)
	}
	return measureServers(ctx, o, pin, repoRoot, binDir, stderr)
}

// measureServers measures the echo matrix or, with -callgrind, each
// server's instructions per echo: both run the servers of serverproc's
// table.
func measureServers(ctx context.Context, o *options, pin pinning, repoRoot, binDir string, stderr io.Writer) (*Results, error) {
	presetName, p, err := o.preset()
	if err != nil {
		return nil, err
	}
	ss, err := servers.Resolve(parseNames(o.servers), binDir, repoRoot, pin.serverCPU)
	if err != nil {
		return nil, err
	}
	o.out = o.outDir(repoRoot, "")
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	if _, err := loadgen.RaiseNoFile(uint64(p.Idle+p.IdleConn+p.MaxConns()) + 64); err != nil {
		return nil, err
	}
	pinText := pin.text
	if o.callgrind {
		ss, pinText = callgrind.Rows(ss), callgrind.PinningText()
	} else if pinText == "" {
		pinText = servers.PinningText(o.clientCPU, pin.serverCPU, ss)
	}

	res := &Results{Env: env.Collect(ctx, repoRoot, o.callgrind)}
	res.Env.NoFileServer = o.noFile
	res.Env.ClientCPUs = pinText
	res.Env.ServerCPU = "unpinned"
	if pin.serverCPU >= 0 {
		res.Env.ServerCPU = fmt.Sprint(pin.serverCPU)
	}
	res.Settings = Settings{
		Preset: presetName, Cells: p.Cells(), Rounds: p.Rounds, Warmup: p.Warmup.String(), Window: p.Duration.String(),
		Depth: o.depth, Baseline: o.baseline, Seed: o.seed, Pinning: pinText, ServerNotes: map[string]string{},
	}
	if o.callgrind {
		res.Settings.Preset, res.Settings.Cells, res.Settings.Rounds = "callgrind", nil, 0
		res.Settings.Warmup, res.Settings.Window = "", ""
	}
	if err := servers.Preflight(ctx, ss, o.noFile, o.verbose); err != nil {
		return nil, err
	}
	for _, s := range ss {
		res.Settings.Servers = append(res.Settings.Servers, s.Name)
		res.Settings.ServerNotes[s.Name] = s.Description()
	}

	if o.callgrind {
		cfg, err := o.callgrindConfig()
		if err != nil {
			return nil, err
		}
		if res.Callgrind, err = callgrind.Run(ctx, ss, cfg); err != nil {
			res.Interrupted = ctx.Err() != nil
		}
		return res, err
	}
	res.Samples, err = matrix.Run(ctx, matrix.Config{
		Servers: ss, Cells: p.Cells(), Rounds: p.Rounds, Warmup: p.Warmup, Duration: p.Duration,
		Depth: o.depth, NoFile: o.noFile, Seed: o.seed, Progress: stderr, Verbose: o.verbose,
		ClientCores: pin.clientCores, MeasuredCPUs: pin.measured,
	})
	res.Summary = matrix.Summarize(res.Samples, p.Cells(), res.Settings.Servers, o.baseline)
	if err != nil {
		res.Interrupted = ctx.Err() != nil
	}
	return res, err
}

// measureCalls measures, for -calls, the call-level grid instead of the
// echo matrix.
func measureCalls(ctx context.Context, o *options, pin pinning, repoRoot, binDir string, stderr io.Writer) (*Results, error) {
	g, ws, err := o.callsGrid()
	if err != nil {
		return nil, err
	}
	o.out = o.outDir(repoRoot, "-calls")
	pinText := pin.text
	if pinText == "" {
		pinText = calls.PinningText(o.clientCPU, pin.serverCPU)
	}
	res := &Results{Env: env.Collect(ctx, repoRoot, false)}
	res.Env.ClientCPUs = pinText
	res.Settings = Settings{Preset: "calls " + g.Name, Rounds: g.Rounds, Baseline: calls.Baseline, Pinning: pinText}
	res.Calls, err = calls.Measure(ctx, g, ws, binDir, repoRoot, pin.serverCPU, stderr)
	if res.Calls == nil {
		return nil, err
	}
	res.Interrupted = ctx.Err() != nil
	return res, err
}
