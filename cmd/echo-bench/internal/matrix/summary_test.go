package matrix

import (
	"testing"

	"github.com/selectc/selectc/cmd/echo-bench/internal/stats"
)

func sample(round int, server string, eps, cpu float64) Sample {
	return Sample{Round: round, Server: server, Cell: Cell{Conns: 10, Size: 64}, Echoes: int64(eps), Metrics: Metrics{EchoesPerSec: eps, SrvCPUus: cpu}}
}

// flat is a spread without range.
func flat(x float64, n int) stats.Spread { return stats.Spread{Median: x, Min: x, Max: x, N: n} }

func TestRatiosAreTakenWithinRounds(t *testing.T) {
	// The machine is twice as fast in round 2 and four times in round 3: the
	// absolute figures spread widely, but go is always 0.5 of c's
	// throughput and twice its CPU per echo, so the ratio has no spread.
	samples := []Sample{
		sample(1, "c", 100, 10), sample(1, "go", 50, 20),
		sample(2, "c", 200, 5), sample(2, "go", 100, 10),
		sample(3, "c", 400, 2.5), sample(3, "go", 200, 5),
	}
	sums := Summarize(samples, []Cell{{Conns: 10, Size: 64}}, []string{"c", "go"}, "c")
	if len(sums) != 2 {
		t.Fatalf("%d summaries, want 2", len(sums))
	}
	c, g := sums[0], sums[1]
	if c.Server != "c" || g.Server != "go" {
		t.Fatalf("order %s, %s", c.Server, g.Server)
	}
	if *c.EchoesRatio != (flat(1, 3)) || *c.CPURatio != (flat(1, 3)) {
		t.Errorf("baseline against itself: %+v %+v", *c.EchoesRatio, *c.CPURatio)
	}
	if *g.EchoesRatio != (flat(0.5, 3)) {
		t.Errorf("throughput ratio %+v, want 0.5 with no spread", *g.EchoesRatio)
	}
	if *g.CPURatio != (flat(2, 3)) {
		t.Errorf("cpu ratio %+v, want 2 with no spread", *g.CPURatio)
	}
	if g.EchoesPerSec != 100 || g.SrvCPUus != 10 || g.CleanRounds != 3 {
		t.Errorf("medians: %+v", g)
	}
}

func TestRatiosSkipFailedAndMissingRounds(t *testing.T) {
	bad := sample(2, "go", 999, 1)
	bad.Errors = 2
	bad.PeakRSS = 5 << 20
	cb := sample(3, "go", 90, 10)
	cb.ClientBound = true
	samples := []Sample{
		sample(1, "c", 100, 10), sample(1, "go", 80, 12),
		sample(2, "c", 100, 10), bad, // a failed round: no ratio, but its errors count
		sample(3, "c", 0, 0), cb, // the baseline measured nothing: no ratio
		sample(4, "go", 70, 9), // no baseline in round 4
		sample(5, "c", 100, 10), sample(5, "go", 60, 15),
	}
	sums := Summarize(samples, []Cell{{Conns: 10, Size: 64}}, []string{"c", "go"}, "c")
	g := sums[1]
	if g.Rounds != 5 || g.CleanRounds != 4 || g.Errors != 2 || g.PeakRSS != 5<<20 || g.ClientBound != 1 {
		t.Errorf("bookkeeping: %+v", g)
	}
	if *g.EchoesRatio != (stats.Spread{Median: 0.7, Min: 0.6, Max: 0.8, N: 2}) {
		t.Errorf("throughput ratio %+v, want rounds 1 and 5 only", *g.EchoesRatio)
	}
	if *g.CPURatio != (stats.Spread{Median: 1.35, Min: 1.2, Max: 1.5, N: 2}) {
		t.Errorf("cpu ratio %+v", *g.CPURatio)
	}
	// Medians of the clean rounds 1, 3, 4, 5: 80, 90, 70, 60.
	if g.EchoesPerSec != 75 {
		t.Errorf("median echoes/s %v, want 75", g.EchoesPerSec)
	}

	noBase := Summarize(samples, []Cell{{Conns: 10, Size: 64}}, []string{"go"}, "")
	if noBase[0].EchoesRatio != nil || noBase[0].CPURatio != nil {
		t.Error("ratios without a baseline")
	}
}
