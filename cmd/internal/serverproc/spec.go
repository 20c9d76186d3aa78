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
	"syscall"
)

// Engine is the readiness mechanism a server waits on.
type Engine string

const (
	// EngineSelect servers wait in select(2): they cannot watch a descriptor
	// at or above FD_SETSIZE, and they see TCP urgent data as an exceptional
	// condition.
	EngineSelect Engine = "select"
	// EngineEpoll servers (Go's net package) have neither limit nor
	// exceptional conditions: the kernel drops an urgent byte from the
	// stream they read.
	EngineEpoll Engine = "epoll"
)

// Spec describes one echo server: this table is the one place that says
// what each server is, and the conformance suite, echo-bench and its
// callgrind mode read it. Start appends "-addr HOST:PORT" (and "-v" before
// it when asked) after Args.
type Spec struct {
	Name   string   // short name used in test and benchmark names: "c", "go-net", ...
	Lang   string   // "C", "Go" or "Python"
	Source string   // where its loop lives, relative to the repo root
	Path   string   // program to execute: an absolute binary path, or "python3"
	Args   []string // arguments that select the server, before the common flags
	Env    []string // extra environment, KEY=VALUE, on top of the parent's
	Engine Engine   // what it waits on
	Cgo    bool     // the binary links cgo (runtime/cgo)
	// SpareP: a Go select loop that raises GOMAXPROCS to 2 by its
	// -min-procs default, so a select blocked in the kernel costs no P
	// hand-off (cmd/internal/echoserver/command.go says why).
	SpareP bool
	Note   string // one line for tables: how it is built and what it shows
	// Sanitized: built with ASan/UBSan to find memory errors; its timings
	// measure the sanitizer, so the benchmark leaves it out by default.
	Sanitized bool
	// StopSignal is what Stop sends; 0 means SIGTERM. A Windows server
	// under wine gets SIGINT, which wine hands it as a Ctrl-C (SIGTERM
	// would end the process at once).
	StopSignal syscall.Signal
}

// Go reports whether the server runs on the Go runtime.
func (s Spec) Go() bool { return s.Lang == "Go" }

// Specs lists every echo server of the project, in a fixed order, with
// binaries taken from binDir and the Python server from repoRoot.
func Specs(binDir, repoRoot string) []Spec {
	bin := func(name string) string { return filepath.Join(binDir, name) }
	return []Spec{
		{Name: "c", Lang: "C", Source: "csrc/echo_server.c", Path: bin("echo-server-c"), Engine: EngineSelect,
			Note: "the C prototype on selectc/selectshim.c"},
		{Name: "c-thread", Lang: "C", Source: "csrc/echo_server.c", Path: bin("echo-server-c"), Args: []string{"-idle-thread"},
			Engine: EngineSelect, Note: "the C prototype with a second, idle thread: the floor of a Go server (README, \"The floor\")"},
		{Name: "c-asan", Lang: "C", Source: "csrc/echo_server.c", Path: bin("echo-server-c-asan"), Engine: EngineSelect, Env: []string{
			// A leak or error report must fail the run, and the report must
			// reach the captured stderr rather than a file. A small
			// quarantine: freed memory must go back to the system as the
			// plain build's does (the memory scenario measures it).
			"ASAN_OPTIONS=abort_on_error=0:exitcode=23:detect_leaks=1:quarantine_size_mb=16:allocator_release_to_os_interval_ms=500",
			"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1",
		}, Sanitized: true, Note: "the C prototype under ASan and UBSan"},
		{Name: "go-select", Lang: "Go", Source: "cmd/echo-server", Path: bin("echo-server"), Args: []string{"-mode=select"},
			Engine: EngineSelect, Cgo: true, SpareP: true, Note: "Go on selectc.Selector: the post's loop, driven from Go"},
		{Name: "go-reactor", Lang: "Go", Source: "cmd/echo-server/reactor.go", Path: bin("echo-server"), Args: []string{"-mode=reactor"},
			Engine: EngineSelect, Cgo: true, SpareP: true, Note: "Go on selectc.Loop: the loop in C, a Go handler per event"},
		{Name: "go-poller", Lang: "Go", Source: "cmd/echo-server/poller.go", Path: bin("echo-server"), Args: []string{"-mode=poller"},
			Engine: EngineSelect, Cgo: true, SpareP: true, Note: "Go on selectc.Poller: fd_sets kept in C, every ready fd back in one crossing"},
		{Name: "go-net", Lang: "Go", Source: "cmd/echo-go/netengine.go", Path: bin("echo-go"), Args: []string{"-engine=net"},
			Engine: EngineEpoll, Note: "pure Go (CGO_ENABLED=0), net package, a goroutine per connection"},
		{Name: "go-unix", Lang: "Go", Source: "cmd/echo-go/unixselect.go", Path: bin("echo-go"), Args: []string{"-engine=unix"},
			Engine: EngineSelect, SpareP: true, Note: "pure Go (CGO_ENABLED=0), the go-select loop on x/sys/unix.Select"},
		{Name: "py", Lang: "Python", Source: "cmd/echo-py/echo_server.py", Path: "python3",
			Args: []string{filepath.Join(repoRoot, "cmd", "echo-py", "echo_server.py")}, Engine: EngineSelect,
			Note: "Python 3 port of the post, select.select"},
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
