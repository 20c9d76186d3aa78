package table

import (
	"math"
	"strings"
	"testing"

	"github.com/selectc/selectc/cmd/echo-bench/internal/stats"
)

func TestFormatting(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 999: "999", 1000: "1\u2009000", 1234567.4: "1\u2009234\u2009567"} {
		if got := Int(x); got != want {
			t.Errorf("Int(%v) = %q, want %q", x, got, want)
		}
	}
	if got := Spread(&stats.Spread{Median: 0.934, Min: 0.9, Max: 1.01, N: 3}); got != "0.93 [0.90–1.01]" {
		t.Errorf("Spread = %q", got)
	}
	if got := Spread(&stats.Spread{Median: 2, Min: 2, Max: 2, N: 1}); got != "2.00" {
		t.Errorf("Spread single = %q", got)
	}
	if Spread(nil) != "–" || Num(math.NaN(), 1) != "–" {
		t.Error("missing values not shown as –")
	}
}

func TestWriteRows(t *testing.T) {
	var b strings.Builder
	WriteRows(&b, "", "", []Row{{"a", "x|y"}})
	WriteRows(&b, "server", "what it is", []Row{{"c", "C"}})
	WriteRows(&b, "none", "at all", nil)
	want := "| | |\n|---|---|\n| a | x\\|y |\n\n| server | what it is |\n|---|---|\n| c | C |\n\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestWriteGrid(t *testing.T) {
	var b strings.Builder
	WriteGrid(&b, "row", []string{"A", "B"}, []string{"x", "y"}, func(r, c int) string { return string(rune('0' + 2*r + c)) })
	want := "| row | A | B |\n|---|---:|---:|\n| x | 0 | 1 |\n| y | 2 | 3 |\n\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
