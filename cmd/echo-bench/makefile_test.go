package main

import (
	"fmt"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// makefile is the parts of the Makefile this test reads.
type makefile struct {
	vars    map[string][]string // NAME := words (with += appended), continuations joined
	prereqs map[string][]string // target -> prerequisites, "$(BIN)/" kept
	recipes []string            // every recipe line
}

func readMakefile(t *testing.T, file string) makefile {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := makefile{vars: map[string][]string{}, prereqs: map[string][]string{}}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, "\t") {
			m.recipes = append(m.recipes, line)
			continue
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if name, words, add, ok := assignment(line); ok {
			if !add {
				m.vars[name] = nil
			}
			m.vars[name] = append(m.vars[name], words...)
		} else if target, deps, ok := strings.Cut(line, ":"); ok {
			for _, tg := range strings.Fields(target) {
				m.prereqs[tg] = strings.Fields(deps)
			}
		}
	}
	return m
}

// assignment parses "NAME := words" (also =, ?= and +=, then add is true).
func assignment(line string) (name string, words []string, add, ok bool) {
	for _, op := range []string{"+=", ":=", "?=", "="} {
		if n, val, found := strings.Cut(line, op); found {
			n = strings.TrimSpace(n)
			if n == "" || strings.ContainsAny(n, ":$ \t") {
				return "", nil, false, false
			}
			return n, strings.Fields(val), op == "+=", true
		}
	}
	return "", nil, false, false
}

// programs maps each program the Makefile's *PROGS variables name to the
// variable: GO_PROGS holds package paths under cmd/, the C lists
// $(BIN)/NAME targets; the binary is the last path element either way.
func (m makefile) programs() map[string]string {
	progs := map[string]string{}
	for name, words := range m.vars {
		if strings.HasSuffix(name, "PROGS") {
			for _, w := range words {
				progs[path.Base(w)] = name
			}
		}
	}
	return progs
}

// pureGo reports whether the Makefile builds the programs of variable v
// with CGO_ENABLED=0: some recipe line names $(v) and sets it.
func (m makefile) pureGo(v string) bool {
	return slices.ContainsFunc(m.recipes, func(r string) bool {
		return strings.Contains(r, "$("+v+")") && strings.Contains(r, "CGO_ENABLED=0")
	})
}

// TestMakefileBuildsTheTable fails when the Makefile's lists of programs
// and serverproc's table disagree.
func TestMakefileBuildsTheTable(t *testing.T) {
	root, err := serverproc.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	m := readMakefile(t, filepath.Join(root, "Makefile"))
	if len(m.programs()) == 0 {
		t.Fatal("no *PROGS variables in the Makefile")
	}
	for _, p := range disagreements(m, serverproc.Specs("/bin-dir", root), func(pkg string) bool {
		return importsEchoserver(t, filepath.Join(root, "cmd", pkg))
	}) {
		t.Error(p)
	}
}

// disagreements lists how m and the table specs disagree: a server binary
// the Makefile does not build (or builds from other sources, or with cgo
// when the table says it has none), or a server the Makefile builds that
// the table does not list. serves says whether the Go package cmd/pkg is a
// server.
func disagreements(m makefile, specs []serverproc.Spec, serves func(pkg string) bool) []string {
	var out []string
	progs := m.programs()
	tableBins := map[string]bool{}
	for _, sp := range specs {
		if sp.Lang == "Python" {
			continue // a script, nothing to build
		}
		bin := filepath.Base(sp.Path)
		tableBins[bin] = true
		v, ok := progs[bin]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: the table runs %s, which no *PROGS variable of the Makefile builds", sp.Name, bin))
		case sp.Go():
			if !strings.HasPrefix(sp.Source, "cmd/"+bin) {
				out = append(out, fmt.Sprintf("%s: source %s is not in cmd/%s, the package the Makefile builds as %s", sp.Name, sp.Source, bin, bin))
			}
			if m.pureGo(v) == sp.Cgo {
				out = append(out, fmt.Sprintf("%s: the table says Cgo=%v, but the Makefile builds %s (in %s) with cgo %s",
					sp.Name, sp.Cgo, bin, v, map[bool]string{true: "off", false: "on"}[m.pureGo(v)]))
			}
		default:
			if !slices.Contains(m.prereqs["$(BIN)/"+bin], sp.Source) {
				out = append(out, fmt.Sprintf("%s: the Makefile's rule for %s does not build it from %s (prerequisites %q)", sp.Name, bin, sp.Source, m.prereqs["$(BIN)/"+bin]))
			}
		}
	}
	// The other way round: a program that serves must be in the table. A Go
	// server imports the shared server loop; a C server is built from a
	// csrc/*server*.c source.
	for _, bin := range slices.Sorted(maps.Keys(progs)) {
		v := progs[bin]
		if tableBins[bin] {
			continue
		}
		if deps, isC := m.prereqs["$(BIN)/"+bin]; isC {
			for _, dep := range deps {
				if strings.HasPrefix(dep, "csrc/") && strings.Contains(path.Base(dep), "server") {
					out = append(out, fmt.Sprintf("the Makefile builds %s from %s, a server source, but the table has no server running it", bin, dep))
				}
			}
			continue
		}
		for _, pkg := range m.vars[v] {
			if path.Base(pkg) == bin && serves(pkg) {
				out = append(out, fmt.Sprintf("the Makefile builds %s (cmd/%s), a server, but the table has no server running it", bin, pkg))
			}
		}
	}
	return out
}

