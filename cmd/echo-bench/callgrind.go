package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/selectc/selectc/cmd/internal/loadgen"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// CallgrindResult is one server's user-space instruction count per echo.
type CallgrindResult struct {
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
}

// callgrindConfig says how to measure.
type callgrindConfig struct {
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

// runCallgrind measures each server under valgrind's callgrind tool: in one
// server process it runs N1 echoes on one connection, dumps the counters
// with callgrind_control, runs N2-N1 more and dumps again; the second dump
// holds exactly those N2-N1 echoes (and whatever the idle loop costs), so
// start-up and the first warm-up echoes cancel out. When callgrind_control
// does not work, it falls back to two server runs of N1 and N2 echoes and
// subtracts their totals.
func runCallgrind(ctx context.Context, servers []server, cfg callgrindConfig) ([]CallgrindResult, error) {
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		return nil, fmt.Errorf("callgrind: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("callgrind: %w", err)
	}
	var out []CallgrindResult
	for _, s := range servers {
		if s.Name == "go-net-default" {
			continue // under callgrind every Go server runs with GOMAXPROCS=1: it would repeat go-net
		}
		slog.Info("callgrind", "server", s.Name, "n1", cfg.N1, "n2", cfg.N2)
		res := CallgrindResult{Server: s.Name, Size: cfg.Size, N1: cfg.N1, N2: cfg.N2, Method: "callgrind_control dumps in one process"}
		ir1, ir2, note, err := callgrindDumps(ctx, valgrind, s, cfg)
		res.Note = note
		if errors.Is(err, errNoControl) {
			slog.Warn("callgrind_control failed; using two separate runs", "server", s.Name, "err", err)
			res.Method = "two runs, totals subtracted"
			ir1, ir2, err = callgrindTwoRuns(ctx, valgrind, s, cfg)
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if err != nil {
			res.Errors, res.Note = 1, firstLine(err.Error())
		} else {
			res.Ir1, res.Ir2 = ir1, ir2
			res.IrPerEcho = float64(int64(ir2)-int64(ir1)) / float64(cfg.N2-cfg.N1)
		}
		out = append(out, res)
	}
	return out, nil
}

// errNoControl marks a failure of callgrind_control itself (as opposed to
// the server or the echoes), which the two-run method avoids.
var errNoControl = errors.New("callgrind_control failed")

// callgrindSpec wraps a server's spec in valgrind. Go servers get one P and
// no asynchronous preemption: valgrind serialises threads anyway, and the
// preemption signals only add noise to the counts.
func callgrindSpec(ctx context.Context, valgrind string, s server, outFile string) serverproc.Spec {
	sp := s.Spec
	args := append([]string{"--tool=callgrind", "--callgrind-out-file=" + outFile,
		"--compress-strings=no", "--compress-pos=no", // so each dump reads on its own in callgrind_annotate
		realInterpreter(ctx, sp.Path)}, sp.Args...)
	env := append([]string(nil), sp.Env...)
	if strings.HasPrefix(s.Name, "go-") {
		env = append(env, "GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1")
	}
	return serverproc.Spec{Name: s.Name, Path: valgrind, Args: args, Env: env}
}

// realInterpreter resolves "python3" to the interpreter binary itself. A
// launcher in between (pyenv's shim is a shell script that execs the real
// one) would leave valgrind measuring the shell: it does not follow exec.
func realInterpreter(ctx context.Context, path string) string {
	if filepath.IsAbs(path) || !strings.HasPrefix(path, "python") {
		return path
	}
	out, err := exec.CommandContext(ctx, path, "-c", "import sys; print(sys.executable)").Output()
	if exe := strings.TrimSpace(string(out)); err == nil && filepath.IsAbs(exe) {
		return exe
	}
	return path
}

func callgrindDumps(ctx context.Context, valgrind string, s server, cfg callgrindConfig) (ir1, ir2 uint64, note string, err error) {
	outFile := filepath.Join(cfg.Dir, "callgrind."+s.Name+".out")
	removeDumps(outFile)
	p, err := serverproc.Start(ctx, callgrindSpec(ctx, valgrind, s, outFile), serverproc.Options{NoFile: cfg.NoFile, CPU: -1, Stderr: verboseStderr(cfg.Verbose, s.Name)})
	if err != nil {
		return 0, 0, "", err
	}
	defer p.Stop()
	sess, err := loadgen.Open(ctx, loadgen.Config{Addr: p.Addr, Conns: 1, Size: cfg.Size, DialTimeout: callgrindStall, Stall: callgrindStall})
	if err != nil {
		return 0, 0, "", err
	}
	defer sess.Close()
	counts := make([]uint64, 2)
	for i, n := range []int64{cfg.N1, cfg.N2 - cfg.N1} {
		if err := echoExactly(ctx, sess, n); err != nil {
			return 0, 0, "", err
		}
		c, err := dumpAndRead(ctx, p.PID(), outFile, i+1)
		if err != nil {
			return 0, 0, "", err
		}
		counts[i] = c
	}
	// The counts are in; how valgrind dies does not change them (callgrind
	// 3.19 can trip an assertion on a Go program's SIGTERM).
	if _, err := p.Stop(); err != nil {
		slog.Warn("callgrind server did not exit cleanly after its dumps", "server", s.Name, "err", firstLine(err.Error()))
		note = "valgrind did not exit cleanly on SIGTERM after the dumps (counts unaffected)"
	}
	// Dumps reset the counters: the first holds start-up and N1 echoes,
	// the second the N2-N1 echoes after it.
	return counts[0], counts[0] + counts[1], note, nil
}

func callgrindTwoRuns(ctx context.Context, valgrind string, s server, cfg callgrindConfig) (ir1, ir2 uint64, err error) {
	totals := make([]uint64, 2)
	for i, n := range []int64{cfg.N1, cfg.N2} {
		outFile := filepath.Join(cfg.Dir, fmt.Sprintf("callgrind.%s.run%d.out", s.Name, i+1))
		removeDumps(outFile)
		p, err := serverproc.Start(ctx, callgrindSpec(ctx, valgrind, s, outFile), serverproc.Options{NoFile: cfg.NoFile, CPU: -1, Stderr: verboseStderr(cfg.Verbose, s.Name)})
		if err != nil {
			return 0, 0, err
		}
		sess, err := loadgen.Open(ctx, loadgen.Config{Addr: p.Addr, Conns: 1, Size: cfg.Size, DialTimeout: callgrindStall, Stall: callgrindStall})
		if err == nil {
			err = echoExactly(ctx, sess, n)
			sess.Close()
		}
		_, stopErr := p.Stop() // callgrind writes its totals at exit
		if err = errors.Join(err, stopErr); err != nil {
			return 0, 0, err
		}
		if totals[i], err = readCallgrindTotal(outFile); err != nil {
			return 0, 0, err
		}
	}
	return totals[0], totals[1], nil
}

// echoExactly runs n verified echoes on the session's one connection.
func echoExactly(ctx context.Context, sess *loadgen.Session, n int64) error {
	res, err := sess.Run(ctx, loadgen.Window{Duration: callgrindWindow, MaxEchoes: n})
	if err != nil {
		return err
	}
	if res.Errors > 0 {
		return fmt.Errorf("%d echo errors: %s", res.Errors, strings.Join(res.ErrorSamples, "; "))
	}
	if res.Echoes != n {
		return fmt.Errorf("%d echoes instead of %d within %v", res.Echoes, n, callgrindWindow)
	}
	return nil
}

// dumpAndRead asks callgrind in process pid for dump number seq and returns
// its instruction count.
func dumpAndRead(ctx context.Context, pid int, outFile string, seq int) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "callgrind_control", "-d", strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: %v: %s", errNoControl, err, strings.TrimSpace(string(out)))
	}
	// callgrind_control returns once callgrind acknowledged the dump, but
	// give the file system a moment in case the write trails the reply.
	file := fmt.Sprintf("%s.%d", outFile, seq)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := readCallgrindTotal(file)
		if err == nil {
			return n, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%w: dump %s: %v", errNoControl, file, err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readCallgrindTotal returns the Ir count of a callgrind output file: its
// "summary:" line (or "totals:" in files without one).
func readCallgrindTotal(file string) (uint64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var totals string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "summary:"); ok {
			return parseFirstUint(v)
		}
		if v, ok := strings.CutPrefix(line, "totals:"); ok {
			totals = v
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if totals != "" {
		return parseFirstUint(totals)
	}
	return 0, fmt.Errorf("%s: no summary or totals line (file incomplete?)", file)
}

func parseFirstUint(s string) (uint64, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, errors.New("empty callgrind count")
	}
	return strconv.ParseUint(f[0], 10, 64)
}

func removeDumps(outFile string) {
	matches, _ := filepath.Glob(outFile + "*")
	for _, m := range matches {
		os.Remove(m)
	}
}

// verboseStderr returns nil, not a nil *prefixWriter, when off: serverproc
// tests the interface against nil.
func verboseStderr(on bool, name string) io.Writer {
	if !on {
		return nil
	}
	return prefixWriter{w: stderrWriter(), prefix: name + ": "}
}

func writeCallgrindTable(w io.Writer, rs []CallgrindResult, base string) {
	var baseIr float64
	for _, r := range rs {
		if r.Server == base && r.Errors == 0 {
			baseIr = r.IrPerEcho
		}
	}
	fmt.Fprintf(w, "## User-space instructions per echo (callgrind)\n\n")
	if len(rs) > 0 {
		fmt.Fprintf(w, "One connection, %d B messages; (Ir after %d echoes − Ir after %d echoes) / %d. Kernel work (the system calls themselves) is not counted.\n\n",
			rs[0].Size, rs[0].N2, rs[0].N1, rs[0].N2-rs[0].N1)
	}
	fmt.Fprintf(w, "| server | instructions/echo | ×%s | method | notes |\n|---|---:|---:|---|---|\n", base)
	for _, r := range rs {
		ir, ratio := "–", "–"
		if r.Errors == 0 {
			ir = fmtInt(r.IrPerEcho)
			if baseIr > 0 {
				ratio = fmt.Sprintf("%.2f", r.IrPerEcho/baseIr)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.Server, ir, ratio, r.Method, mdEscape(r.Note))
	}
	fmt.Fprintln(w)
}
