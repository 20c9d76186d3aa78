package echoserver

import (
	"flag"
	"runtime"
	"strconv"
	"testing"
)

// -min-procs raises GOMAXPROCS and never lowers it.
func TestApplyMinProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct{ had, min, want int }{
		{1, 2, 2}, // the benchmark's GOMAXPROCS=1: one P spare for the blocked select
		{1, 0, 1}, // -min-procs 0 leaves it alone
		{4, 2, 4}, // never lowered
		{2, 3, 3},
	} {
		runtime.GOMAXPROCS(tc.had)
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		c := NewCommand(fs)
		c.SpareP(fs)
		if err := fs.Parse([]string{"-min-procs", strconv.Itoa(tc.min)}); err != nil {
			t.Fatal(err)
		}
		c.ApplyMinProcs()
		if got := runtime.GOMAXPROCS(0); got != tc.want {
			t.Errorf("GOMAXPROCS %d, -min-procs %d: got %d, want %d", tc.had, tc.min, got, tc.want)
		}
	}
}
