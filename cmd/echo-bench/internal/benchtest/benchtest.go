// Package benchtest builds what echo-bench's tests run: the servers and
// the call workers, into a temporary directory once per test binary, or
// taken from $SELECTC_BIN (make test sets it). A test binary that uses it
// runs its tests through Main.
package benchtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/env"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

var (
	serverOnce sync.Once
	serverDir  string
	serverErr  error

	callOnce sync.Once
	callDir  string
	callErr  error
)

// Main runs m's tests, removes what they built and exits: the TestMain of
// a test binary that uses this package.
func Main(m *testing.M) {
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func cleanup() {
	for _, dir := range []string{serverDir, callDir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
}

// ServerBin returns a directory holding the built servers: $SELECTC_BIN,
// or a fresh build in a temporary directory. It fails t if a server named
// in need is not there.
func ServerBin(t testing.TB, need ...string) string {
	t.Helper()
	repo, err := serverproc.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := os.Getenv("SELECTC_BIN")
	if bin == "" {
		serverOnce.Do(func() {
			if serverDir, serverErr = os.MkdirTemp("", "echo-bench-bin"); serverErr != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			serverErr = serverproc.Build(ctx, repo, serverDir)
		})
		if serverDir == "" {
			t.Fatal(serverErr)
		}
		if serverErr != nil {
			// Build builds what it can; only the servers this test runs matter.
			t.Logf("build: %v", serverErr)
		}
		bin = serverDir
	}
	specs := serverproc.Specs(bin, repo)
	for _, name := range need {
		sp, _ := serverproc.Lookup(specs, name)
		if err := sp.Check(); err != nil {
			t.Fatalf("server %s not built: %v", name, err)
		}
	}
	return bin
}

// CallWorkersBin returns a directory with the call workers built as the
// Makefile builds them: $SELECTC_BIN if it has them, or a fresh build.
func CallWorkersBin(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("SELECTC_BIN"); bin != "" {
		if _, err := os.Stat(filepath.Join(bin, "selectcalls-unix")); err == nil {
			return bin
		}
	}
	callOnce.Do(func() {
		root, err := serverproc.RepoRoot()
		if err != nil {
			callErr = err
			return
		}
		if callDir, callErr = os.MkdirTemp("", "echo-bench-calls"); callErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		callErr = BuildCallWorkers(ctx, root, callDir, "0")
	})
	if callErr != nil {
		t.Fatal(callErr)
	}
	return callDir
}

// BuildCallWorkers builds the three compiled workers into dir, the
// pure-Go one with CGO_ENABLED=unixCgo.
func BuildCallWorkers(ctx context.Context, root, dir, unixCgo string) error {
	cmds := [][]string{
		append(append([]string{"gcc"}, env.CServerCFLAGS(root)...), "-pthread", "-Iselectc", "csrc/selectcalls.c", "-o", filepath.Join(dir, "selectcalls-c")),
		{"go", "build", "-o", dir + "/", "./cmd/echo-bench/internal/selectcalls-go"},
		{"env", "CGO_ENABLED=" + unixCgo, "go", "build", "-o", dir + "/", "./cmd/echo-bench/internal/selectcalls-unix"},
	}
	for _, argv := range cmds {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return &buildError{cmd.String(), err, out}
		}
	}
	return nil
}

type buildError struct {
	cmd string
	err error
	out []byte
}

func (e *buildError) Error() string { return e.cmd + ": " + e.err.Error() + "\n" + string(e.out) }
