package main

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{2, 2, 9, 9, 9}, 9},
	} {
		in := append([]float64(nil), tc.xs...)
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.xs[i] {
				t.Fatalf("median reordered its argument: %v", tc.xs)
			}
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	if _, ok := spreadOf(nil); ok {
		t.Error("spread of nothing reported ok")
	}
	if sp, _ := spreadOf([]float64{0.9, 1.2, 1.0, 0.8}); sp != (Spread{Median: 0.95, Min: 0.8, Max: 1.2, N: 4}) {
		t.Errorf("spread = %+v", sp)
	}
}

func sample(round int, server string, eps, cpu float64) Sample {
	return Sample{Round: round, Server: server, Cell: Cell{Conns: 10, Size: 64}, Echoes: int64(eps), Metrics: Metrics{EchoesPerSec: eps, SrvCPUus: cpu}}
}

func TestRatiosAreTakenWithinRounds(t *testing.T) {
	// The machine is twice as fast in round 2 and four times in round 3: the
	// absolute figures spread widely, but go is always 0.5 of c's
	// throughput and twice its CPU per echo, so the ratio has no spread.
	samples := []Sample{
		sample(1, "c", 100, 10), sample(1, "go", 50, 20),
		sample(2, "c", 200, 5), sample(2, "go", 100, 10),
		sample(3, "c", 400, 2.5), sample(3, "go", 200, 5),
	}
	sums := summarize(samples, []Cell{{Conns: 10, Size: 64}}, []string{"c", "go"}, "c")
	if len(sums) != 2 {
		t.Fatalf("%d summaries, want 2", len(sums))
	}
	c, g := sums[0], sums[1]
	if c.Server != "c" || g.Server != "go" {
		t.Fatalf("order %s, %s", c.Server, g.Server)
	}
	if *c.EchoesRatio != (Spread{1, 1, 1, 3}) || *c.CPURatio != (Spread{1, 1, 1, 3}) {
		t.Errorf("baseline against itself: %+v %+v", *c.EchoesRatio, *c.CPURatio)
	}
	if *g.EchoesRatio != (Spread{0.5, 0.5, 0.5, 3}) {
		t.Errorf("throughput ratio %+v, want 0.5 with no spread", *g.EchoesRatio)
	}
	if *g.CPURatio != (Spread{2, 2, 2, 3}) {
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
	sums := summarize(samples, []Cell{{Conns: 10, Size: 64}}, []string{"c", "go"}, "c")
	g := sums[1]
	if g.Rounds != 5 || g.CleanRounds != 4 || g.Errors != 2 || g.PeakRSS != 5<<20 || g.ClientBound != 1 {
		t.Errorf("bookkeeping: %+v", g)
	}
	if *g.EchoesRatio != (Spread{Median: 0.7, Min: 0.6, Max: 0.8, N: 2}) {
		t.Errorf("throughput ratio %+v, want rounds 1 and 5 only", *g.EchoesRatio)
	}
	if *g.CPURatio != (Spread{Median: 1.35, Min: 1.2, Max: 1.5, N: 2}) {
		t.Errorf("cpu ratio %+v", *g.CPURatio)
	}
	// Medians of the clean rounds 1, 3, 4, 5: 80, 90, 70, 60.
	if g.EchoesPerSec != 75 {
		t.Errorf("median echoes/s %v, want 75", g.EchoesPerSec)
	}

	noBase := summarize(samples, []Cell{{Conns: 10, Size: 64}}, []string{"go"}, "")
	if noBase[0].EchoesRatio != nil || noBase[0].CPURatio != nil {
		t.Error("ratios without a baseline")
	}
}

func TestFormatting(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 999: "999", 1000: "1\u2009000", 1234567.4: "1\u2009234\u2009567"} {
		if got := fmtInt(x); got != want {
			t.Errorf("fmtInt(%v) = %q, want %q", x, got, want)
		}
	}
	if got := fmtSpread(&Spread{Median: 0.934, Min: 0.9, Max: 1.01, N: 3}); got != "0.93 [0.90–1.01]" {
		t.Errorf("fmtSpread = %q", got)
	}
	if got := fmtSpread(&Spread{Median: 2, Min: 2, Max: 2, N: 1}); got != "2.00" {
		t.Errorf("fmtSpread single = %q", got)
	}
	if fmtSpread(nil) != "–" || fmtNum(math.NaN(), 1) != "–" {
		t.Error("missing values not shown as –")
	}
}
