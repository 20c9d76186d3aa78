package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

func TestReadCallgrindTotal(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		text string
		want uint64
		ok   bool
	}{
		"summary":         {"version: 1\nevents: Ir\nfn=main\n3 10\nsummary: 155577\ntotals: 155577\n", 155577, true},
		"prefers-summary": {"events: Ir\nsummary: 8864\ntotals: 10358\n", 8864, true},
		"totals-only":     {"events: Ir\ntotals: 42 7\n", 42, true},
		"truncated":       {"events: Ir\nfn=main\n3 10\n", 0, false},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readCallgrindTotal(path)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: got %d, %v; want %d (ok=%v)", name, got, err, tc.want, tc.ok)
		}
	}
}

// TestCallgrindC measures the C server under callgrind with small counts:
// the dump method must work and give a count in a sane range.
func TestCallgrindC(t *testing.T) {
	if testing.Short() {
		t.Skip("runs valgrind")
	}
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Skip("valgrind not installed")
	}
	if _, err := exec.LookPath("callgrind_control"); err != nil {
		t.Skip("callgrind_control not installed")
	}
	bin := serverBin(t, "c")
	repo, _ := serverproc.RepoRoot()
	servers, err := resolveServers([]string{"c"}, bin, repo, -1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs, err := runCallgrind(ctx, servers, callgrindConfig{N1: 200, N2: 1200, Size: 64, Dir: t.TempDir(), NoFile: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("%d results", len(rs))
	}
	r := rs[0]
	if r.Errors != 0 || r.Method != "callgrind_control dumps in one process" {
		t.Fatalf("%+v", r)
	}
	// One select, one read, one write and the fd_set work: hundreds of
	// instructions, certainly not tens of thousands.
	if r.IrPerEcho < 50 || r.IrPerEcho > 20000 || r.Ir2 <= r.Ir1 {
		t.Errorf("implausible count: %+v", r)
	}
}
