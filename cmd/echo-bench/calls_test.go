package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// Over 2n slots every wrapper takes every position twice: no wrapper is
// always first (cold) or always after the same neighbour.
func TestTurnOrder(t *testing.T) {
	const n = 5
	pos := map[[2]int]int{} // (wrapper, position) -> times
	for slot := range 2 * n {
		order := turnOrder(n, slot)
		if s := slices.Sorted(slices.Values(order)); !slices.Equal(s, []int{0, 1, 2, 3, 4}) {
			t.Fatalf("slot %d: order %v is not a permutation", slot, order)
		}
		for p, w := range order {
			pos[[2]int{w, p}]++
		}
	}
	for w := range n {
		for p := range n {
			if pos[[2]int{w, p}] != 2 {
				t.Errorf("wrapper %d at position %d %d times, want 2", w, p, pos[[2]int{w, p}])
			}
		}
	}
}

func TestSummarizeCalls(t *testing.T) {
	cell := CallCell{N: 64, Ready: "all"}
	smp := func(round int, w string, ns float64) CallSample {
		return CallSample{Round: round, Wrapper: w, CallCell: cell, Calls: 100, Ns: int64(ns * 100), NsPerCall: ns}
	}
	// The machine is twice as slow in round 2; the ratio does not move.
	samples := []CallSample{smp(1, "c", 100), smp(1, "unix", 150), smp(2, "c", 200), smp(2, "unix", 300),
		smp(3, "c", 100), {Round: 3, Wrapper: "unix", CallCell: cell, Error: "3 ready, want 64"}}
	ws := []callWrapper{{Name: "c"}, {Name: "unix"}}
	sums := summarizeCalls(samples, []CallCell{cell}, ws, "c")
	if len(sums) != 2 {
		t.Fatalf("%d summaries", len(sums))
	}
	u := sums[1]
	if *u.Ratio != (Spread{Median: 1.5, Min: 1.5, Max: 1.5, N: 2}) || u.Errors != 1 || u.CleanRounds != 2 {
		t.Errorf("unix: %+v ratio %+v", u, *u.Ratio)
	}
	if *u.NsPerCall != (Spread{Median: 225, Min: 150, Max: 300, N: 2}) {
		t.Errorf("unix ns: %+v", *u.NsPerCall)
	}
	if *sums[0].Ratio != (Spread{Median: 1, Min: 1, Max: 1, N: 3}) {
		t.Errorf("c against itself: %+v", *sums[0].Ratio)
	}
	if got := callCellText(&u); got != "225 [150–300] ×1.50 ⚠" {
		t.Errorf("cell text %q", got)
	}
}

var (
	callBinOnce sync.Once
	callBin     string
	callBinErr  error
)

// callWorkersBin returns a directory with the call workers built as the
// Makefile builds them: $SELECTC_BIN if it has them, or a fresh build.
func callWorkersBin(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SELECTC_BIN"); bin != "" {
		if _, err := os.Stat(filepath.Join(bin, "selectcalls-unix")); err == nil {
			return bin
		}
	}
	callBinOnce.Do(func() {
		root, err := serverproc.RepoRoot()
		if err != nil {
			callBinErr = err
			return
		}
		if callBin, callBinErr = os.MkdirTemp("", "echo-bench-calls"); callBinErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		callBinErr = buildCallWorkers(ctx, root, callBin, "0")
	})
	if callBinErr != nil {
		t.Fatal(callBinErr)
	}
	return callBin
}

// buildCallWorkers builds the three compiled workers into dir, the pure-Go
// one with CGO_ENABLED=unixCgo.
func buildCallWorkers(ctx context.Context, root, dir, unixCgo string) error {
	cmds := [][]string{
		append(append([]string{"gcc"}, cServerCFLAGS(root)...), "-pthread", "-Iselectc", "csrc/selectcalls.c", "-o", filepath.Join(dir, "selectcalls-c")),
		{"go", "build", "-o", dir + "/", "./cmd/echo-bench/internal/selectcalls-go"},
		{"env", "CGO_ENABLED=" + unixCgo, "go", "build", "-o", dir + "/", "./cmd/echo-bench/internal/selectcalls-unix"},
	}
	for _, argv := range cmds {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return &buildError{cmd.String(), err, out}
		}
	}
	return nil
}

type buildError struct {
	cmd string
	err error
	out []byte
}

func (e *buildError) Error() string { return e.cmd + ": " + e.err.Error() + "\n" + string(e.out) }

// TestCallsSmoke runs echo-bench -calls on a small grid with every wrapper
// and checks every output holds every cell with no error.
func TestCallsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the call workers")
	}
	bin := callWorkersBin(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"-calls", "-calls-n", "1,64", "-calls-ready", "one,none", "-rounds", "2",
		"-warmup", "1ms", "-duration", "2ms", "-no-pin", "-bin", bin, "-out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	md := stdout.String()
	for _, w := range callWrappers {
		if !strings.Contains(md, "| "+w.Label+" | ") {
			t.Errorf("markdown lacks wrapper %s", w.Label)
		}
	}
	for _, want := range []string{"### one ready (the last)", "### none ready", "| N=1 | N=64 |", "Errors: 0"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	var res Results
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if want := len(callWrappers) * 2 * 2 * 2; res.Calls == nil || len(res.Calls.Samples) != want {
		t.Fatalf("results.json: %d samples, want %d", len(res.Calls.Samples), want)
	}
	for _, s := range res.Calls.Samples {
		if !s.ok() || s.NsPerCall < 50 || s.NsPerCall > 10e6 {
			t.Errorf("implausible sample %+v", s)
		}
	}
	for _, s := range res.Calls.Summary {
		if s.Ratio == nil || s.Ratio.N != 2 || (s.Wrapper == "c" && s.Ratio.Median != 1) {
			t.Errorf("%s %s: ratio %+v", s.Wrapper, s.CallCell, s.Ratio)
		}
	}
	csv, err := os.ReadFile(filepath.Join(out, "results.csv"))
	if err != nil || strings.Count(string(csv), "\n") != 1+len(res.Calls.Samples) {
		t.Errorf("results.csv: %v\n%s", err, csv)
	}
	for _, f := range []string{"select-call-ns_ready-one.png", "select-call-ns_ready-none.svg", "select-call-ratio_ready-one.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() < 1000 {
			t.Errorf("chart %s: %v", f, err)
		}
	}
}

// The pure-Go row must come from a binary without cgo: one built with cgo
// is refused before anything is timed.
func TestCallsRefuseCgoUnixWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a worker")
	}
	root, err := serverproc.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := buildCallWorkers(ctx, root, dir, "1"); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(callWrappers, func(w callWrapper) bool { return w.Name == "unix" })
	err = callWrappers[i].check(dir, root)
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=1, want 0") {
		t.Errorf("check = %v; want the cgo build refused", err)
	}
	j := slices.IndexFunc(callWrappers, func(w callWrapper) bool { return w.Name == "select" })
	if err := callWrappers[j].check(dir, root); err != nil {
		t.Errorf("the cgo worker refused: %v", err)
	}
}
