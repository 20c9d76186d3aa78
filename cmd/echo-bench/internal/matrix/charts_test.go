package matrix

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteCharts(t *testing.T) {
	r := &Results{Servers: []string{"c", "py"}, Baseline: "c"}
	for _, conns := range []int{1, 10, 100} {
		for round := 1; round <= 2; round++ {
			for i, srv := range r.Servers {
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
	r.Summary = Summarize(r.Samples, []Cell{{Conns: 1, Size: 64}, {Conns: 10, Size: 64}, {Conns: 100, Size: 64}, {Conns: 10, Idle: 900, Size: 64},
		{Conns: 1, Size: 1024}, {Conns: 10, Size: 1024}, {Conns: 100, Size: 1024}}, r.Servers, "c")
	dir := t.TempDir()
	files, err := WriteCharts(dir, r)
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
