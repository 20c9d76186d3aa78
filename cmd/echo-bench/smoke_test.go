package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/benchtest"
	"github.com/selectc/selectc/cmd/echo-bench/internal/calls"
)

// TestSmoke runs the whole of echo-bench on two real servers and two cells
// and checks every output names those cells with zero errors.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bin := benchtest.ServerBin(t, "c", "go-select")
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := realMain([]string{
		"-servers", "c,go-select", "-conns", "1,10", "-sizes", "64", "-idle", "0",
		"-rounds", "1", "-warmup", "200ms", "-duration", "800ms",
		"-no-pin", "-bin", bin, "-out", out, "-seed", "7",
	}, &stdout, &stderr)
	t.Logf("echo-bench took %v", time.Since(start))
	if code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}

	md := stdout.String()
	for _, want := range []string{"## conns=1, size=64 B", "## conns=10, size=64 B", "| c | ", "| go-select | ",
		"Errors: 0", "FORTIFY in force", "__USE_FORTIFY_LEVEL"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if file, err := os.ReadFile(filepath.Join(out, "report.md")); err != nil || string(file) != md {
		t.Errorf("report.md differs from stdout (err %v)", err)
	}

	res := readResults(t, out)
	if len(res.Samples) != 4 {
		t.Fatalf("%d samples, want 4 (2 servers × 2 cells)", len(res.Samples))
	}
	seen := map[string]bool{}
	for _, s := range res.Samples {
		seen[s.Server+"/"+s.Cell.Key()] = true
		if s.Errors != 0 || s.Echoes < 100 || s.EchoesPerSec <= 0 || s.P50us <= 0 || s.P99us < s.P50us || s.PeakRSS == 0 {
			t.Errorf("implausible sample %+v", s)
		}
		if s.WindowSec < 0.7 || s.WindowSec > 2 {
			t.Errorf("%s %s: window %.2fs, want ~0.8s", s.Server, s.Cell, s.WindowSec)
		}
	}
	for _, k := range []string{"c/conns=1/size=64", "c/conns=10/size=64", "go-select/conns=1/size=64", "go-select/conns=10/size=64"} {
		if !seen[k] {
			t.Errorf("no sample for %s", k)
		}
	}
	if len(res.Summary) != 4 {
		t.Fatalf("%d summaries, want 4", len(res.Summary))
	}
	for _, s := range res.Summary {
		if s.EchoesRatio == nil || s.EchoesRatio.N != 1 {
			t.Errorf("%s %s: ratio %+v", s.Server, s.Cell, s.EchoesRatio)
		} else if s.Server == "c" && s.EchoesRatio.Median != 1 {
			t.Errorf("c against itself: %v", s.EchoesRatio.Median)
		}
	}
	if res.Env.Kernel == "" || res.Env.Go == "" || res.Env.NoFileClient == "" {
		t.Errorf("environment header incomplete: %+v", res.Env)
	}

	bench, err := os.ReadFile(filepath.Join(out, "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^BenchmarkEcho/server=(c|go-select)/conns=(1|10)/size=64 \t \d+ \t [\d.]+ ns/op \t [\d.]+ echoes/s \t .* us-cpu/echo`)
	if n := len(line.FindAll(bench, -1)); n != 4 {
		t.Errorf("%d benchmark lines, want 4:\n%s", n, bench)
	}
	csv, err := os.ReadFile(filepath.Join(out, "results.csv"))
	if err != nil || strings.Count(string(csv), "\n") != 5 {
		t.Errorf("results.csv: %v\n%s", err, csv)
	}
	for _, f := range []string{"echoes-per-s_size64.svg", "echoes-per-s_size64.png", "server-cpu-per-echo_size64.svg", "server-cpu-per-echo_size64.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("chart %s: %v", f, err)
		}
	}
}

// TestCallsSmoke runs echo-bench -calls on a small grid with every wrapper
// and checks every output holds every cell with no error.
func TestCallsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the call workers")
	}
	bin := benchtest.CallWorkersBin(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"-calls", "-calls-n", "1,64", "-calls-ready", "one,none", "-rounds", "2",
		"-warmup", "1ms", "-duration", "2ms", "-no-pin", "-bin", bin, "-out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	md := stdout.String()
	for _, w := range calls.Wrappers {
		if !strings.Contains(md, "| "+w.Label+" | ") {
			t.Errorf("markdown lacks wrapper %s", w.Label)
		}
	}
	for _, want := range []string{"### one ready (the last)", "### none ready", "| N=1 | N=64 |", "Errors: 0"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	res := readResults(t, out)
	if want := len(calls.Wrappers) * 2 * 2 * 2; res.Calls == nil || len(res.Calls.Samples) != want {
		t.Fatalf("results.json: %d samples, want %d", len(res.Calls.Samples), want)
	}
	for _, s := range res.Calls.Samples {
		if s.Error != "" || s.Calls < 1 || s.NsPerCall < 50 || s.NsPerCall > 10e6 {
			t.Errorf("implausible sample %+v", s)
		}
	}
	for _, s := range res.Calls.Summary {
		if s.Ratio == nil || s.Ratio.N != 2 || (s.Wrapper == "c" && s.Ratio.Median != 1) {
			t.Errorf("%s %s: ratio %+v", s.Wrapper, s.Cell, s.Ratio)
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
