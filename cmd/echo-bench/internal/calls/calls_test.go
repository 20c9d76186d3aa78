package calls

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/benchtest"
	"github.com/selectc/selectc/cmd/echo-bench/internal/callworker"
	"github.com/selectc/selectc/cmd/echo-bench/internal/stats"
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
	cell := Cell{N: 64, Ready: "all"}
	smp := func(round int, w string, ns float64) Sample {
		return Sample{Round: round, Wrapper: w, Cell: cell, Calls: 100, Ns: int64(ns * 100), NsPerCall: ns}
	}
	// The machine is twice as slow in round 2; the ratio does not move.
	samples := []Sample{smp(1, "c", 100), smp(1, "unix", 150), smp(2, "c", 200), smp(2, "unix", 300),
		smp(3, "c", 100), {Round: 3, Wrapper: "unix", Cell: cell, Error: "3 ready, want 64"}}
	ws := []Wrapper{{Name: "c"}, {Name: "unix"}}
	sums := summarize(samples, []Cell{cell}, ws, "c")
	if len(sums) != 2 {
		t.Fatalf("%d summaries", len(sums))
	}
	u := sums[1]
	if *u.Ratio != (stats.Spread{Median: 1.5, Min: 1.5, Max: 1.5, N: 2}) || u.Errors != 1 || u.CleanRounds != 2 {
		t.Errorf("unix: %+v ratio %+v", u, *u.Ratio)
	}
	if *u.NsPerCall != (stats.Spread{Median: 225, Min: 150, Max: 300, N: 2}) {
		t.Errorf("unix ns: %+v", *u.NsPerCall)
	}
	if *sums[0].Ratio != (stats.Spread{Median: 1, Min: 1, Max: 1, N: 3}) {
		t.Errorf("c against itself: %+v", *sums[0].Ratio)
	}
	if got := cellText(&u); got != "225 [150–300] ×1.50 ⚠" {
		t.Errorf("cell text %q", got)
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
	if err := benchtest.BuildCallWorkers(ctx, root, dir, "1"); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(Wrappers, func(w Wrapper) bool { return w.Name == "unix" })
	err = Wrappers[i].check(dir, root)
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=1, want 0") {
		t.Errorf("check = %v; want the cgo build refused", err)
	}
	j := slices.IndexFunc(Wrappers, func(w Wrapper) bool { return w.Name == "select" })
	if err := Wrappers[j].check(dir, root); err != nil {
		t.Errorf("the cgo worker refused: %v", err)
	}
}

func TestGridCheck(t *testing.T) {
	if err := quickGrid.Check(); err != nil {
		t.Errorf("the quick grid: %v", err)
	}
	g := quickGrid
	g.Ns = []int{callworker.FdSetSize - firstFD + 1} // the last one would be FD_SETSIZE
	if err := g.Check(); err == nil || !strings.Contains(err.Error(), "FD_SETSIZE") {
		t.Errorf("N reaching FD_SETSIZE: %v", err)
	}
	g.Ns = []int{callworker.FdSetSize - firstFD} // the last one is FD_SETSIZE-1
	if err := g.Check(); err != nil {
		t.Errorf("the largest N that fits: %v", err)
	}
	g.Ready = []string{"some"}
	if err := g.Check(); err == nil {
		t.Error("ready state \"some\" accepted")
	}
}
