// Package serverproc runs the echo servers as real subprocesses: it knows
// where each server's binary lives and how to build it, starts one on a free
// loopback port under optional prlimit/taskset wrappers, waits until it
// accepts connections, reads its resource use from /proc and stops it with
// SIGTERM. The conformance suite and the benchmark share it.
package serverproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Spec says how to run one echo server. Start appends "-addr HOST:PORT"
// (and "-v" before it when asked) after Args.
type Spec struct {
	Name string   // short name used in test and benchmark names: "c", "go-net", ...
	Path string   // program to execute: an absolute binary path, or "python3"
	Args []string // arguments that select the server, before the common flags
	Env  []string // extra environment, KEY=VALUE, on top of the parent's
}

// Specs lists every echo server of the project, in a fixed order, with
// binaries taken from binDir and the Python server from repoRoot.
func Specs(binDir, repoRoot string) []Spec {
	bin := func(name string) string { return filepath.Join(binDir, name) }
	return []Spec{
		{Name: "c", Path: bin("echo-server-c")},
		{Name: "c-asan", Path: bin("echo-server-c-asan"), Env: []string{
			// A leak or error report must fail the run, and the report must
			// reach the captured stderr rather than a file.
			"ASAN_OPTIONS=abort_on_error=0:exitcode=23:detect_leaks=1",
			"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1",
		}},
		{Name: "go-select", Path: bin("echo-server"), Args: []string{"-mode=select"}},
		{Name: "go-reactor", Path: bin("echo-server"), Args: []string{"-mode=reactor"}},
		{Name: "go-net", Path: bin("echo-go"), Args: []string{"-engine=net"}},
		{Name: "go-unix", Path: bin("echo-go"), Args: []string{"-engine=unix"}},
		{Name: "py", Path: "python3", Args: []string{filepath.Join(repoRoot, "cmd", "echo-py", "echo_server.py")}},
	}
}

// Lookup returns the spec called name from specs.
func Lookup(specs []Spec, name string) (Spec, bool) {
	for _, s := range specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// RepoRoot walks up from the working directory to the first folder that
// holds a go.mod file: tests run in their package's folder, programs
// anywhere inside the tree.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repo root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("repo root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repo root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Check reports why spec cannot be started, or nil: a missing binary, or
// for the Python server a missing interpreter or script.
func (s Spec) Check() error {
	path := s.Path
	if !filepath.IsAbs(path) {
		p, err := exec.LookPath(path)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: binary missing: %w", s.Name, err)
	}
	if s.Path == "python3" && len(s.Args) > 0 {
		if _, err := os.Stat(s.Args[0]); err != nil {
			return fmt.Errorf("%s: script missing: %w", s.Name, err)
		}
	}
	return nil
}
