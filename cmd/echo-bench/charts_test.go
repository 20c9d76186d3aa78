package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(4, 60) {
		if tk.Value < 4 || tk.Value > 60 {
			t.Errorf("tick %v outside [4, 60]", tk.Value)
		}
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"5", "10", "20", "50"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if (logTicks{}).Ticks(0, 10) != nil {
		t.Error("ticks for a range that includes 0")
	}
}

func TestWriteCharts(t *testing.T) {
	r := &Results{Settings: Settings{Servers: []string{"c", "py"}}}
	for _, conns := range []int{1, 10, 100} {
		for round := 1; round <= 2; round++ {
			for i, srv := range r.Settings.Servers {
				for _, size := range []int{64, 1024} {
					s := Sample{Round: round, Server: srv, Cell: Cell{Conns: conns, Size: size}, Echoes: 100,
						Metrics: Metrics{EchoesPerSec: float64(1000*conns/(i+1) + round), SrvCPUus: float64(10 * (i + 1))}}
					r.Samples = append(r.Samples, s)
				}
			}
		}
	}
	// An idle cell and a failed sample must not break or join the curves.
	r.Samples = append(r.Samples, Sample{Round: 1, Server: "c", Cell: Cell{Conns: 10, Idle: 900, Size: 64}, Echoes: 5, Metrics: Metrics{EchoesPerSec: 5, SrvCPUus: 1}})
	r.Samples = append(r.Samples, Sample{Round: 1, Server: "py", Cell: Cell{Conns: 1000, Size: 64}, Errors: 3})
	r.Settings.Baseline = "c"
	r.Summary = summarize(r.Samples, []Cell{{Conns: 1, Size: 64}, {Conns: 10, Size: 64}, {Conns: 100, Size: 64}, {Conns: 10, Idle: 900, Size: 64},
		{Conns: 1, Size: 1024}, {Conns: 10, Size: 1024}, {Conns: 100, Size: 1024}}, r.Settings.Servers, "c")
	dir := t.TempDir()
	files, err := writeCharts(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, stem := range []string{"echoes-per-s", "server-cpu-per-echo", "server-cpu-ratio", "echoes-ratio"} {
		for _, size := range []string{"64", "1024"} {
			want = append(want, stem+"_size"+size+".svg", stem+"_size"+size+".png")
		}
	}
	slices.Sort(files)
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Fatalf("wrote %q, want %q", files, want)
	}
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestRechart redraws the charts of an earlier run: ECHO_BENCH_RECHART=DIR
// reads DIR/results.json and writes the charts next to it.
func TestRechart(t *testing.T) {
	dir := os.Getenv("ECHO_BENCH_RECHART")
	if dir == "" {
		t.Skip("ECHO_BENCH_RECHART not set")
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if _, err := writeCharts(dir, &r); err != nil {
		t.Fatal(err)
	}
}
