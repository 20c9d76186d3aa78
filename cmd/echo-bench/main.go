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
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the parsed flags.
type options struct {
	quick                        bool
	servers, conns, sizes        string
	idle, idleActive             int
	rounds, depth                int
	warmup, duration             time.Duration
	bin, out                     string
	jsonFile, csvFile, benchFile string
	baseline                     string
	clientCPU, serverCPU         int
	noPin                        bool
	noFile                       uint64
	seed                         uint64
	callgrind                    bool
	cgN1, cgN2                   int64
	cgSize                       int
	calls                        bool
	callsGridName                string
	callsN, callsReady           string
	callsWrappers                string
	verbose                      bool
	set                          map[string]bool // flags given explicitly
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("echo-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "the quick preset (make bench): conns 1,10,100,1000 × sizes 64,1024 + idle, 2 rounds, short windows")
	fs.StringVar(&o.servers, "servers", strings.Join(defaultServers(tableSpecs()), ","), "servers to compare (also: "+optionalServers(tableSpecs())+")")
	fs.StringVar(&o.conns, "conns", "", "active connections per cell, comma-separated (default: the preset's)")
	fs.StringVar(&o.sizes, "sizes", "", "message sizes in bytes, comma-separated (default: the preset's)")
	fs.IntVar(&o.idle, "idle", -1, "idle connections of the idle cell, 0 for no idle cell (default: the preset's, 900)")
	fs.IntVar(&o.idleActive, "idle-active", 10, "active connections of the idle cell")
	fs.IntVar(&o.rounds, "rounds", 0, "rounds (default: the preset's)")
	fs.DurationVar(&o.warmup, "warmup", 0, "warm-up before each measured window (default: the preset's)")
	fs.DurationVar(&o.duration, "duration", 0, "measured window per cell (default: the preset's)")
	fs.IntVar(&o.depth, "depth", 1, "messages in flight per connection")
	fs.StringVar(&o.bin, "bin", "", "directory holding the built servers (default: bin/ at the repository root)")
	fs.StringVar(&o.out, "out", "", `output directory (default: bench/results/<timestamp>/ at the repository root; "none" writes no directory)`)
	fs.StringVar(&o.jsonFile, "json", "", "also write the JSON results to this file")
	fs.StringVar(&o.csvFile, "csv", "", "also write the per-round CSV to this file")
	fs.StringVar(&o.benchFile, "benchfmt", "", "also write Go benchmark-format lines (for benchstat) to this file")
	fs.StringVar(&o.baseline, "baseline", "c", "server the ratios divide by")
	fs.IntVar(&o.clientCPU, "client-cpu", 0, "CPU the load generator is pinned to")
	fs.IntVar(&o.serverCPU, "server-cpu", 1, "CPU the servers are pinned to")
	fs.BoolVar(&o.noPin, "no-pin", false, "pin nothing")
	fs.Uint64Var(&o.noFile, "nofile", 4096, "RLIMIT_NOFILE of each server")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the server order shuffle (default: from the clock)")
	fs.BoolVar(&o.callgrind, "callgrind", false, "instead of the matrix, count user-space instructions per echo under valgrind --tool=callgrind")
	fs.Int64Var(&o.cgN1, "callgrind-n1", 2000, "echoes before the first callgrind dump")
	fs.Int64Var(&o.cgN2, "callgrind-n2", 12000, "echoes before the second callgrind dump")
	fs.IntVar(&o.cgSize, "callgrind-size", 64, "message size of the callgrind runs")
	fs.BoolVar(&o.calls, "calls", false, "instead of the matrix, time one select call through every wrapper (C, selectc, x/sys/unix, Python) on 1 to 1000 descriptors")
	fs.StringVar(&o.callsGridName, "calls-grid", "quick", "grid of -calls: quick (a few seconds) or full (make bench-calls); -rounds, -warmup and -duration override its")
	fs.StringVar(&o.callsN, "calls-n", "", "watched descriptors per call, comma-separated (default: the grid's, 1,8,64,256,1000)")
	fs.StringVar(&o.callsReady, "calls-ready", "", "which are ready, comma-separated: one, all, none (default: all three)")
	fs.StringVar(&o.callsWrappers, "calls-wrappers", "", "wrappers of -calls, comma-separated (default: all: "+wrapperNames(callWrappers)+")")
	fs.BoolVar(&o.verbose, "v", false, "debug logs, and copy the servers' output to stderr")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	return o, nil
}

// preset applies the chosen preset and the explicit overrides.
func (o *options) preset() (name string, p Preset, err error) {
	name, p = "full", fullPreset
	if o.quick {
		name, p = "quick", quickPreset
	}
	custom := false
	if o.conns != "" {
		if p.Conns, err = parseInts(o.conns); err != nil {
			return "", p, fmt.Errorf("-conns: %w", err)
		}
		custom = true
	}
	if o.sizes != "" {
		if p.Sizes, err = parseInts(o.sizes); err != nil {
			return "", p, fmt.Errorf("-sizes: %w", err)
		}
		custom = true
	}
	if o.idle >= 0 {
		p.Idle, custom = o.idle, true
	}
	if o.set["idle-active"] {
		p.IdleConn, custom = o.idleActive, true
	}
	if o.rounds > 0 {
		p.Rounds, custom = o.rounds, true
	}
	if o.warmup > 0 {
		p.Warmup, custom = o.warmup, true
	}
	if o.duration > 0 {
		p.Duration, custom = o.duration, true
	}
	if o.depth < 1 {
		return "", p, fmt.Errorf("-depth %d < 1", o.depth)
	}
	if n := o.depth * maxInts(p.Sizes); n > loadgen.MaxInFlight {
		return "", p, fmt.Errorf("-depth %d × size %d = %d bytes in flight per connection, more than %d", o.depth, maxInts(p.Sizes), n, loadgen.MaxInFlight)
	}
	if custom {
		name += " (overridden)"
	}
	return name, p, nil
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

	res, err := run(ctx, o, pinning, clientCores, serverCPU, measured, stderr)
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

// run measures and returns the results; with a nil *Results the error is a
// setup problem, otherwise the results are partial (interrupted).
func run(ctx context.Context, o *options, pinning string, clientCores, serverCPU int, measured []int, stderr io.Writer) (*Results, error) {
	if o.calls {
		return runCallsMode(ctx, o, pinning, serverCPU, stderr)
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
		res.Samples, err = r.run(ctx)
		res.Summary = summarize(res.Samples, p.Cells(), res.Settings.Servers, o.baseline)
	}
	if err != nil {
		res.Interrupted = ctx.Err() != nil
	}
	return res, err
}

// dirs finds the repository root and the directory of the built programs
// (-bin, or bin/ at the root).
func (o *options) dirs() (repoRoot, binDir string, err error) {
	if repoRoot, err = serverproc.RepoRoot(); err != nil {
		return "", "", err
	}
	binDir = o.bin
	if binDir == "" {
		binDir = filepath.Join(repoRoot, "bin")
	}
	binDir, err = filepath.Abs(binDir)
	return repoRoot, binDir, err
}

// runCallsMode is run for -calls: the call-level grid instead of the
// echo matrix.
func runCallsMode(ctx context.Context, o *options, pinning string, cpu int, stderr io.Writer) (*Results, error) {
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

// writeOutputs prints the Markdown to stdout and writes every file.
func writeOutputs(o *options, res *Results, stdout io.Writer) error {
	if err := writeMarkdown(stdout, res); err != nil {
		return err
	}
	type file struct {
		path  string
		write func(io.Writer, *Results) error
	}
	var files []file
	if o.out != "none" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
		files = append(files,
			file{filepath.Join(o.out, "report.md"), writeMarkdown},
			file{filepath.Join(o.out, "results.json"), writeJSON},
			file{filepath.Join(o.out, "results.csv"), writeCSV},
			file{filepath.Join(o.out, "bench.txt"), writeBenchfmt},
		)
	}
	for _, f := range []file{{o.jsonFile, writeJSON}, {o.csvFile, writeCSV}, {o.benchFile, writeBenchfmt}} {
		if f.path != "" {
			files = append(files, f)
		}
	}
	for _, f := range files {
		if err := writeFile(f.path, res, f.write); err != nil {
			return err
		}
	}
	if o.out != "none" && (len(res.Samples) > 0 || res.Calls != nil) {
		charts, err := writeCharts(o.out, res)
		if err != nil {
			return err
		}
		slog.Info("results written", "dir", o.out, "charts", len(charts))
	}
	return nil
}

func writeFile(path string, res *Results, write func(io.Writer, *Results) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f, res); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
