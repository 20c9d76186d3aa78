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
	"regexp"
	"slices"
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
	// Attempts is how many valgrind runs the count took: 1 is the first
	// try; each failed attempt's reason, in plain words, is in Failures.
	Attempts int      `json:"attempts"`
	Failures []string `json:"failures,omitempty"`
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

// callgrindAttempts bounds the valgrind runs per server: a run that valgrind
// itself breaks (see valgrindTrouble) is retried, any other failure is not.
const callgrindAttempts = 3

// runCallgrind measures each server under valgrind's callgrind tool: in one
// server process it runs N1 echoes on one connection, dumps the counters
// with callgrind_control, runs N2-N1 more and dumps again; the second dump
// holds exactly those N2-N1 echoes (and whatever the idle loop costs), so
// start-up and the first warm-up echoes cancel out. When callgrind_control
// does not work, it falls back to two server runs of N1 and N2 echoes and
// subtracts their totals. A run that valgrind breaks is retried, up to
// callgrindAttempts in all, and the result says how many it took and why.
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
		res := CallgrindResult{Server: s.Name, Size: cfg.Size, N1: cfg.N1, N2: cfg.N2}
		for attempt := 1; attempt <= callgrindAttempts; attempt++ {
			slog.Info("callgrind", "server", s.Name, "n1", cfg.N1, "n2", cfg.N2, "attempt", attempt)
			res.Attempts = attempt
			res.Method = "callgrind_control dumps in one process"
			ir1, ir2, note, err := callgrindDumps(ctx, valgrind, s, cfg)
			if errors.Is(err, errNoControl) {
				slog.Warn("callgrind_control failed; using two separate runs", "server", s.Name, "err", firstLine(err.Error()))
				res.Method = "two runs, totals subtracted"
				ir1, ir2, err = callgrindTwoRuns(ctx, valgrind, s, cfg)
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
				res.Errors, res.Note = 1, firstLine(err.Error())
				break
			}
			res.Failures = append(res.Failures, fmt.Sprintf("attempt %d: %s", attempt, trouble))
			if attempt == callgrindAttempts {
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

// callgrindGODEBUG are the Go runtime settings of every Go server under
// callgrind. asyncpreemptoff=1: valgrind serialises threads anyway, and the
// preemption signals only add noise to the counts. cpu.rdtscp=off: valgrind
// 3.19 does not emulate RDTSCP, which runtime.cputicks executes when the CPU
// reports it; the server then dies of SIGILL (on this project's VM in about
// two runs of three). Off, cputicks uses MFENCE;LFENCE;RDTSC instead.
var callgrindGODEBUG = []string{"asyncpreemptoff=1", "cpu.rdtscp=off"}

// callgrindSpec wraps a server's spec in valgrind. Go servers get one P and
// callgrindGODEBUG, merged into any GODEBUG already set.
func callgrindSpec(ctx context.Context, valgrind string, s server, outFile string) serverproc.Spec {
	sp := s.Spec
	args := append([]string{"--tool=callgrind", "--callgrind-out-file=" + outFile,
		"--compress-strings=no", "--compress-pos=no", // so each dump reads on its own in callgrind_annotate
		realInterpreter(ctx, sp.Path)}, sp.Args...)
	env := append([]string(nil), sp.Env...)
	if sp.Go() {
		env = append(env, "GOMAXPROCS=1")
		env = withGODEBUG(env, os.Getenv("GODEBUG"), callgrindGODEBUG...)
	}
	return serverproc.Spec{Name: s.Name, Path: valgrind, Args: args, Env: env}
}

// withGODEBUG returns env with one GODEBUG entry holding, comma-separated,
// the inherited settings, those of env's own GODEBUG entries and then
// settings; a later value of the same key replaces an earlier one. One
// entry, because the process sees only one GODEBUG variable: a second
// entry would replace the first rather than add to it.
func withGODEBUG(env []string, inherited string, settings ...string) []string {
	var keys []string
	vals := map[string]string{}
	add := func(list string) {
		for kv := range strings.SplitSeq(list, ",") {
			if kv = strings.TrimSpace(kv); kv == "" {
				continue
			}
			k, _, _ := strings.Cut(kv, "=")
			if _, seen := vals[k]; !seen {
				keys = append(keys, k)
			}
			vals[k] = kv
		}
	}
	add(inherited)
	var out []string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "GODEBUG="); ok {
			add(v)
			continue
		}
		out = append(out, e)
	}
	add(strings.Join(settings, ","))
	if len(keys) == 0 {
		return out
	}
	merged := make([]string, len(keys))
	for i, k := range keys {
		merged[i] = vals[k]
	}
	return append(out, "GODEBUG="+strings.Join(merged, ","))
}

