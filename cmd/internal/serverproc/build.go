package serverproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/selectc/selectc/cmd/internal/cflags"
)

// goPackages are the Go programs Build puts in binDir; pureGoPackages are
// built with CGO_ENABLED=0, as the Makefile's PURE_GO_PROGS are.
var (
	goPackages     = []string{"./cmd/echo-server", "./cmd/echo-client"}
	pureGoPackages = []string{"./cmd/echo-go"}
)

// cSources are the C sources of the prototype server, relative to the repo root.
var cSources = []string{"csrc/echo_server.c", "selectc/selectshim.c"}

// cBuilds are the C server and its sanitized twin, each with the flag sets
// of csrc/flags.mk the Makefile uses, so a test exercises what make builds.
var cBuilds = []struct {
	out  string
	sets []string
}{
	{"echo-server-c", []string{"CFLAGS_COMMON", "CFLAGS_OPT"}},
	{"echo-server-c-asan", []string{"CFLAGS_COMMON", "CFLAGS_ASAN"}},
}

// Build builds every server binary into binDir so that `go test ./...`
// works without make: the Go programs with one `go build`, then the C
// server and its sanitized twin with gcc. It builds as much as it can: when
// a program does not build, the others still
// are, and the returned error names each failure with the tool's output.
func Build(ctx context.Context, repoRoot, binDir string) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	dir := binDir + string(filepath.Separator) // "-o dir/" puts each program in dir
	var errs []error
	for _, pkg := range goPackages {
		if err := run(ctx, repoRoot, nil, "go", "build", "-o", dir, pkg); err != nil {
			errs = append(errs, err)
		}
	}
	for _, pkg := range pureGoPackages {
		if err := run(ctx, repoRoot, []string{"CGO_ENABLED=0"}, "go", "build", "-o", dir, pkg); err != nil {
			errs = append(errs, err)
		}
	}
	sets, err := cflags.Read(repoRoot)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, b := range cBuilds {
		args := append(append(sets.Join(b.sets...), "-Iselectc", "-pthread"), cSources...) // -pthread: -idle-thread
		args = append(args, "-o", filepath.Join(binDir, b.out))
		if err := run(ctx, repoRoot, nil, "gcc", args...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// run runs one build command in dir, with env added to the environment,
// and wraps a failure with the command line and everything it printed.
func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", cmd.String(), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
