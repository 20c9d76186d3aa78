// Package calls is echo-bench -calls: one select call timed through every
// wrapper (C, selectc's levels, x/sys/unix, Python) on the same
// descriptors, each wrapper in a worker process of its own, each figure a
// ratio to C's in the same round.
package calls

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Wrapper is one way of making the same select call: a row of the
// call-level table and the worker that times it.
type Wrapper struct {
	Name  string // short name for -calls-wrappers, JSON and CSV
	Label string // the API, short enough for a chart's legend
	What  string // one line: what a call does
	// Program is the worker: a binary in the bin directory, or a script
	// (relative to the repository root) run by python3.
	Program string
	Python  bool
	API     string   // the worker's -api, if it has several
	Args    []string // more arguments
	// Cgo is, for a Go worker, the CGO_ENABLED its binary must have been
	// built with: x/sys/unix's row means nothing if the binary links cgo.
	Cgo string
}

// Wrappers are every wrapper of the call-level benchmark; c is the
// baseline the ratios divide by.
var Wrappers = []Wrapper{
	{Name: "c", Label: "C (FD_* macros, select)", Program: "selectcalls-c",
		What: "the C prototype's way: FD_ZERO, FD_SET per fd, select, FD_ISSET per fd (csrc/selectcalls.c, the C server's CFLAGS)"},
	{Name: "c-thread", Label: "C, + an idle thread", Program: "selectcalls-c", Args: []string{"-threads", "1"},
		What: "the same C in a process with a second, idle thread, as every Go process has: the kernel's select then takes and drops a reference on each watched file, which it skips for a single-threaded process"},
	{Name: "fdset", Label: "selectc.SelectFdSet + FdSet", Program: "selectcalls-go", API: "fdset", Cgo: "1",
		What: "the same loop on selectc's fd_set level: Zero, Set per fd, SelectFdSet, IsSet per fd, each one cgo call"},
	{Name: "select", Label: "selectc.Select", Program: "selectcalls-go", API: "select", Cgo: "1",
		What: "Python's contract from Go: a list in, a new slice of the ready ones out, one cgo call"},
	{Name: "selector", Label: "selectc.Selector", Program: "selectcalls-go", API: "selector", Cgo: "1",
		What: "selectc.Select with its memory kept between calls (no allocation)"},
	{Name: "poller", Label: "selectc.Poller", Program: "selectcalls-go", API: "poller", Cgo: "1",
		What: "fds registered once; Wait copies the C-side sets, selects and writes back the ready fds, one cgo call"},
	{Name: "unix", Label: "x/sys/unix.Select", Program: "selectcalls-unix", API: "unix", Cgo: "0",
		What: "the C prototype's loop in pure Go: FdSet methods in Go, one system call made with the scheduler's handshake (syscall.Syscall6); binary built with CGO_ENABLED=0"},
	{Name: "raw", Label: "Go raw syscall, Go-held sets", Program: "selectcalls-unix", API: "raw", Cgo: "0",
		What: "the same loop with the select made as a raw system call (internal/rawselect), without the scheduler's handshake: the floor of a Go program, and what selectc's fast paths do"},
	{Name: "py", Label: "Python select.select", Program: "cmd/echo-py/select_calls.py", Python: true, API: "select",
		What: "select.select(fds, [], [], 0): the list turned into fd_sets and the ready ones back into a new list"},
	{Name: "py-selectors", Label: "Python SelectSelector", Program: "cmd/echo-py/select_calls.py", Python: true, API: "selectors",
		What: "fds registered once, then sel.select(0): select.select underneath, plus a (key, events) pair per ready fd"},
}

// Baseline is the wrapper the ratios divide by.
const Baseline = "c"

// WrapperNames lists the names of ws, for help and errors.
func WrapperNames(ws []Wrapper) string {
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	return strings.Join(names, ", ")
}

// argv is how to start w's worker.
func (w Wrapper) argv(binDir, repoRoot string) []string {
	var argv []string
	if w.Python {
		argv = []string{"python3", filepath.Join(repoRoot, w.Program)}
	} else {
		argv = []string{filepath.Join(binDir, w.Program)}
	}
	if w.API != "" {
		argv = append(argv, "-api", w.API)
	}
	return append(argv, w.Args...)
}

// check says why w's worker cannot be trusted or run: a missing program,
// or a Go binary built with the wrong CGO_ENABLED.
func (w Wrapper) check(binDir, repoRoot string) error {
	path := w.argv(binDir, repoRoot)[0]
	if w.Python {
		path = filepath.Join(repoRoot, w.Program)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("wrapper %s: %w (run `make` first, or pass -bin)", w.Name, err)
	}
	if w.Cgo == "" {
		return nil
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("wrapper %s: %w", w.Name, err)
	}
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" {
			if s.Value != w.Cgo {
				return fmt.Errorf("wrapper %s: %s was built with CGO_ENABLED=%s, want %s (build it as the Makefile does)", w.Name, path, s.Value, w.Cgo)
			}
			return nil
		}
	}
	return fmt.Errorf("wrapper %s: %s records no CGO_ENABLED setting", w.Name, path)
}

// WrappersNamed picks wrappers by name, in the order given.
func WrappersNamed(names []string) ([]Wrapper, error) {
	var ws []Wrapper
	for _, name := range names {
		i := slices.IndexFunc(Wrappers, func(w Wrapper) bool { return w.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown wrapper %q (known: %s)", name, WrapperNames(Wrappers))
		}
		ws = append(ws, Wrappers[i])
	}
	return ws, nil
}