func importsEchoserver(t *testing.T, dir string) bool {
	t.Helper()
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/selectc/selectc/cmd/internal/echoserver" {
					return true
				}
			}
		}
	}
	return false
}

// The parser itself, on a Makefile that disagrees with a made-up table in
// each way the test above looks for.
func TestReadMakefile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Makefile")
	text := "GO_PROGS := a b\nPURE_GO_PROGS := c \\\n  d/e # comment\nC_PROGS := $(BIN)/srv\nC_PROGS += $(BIN)/t\n" +
		"$(BIN)/srv: csrc/srv_server.c x.h\n\tgcc -o $@\ngo:\n\tCGO_ENABLED=0 go build $(addprefix ./cmd/,$(PURE_GO_PROGS))\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m := readMakefile(t, file)
	want := map[string]string{"a": "GO_PROGS", "b": "GO_PROGS", "c": "PURE_GO_PROGS", "e": "PURE_GO_PROGS", "srv": "C_PROGS", "t": "C_PROGS"}
	got := m.programs()
	if len(got) != len(want) {
		t.Fatalf("programs %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("program %s in %q, want %q", k, got[k], v)
		}
	}
	if !m.pureGo("PURE_GO_PROGS") || m.pureGo("GO_PROGS") {
		t.Error("pureGo wrong")
	}
	if !slices.Equal(m.prereqs["$(BIN)/srv"], []string{"csrc/srv_server.c", "x.h"}) {
		t.Errorf("prereqs %q", m.prereqs)
	}

	// A table that agrees, then one that disagrees in every way.
	serves := func(pkg string) bool { return pkg == "a" || pkg == "b" }
	good := []serverproc.Spec{
		{Name: "go-a", Lang: "Go", Source: "cmd/a/loop.go", Path: "/bin/a", Cgo: true},
		{Name: "go-b", Lang: "Go", Source: "cmd/b", Path: "/bin/b", Cgo: true},
		{Name: "c", Lang: "C", Source: "csrc/srv_server.c", Path: "/bin/srv"},
		{Name: "py", Lang: "Python", Path: "python3"},
	}
	if d := disagreements(m, good, serves); len(d) != 0 {
		t.Errorf("agreeing table: %q", d)
	}
	bad := []serverproc.Spec{
		{Name: "go-a", Lang: "Go", Source: "cmd/a", Path: "/bin/a", Cgo: false},      // built with cgo
		{Name: "go-c", Lang: "Go", Source: "cmd/x", Path: "/bin/c"},                  // from another package
		{Name: "c", Lang: "C", Source: "csrc/other_server.c", Path: "/bin/srv"},      // from another source
		{Name: "gone", Lang: "Go", Source: "cmd/gone", Path: "/bin/gone", Cgo: true}, // not built
	}
	d := strings.Join(disagreements(m, bad, serves), "\n")
	for _, want := range []string{"go-a: the table says Cgo=false", "go-c: source cmd/x is not in cmd/c", "c: the Makefile's rule for srv",
		"gone: the table runs gone, which no", "builds b (cmd/b), a server, but the table"} {
		if !strings.Contains(d, want) {
			t.Errorf("disagreements lack %q:\n%s", want, d)
		}
	}
}
