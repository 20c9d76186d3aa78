package main

// The command line: flags, the presets they choose, and where things are.

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/callgrind"
	"github.com/selectc/selectc/cmd/echo-bench/internal/calls"
	"github.com/selectc/selectc/cmd/echo-bench/internal/matrix"
	"github.com/selectc/selectc/cmd/echo-bench/internal/servers"
	"github.com/selectc/selectc/cmd/internal/loadgen"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

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
	fs.StringVar(&o.servers, "servers", strings.Join(servers.Defaults(servers.TableSpecs()), ","), "servers to compare (also: "+servers.Optional(servers.TableSpecs())+")")
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
	fs.StringVar(&o.callsWrappers, "calls-wrappers", "", "wrappers of -calls, comma-separated (default: all: "+calls.WrapperNames(calls.Wrappers)+")")
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
func (o *options) preset() (name string, p matrix.Preset, err error) {
	name, p = "full", matrix.FullPreset
	if o.quick {
		name, p = "quick", matrix.QuickPreset
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
	if n := o.depth * p.MaxSize(); n > loadgen.MaxInFlight {
		return "", p, fmt.Errorf("-depth %d × size %d = %d bytes in flight per connection, more than %d", o.depth, p.MaxSize(), n, loadgen.MaxInFlight)
	}
	if custom {
		name += " (overridden)"
	}
	return name, p, nil
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

// outDir is -out, or a new directory named for the time under
// bench/results.
func (o *options) outDir(repoRoot, suffix string) string {
	if o.out != "" {
		return o.out
	}
	return filepath.Join(repoRoot, "bench", "results", time.Now().Format("20060102-150405")+suffix)
}

// callsGrid turns the flags into a grid and the wrappers to run.
func (o *options) callsGrid() (calls.Grid, []calls.Wrapper, error) {
	g, err := calls.GridNamed(o.callsGridName)
	if err != nil {
		return g, nil, err
	}
	if o.callsN != "" {
		if g.Ns, err = parseInts(o.callsN); err != nil {
			return g, nil, fmt.Errorf("-calls-n: %w", err)
		}
		g.Name += " (overridden)"
	}
	if o.callsReady != "" {
		g.Ready = parseNames(o.callsReady)
		g.Name += " (overridden)"
	}
	if err := g.Check(); err != nil {
		return g, nil, err
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
	ws := calls.Wrappers
	if o.callsWrappers != "" {
		if ws, err = calls.WrappersNamed(parseNames(o.callsWrappers)); err != nil {
			return g, nil, err
		}
	}
	return g, ws, nil
}

// callgrindConfig turns the flags into what callgrind.Run needs; its
// files go to callgrind/ in -out, or a temporary directory with -out none.
func (o *options) callgrindConfig() (callgrind.Config, error) {
	cfg := callgrind.Config{N1: o.cgN1, N2: o.cgN2, Size: o.cgSize, Dir: filepath.Join(o.out, "callgrind"), NoFile: o.noFile, Verbose: o.verbose}
	if o.cgN1 < 1 || o.cgN2 <= o.cgN1 {
		return cfg, fmt.Errorf("need 0 < -callgrind-n1 < -callgrind-n2")
	}
	if o.out == "none" {
		var err error
		if cfg.Dir, err = os.MkdirTemp("", "echo-bench-callgrind"); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list %q", s)
	}
	return out, nil
}

// parseNames parses a comma-separated list of names.
func parseNames(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
