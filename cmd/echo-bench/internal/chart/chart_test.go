package chart

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/selectc/selectc/cmd/echo-bench/internal/stats"
)

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range (LogTicks{}).Ticks(4, 60) {
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
	if (LogTicks{}).Ticks(0, 10) != nil {
		t.Error("ticks for a range that includes 0")
	}
}

// Files.Save writes both formats of a chart, skips a nil one and passes a
// drawing error through.
func TestFilesSave(t *testing.T) {
	c := New("t", "x", "y")
	c.LogLog()
	s := Series{Name: "a"}
	s.Joined.Add(1, stats.Spread{Median: 2, Min: 1, Max: 3, N: 3})
	s.Joined.Add(10, stats.Spread{Median: 20, Min: 10, Max: 30, N: 3})
	if err := c.AddSeries([]Series{s}, []int{0}); err != nil {
		t.Fatal(err)
	}
	c.AddBaseline("b")
	c.FitX(1, 10)
	c.FitY(true)
	f := Files{Dir: t.TempDir()}
	if err := f.Save(c, nil, "one"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(nil, nil, "none"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := f.Save(c, boom, "failed"); err != boom {
		t.Errorf("Save with a drawing error = %v, want it back", err)
	}
	if !slices.Equal(f.Names, []string{"one.svg", "one.png"}) {
		t.Fatalf("wrote %q", f.Names)
	}
	for _, n := range f.Names {
		if st, err := os.Stat(filepath.Join(f.Dir, n)); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", n, err)
		}
	}
}
