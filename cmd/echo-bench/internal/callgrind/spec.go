package callgrind

// How a server runs under valgrind: its command line and environment.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/selectc/selectc/cmd/echo-bench/internal/servers"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// GODEBUG are the Go runtime settings of every Go server under
// callgrind. asyncpreemptoff=1: valgrind serialises threads anyway, and the
// preemption signals only add noise to the counts. cpu.rdtscp=off: valgrind
// 3.19 does not emulate RDTSCP, which runtime.cputicks executes when the CPU
// reports it; the server then dies of SIGILL (on this project's VM in about
// two runs of three). Off, cputicks uses MFENCE;LFENCE;RDTSC instead.
var GODEBUG = []string{"asyncpreemptoff=1", "cpu.rdtscp=off"}

// PinningText says how the servers run under callgrind, for the report.
func PinningText() string {
	return fmt.Sprintf("none: under valgrind a process runs one thread at a time anyway; Go servers with GOMAXPROCS=1 GODEBUG=%s",
		strings.Join(GODEBUG, ","))
}

// Rows are the servers of ss worth counting: an unpinned variant would
// repeat its base (every Go server runs with one P under callgrind, and
// nothing is pinned).
func Rows(ss []servers.Server) []servers.Server {
	return slices.DeleteFunc(slices.Clone(ss), func(s servers.Server) bool { return s.Unpinned })
}

// spec wraps a server's spec in valgrind. Go servers get one P and
// GODEBUG, merged into any GODEBUG already set.
func spec(ctx context.Context, valgrind string, s servers.Server, outFile string) serverproc.Spec {
	sp := s.Spec
	args := append([]string{"--tool=callgrind", "--callgrind-out-file=" + outFile,
		"--compress-strings=no", "--compress-pos=no", // so each dump reads on its own in callgrind_annotate
		realInterpreter(ctx, sp.Path)}, sp.Args...)
	env := append([]string(nil), sp.Env...)
	if sp.Go() {
		env = append(env, "GOMAXPROCS=1")
		env = withGODEBUG(env, os.Getenv("GODEBUG"), GODEBUG...)
	}
	return serverproc.Spec{Name: s.Name, Path: valgrind, Args: args, Env: env}
}

// withGODEBUG returns env with one GODEBUG entry holding, comma-separated,
// the inherited settings, those of env's own GODEBUG entries and then
// settings; a later value of the same key replaces an earlier one. One
// entry, because the process sees only one GODEBUG variable: a second
// entry would replace the first rather than add to it.
func withGODEBUG(env []string, inherited string, settings ...string) []string {
	var keys []string
	vals := map[string]string{}
	add := func(list string) {
		for kv := range strings.SplitSeq(list, ",") {
			if kv = strings.TrimSpace(kv); kv == "" {
				continue
			}
			k, _, _ := strings.Cut(kv, "=")
			if _, seen := vals[k]; !seen {
				keys = append(keys, k)
			}
			vals[k] = kv
		}
	}
	add(inherited)
	var out []string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "GODEBUG="); ok {
			add(v)
			continue
		}
		out = append(out, e)
	}
	add(strings.Join(settings, ","))
	if len(keys) == 0 {
		return out
	}
	merged := make([]string, len(keys))
	for i, k := range keys {
		merged[i] = vals[k]
	}
	return append(out, "GODEBUG="+strings.Join(merged, ","))
}

// realInterpreter resolves "python3" to the interpreter binary itself. A
// launcher in between (pyenv's shim is a shell script that execs the real
// one) would leave valgrind measuring the shell: it does not follow exec.
func realInterpreter(ctx context.Context, path string) string {
	if filepath.IsAbs(path) || !strings.HasPrefix(path, "python") {
		return path
	}
	out, err := exec.CommandContext(ctx, path, "-c", "import sys; print(sys.executable)").Output()
	if exe := strings.TrimSpace(string(out)); err == nil && filepath.IsAbs(exe) {
		return exe
	}
	return path
}