// valgrindTrouble reads a failed run's error and valgrind's output (the
// server's log, which the error carries) and says in plain words whether
// valgrind itself broke the run, or "" when it did not.
func valgrindTrouble(text string) string {
	var why []string
	switch {
	case strings.Contains(text, "0xF 0x1 0xF9"): // the opcode bytes vex prints for RDTSCP
		why = append(why, "valgrind met RDTSCP, an instruction it does not emulate (unhandled instruction 0F 01 F9)")
	case strings.Contains(text, "unhandled instruction"):
		why = append(why, "valgrind met an instruction it does not emulate ("+lineWith(text, "unhandled instruction")+")")
	}
	if line := lineWith(text, "Process terminating with default action of signal"); line != "" {
		why = append(why, "valgrind reports the server killed: "+line)
	}
	if strings.Contains(text, "Assertion") || strings.Contains(text, "the 'impossible' happened") {
		why = append(why, "valgrind failed one of its own internal checks ("+lineWith(text, "Assertion", "impossible")+")")
	}
	if len(why) == 0 && strings.Contains(text, "connection reset by peer") {
		why = append(why, "the server under valgrind reset the connection without a word from valgrind")
	}
	return strings.Join(why, "; ")
}

// lineWith returns the first line of text holding any of subs, without
// valgrind's "==PID==" prefix.
func lineWith(text string, subs ...string) string {
	for line := range strings.Lines(text) {
		for _, sub := range subs {
			if strings.Contains(line, sub) {
				return strings.TrimSpace(valgrindPrefix.ReplaceAllString(line, ""))
			}
		}
	}
	return ""
}

// valgrindPrefix is what valgrind puts before each line it prints.
var valgrindPrefix = regexp.MustCompile(`^\s*==\d+==\s*`)

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

// callgrindDumps measures s in one valgrind process with two dumps. An
// error carries valgrind's output, for valgrindTrouble to read.
func callgrindDumps(ctx context.Context, valgrind string, s server, cfg callgrindConfig) (ir1, ir2 uint64, note string, err error) {
	outFile := filepath.Join(cfg.Dir, "callgrind."+s.Name+".out")
	removeDumps(outFile)
	p, err := serverproc.Start(ctx, callgrindSpec(ctx, valgrind, s, outFile), serverproc.Options{NoFile: cfg.NoFile, CPU: -1, Stderr: verboseStderr(cfg.Verbose, s.Name)})
	if err != nil {
		return 0, 0, "", err // serverproc appends the output
	}
	defer p.Stop()
	counts, err := echoAndDump(ctx, p, outFile, cfg)
	if err != nil {
		return 0, 0, "", withOutput(err, p)
	}
	// The counts are in, and nothing valgrind writes at exit is wanted:
	// kill it rather than send SIGTERM, on which callgrind 3.19 fails an
	// assertion of its own in a Go server (threads.c, post_signal).
	if err := p.Cmd.Process.Kill(); err != nil {
		return 0, 0, "", fmt.Errorf("callgrind: kill %s: %w", s.Name, err)
	}
	select {
	case <-p.Done():
	case <-time.After(callgrindStall):
		return 0, 0, "", fmt.Errorf("callgrind: %s still running %v after SIGKILL", s.Name, callgrindStall)
	}
	if t := valgrindTrouble(p.Log()); t != "" {
		note = "valgrind complained, counts unaffected: " + t
	}
	// Dumps reset the counters: the first holds start-up and N1 echoes,
	// the second the N2-N1 echoes after it.
	return counts[0], counts[0] + counts[1], note, nil
}

// echoAndDump runs N1 echoes, dumps, runs N2-N1 more and dumps again, and
// returns the two dumps' counts.
func echoAndDump(ctx context.Context, p *serverproc.Proc, outFile string, cfg callgrindConfig) ([2]uint64, error) {
	var counts [2]uint64
	sess, err := loadgen.Open(ctx, loadgen.Config{Addr: p.Addr, Conns: 1, Size: cfg.Size, DialTimeout: callgrindStall, Stall: callgrindStall})
	if err != nil {
		return counts, err
	}
	defer sess.Close()
	for i, n := range []int64{cfg.N1, cfg.N2 - cfg.N1} {
		if err := echoExactly(ctx, sess, n); err != nil {
			return counts, err
		}
		c, err := dumpAndRead(ctx, p.PID(), outFile, i+1)
		if err != nil {
			return counts, err
		}
		counts[i] = c
	}
	return counts, nil
}

// withOutput stops p (so valgrind has written its last words) and appends
// what it printed to err, keeping err's identity for errors.Is.
func withOutput(err error, p *serverproc.Proc) error {
	_, stopErr := p.Stop()
	out := p.Log()
	if stopErr != nil {
		out += "\n" + stopErr.Error()
	}
	return fmt.Errorf("%w\nvalgrind output:\n%s", err, tailOf(out, 8<<10))
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
			return 0, 0, fmt.Errorf("%w\nvalgrind output:\n%s", err, tailOf(p.Log(), 8<<10))
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
	fmt.Fprintf(w, "| server | instructions/echo | ×%s | attempts | method | notes |\n|---|---:|---:|---:|---|---|\n", base)
	for _, r := range rs {
		ir, ratio := "–", "–"
		if r.Errors == 0 {
			ir = fmtInt(r.IrPerEcho)
			if baseIr > 0 {
				ratio = fmt.Sprintf("%.2f", r.IrPerEcho/baseIr)
			}
		}
		notes := strings.Join(append(slices.Clone(r.Failures), r.Note), "; ")
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s |\n", r.Server, ir, ratio, r.Attempts, r.Method, mdEscape(strings.Trim(notes, "; ")))
	}
	fmt.Fprintln(w)
}
