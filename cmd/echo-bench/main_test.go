package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/selectc/selectc/cmd/echo-bench/internal/benchtest"
)

func TestMain(m *testing.M) { benchtest.Main(m) }

// readResults reads the results.json of a run that wrote to dir.
func readResults(t *testing.T, dir string) *Results {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestRechart redraws the charts of an earlier run: ECHO_BENCH_RECHART=DIR
// reads DIR/results.json and writes the charts next to it.
func TestRechart(t *testing.T) {
	dir := os.Getenv("ECHO_BENCH_RECHART")
	if dir == "" {
		t.Skip("ECHO_BENCH_RECHART not set")
	}
	if _, err := writeCharts(dir, readResults(t, dir)); err != nil {
		t.Fatal(err)
	}
}
