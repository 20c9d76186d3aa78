package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/internal/loadgen"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// minNoFile is the descriptor limit the test process needs: the thousand
// and fd_limit scenarios hold over a thousand client sockets at once.
const minNoFile = 2200

var (
	repoRoot string
	binDir   string
	// buildErr is why some server could not be built, shown by every
	// subtest whose server binary is missing.
	buildErr error
)

func TestMain(m *testing.M) {
	if name := os.Getenv(injectEnv); name != "" {
		err := runInjector(name, os.Args[1:])
		fmt.Fprintln(os.Stderr, "conformance fault injector:", err)
		os.Exit(2)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// setup finds or builds the server binaries, raises the test's own fd
// limit, and runs the tests.
func setup(m *testing.M) (int, error) {
	var err error
	if repoRoot, err = serverproc.RepoRoot(); err != nil {
		return 0, err
	}
	if _, err := loadgen.RaiseNoFile(minNoFile); err != nil {
		// Not fatal: the scenarios that need more say so (requireNoFile).
		fmt.Fprintln(os.Stderr, "conformance:", err)
	}
	if dir := os.Getenv("SELECTC_BIN"); dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(repoRoot, dir)
		}
		binDir = dir
		return m.Run(), nil
	}
	tmp, err := os.MkdirTemp("", "selectc-conformance-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	binDir = tmp
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	buildErr = serverproc.Build(ctx, repoRoot, binDir)
	cancel()
	if buildErr != nil {
		// Not fatal: the servers that did build are still tested, the
		// others fail their subtests quoting this.
		fmt.Fprintln(os.Stderr, "conformance: some servers did not build:", buildErr)
	}
	return m.Run(), nil
}

// requireNoFile fails t when the test process cannot hold n descriptors.
func requireNoFile(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < n {
		t.Fatalf("this test needs RLIMIT_NOFILE >= %d, have soft %d hard %d (raise it with ulimit -n)", n, lim.Cur, lim.Max)
	}
}

// requireServer fails t, with the build error if there was one, when spec's
// binary (or script) is not there.
func requireServer(t *testing.T, spec serverproc.Spec) {
	t.Helper()
	if err := spec.Check(); err != nil {
		if buildErr != nil {
			t.Fatalf("not available: %v\nbuild error:\n%s", err, logTail(buildErr.Error()))
		}
		t.Fatalf("not available: %v (binaries from %s)", err, binDir)
	}
}
