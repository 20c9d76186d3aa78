// Package servers is the rows of echo-bench's echo matrix and callgrind
// run: the servers of serverproc's table and their variants, how each is
// pinned and started, and the sentence that says so.
package servers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/selectc/selectc/cmd/echo-bench/internal/console"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// Server is one row of the benchmark: a server of serverproc's table (or a
// variant of one), and how it is run.
type Server struct {
	Name     string
	Spec     serverproc.Spec
	CPU      int      // CPU to pin it to, or -1
	Env      []string // on top of the spec's
	Unpinned bool     // a variant run as users get it: any CPU, default GOMAXPROCS
	Note     string   // how a variant differs from its base
}

// variant is a row that runs a base server of the table differently.
type variant struct {
	name, base string
	args       []string // added to the base's arguments
	unpinned   bool     // any CPU, default GOMAXPROCS
	noSpareP   bool     // args hold it to one P (-min-procs 1)
	inDefault  bool     // part of a plain run
	note       string
}

// variants: go-net-default is go-net as users get it; go-select-1p (on
// request only) is go-select held to one P, to measure what the spare P
// saves.
var variants = []variant{
	{name: "go-net-default", base: "go-net", unpinned: true, inDefault: true, note: "unpinned, default GOMAXPROCS"},
	{name: "go-select-1p", base: "go-select", args: []string{"-min-procs", "1"}, noSpareP: true, note: "no spare P"},
}

// Defaults are the rows of a plain run: every server of the table
// but the sanitized build (it measures the sanitizer), each followed by its
// default variants.
func Defaults(specs []serverproc.Spec) []string {
	var names []string
	for _, sp := range specs {
		if sp.Sanitized {
			continue
		}
		names = append(names, sp.Name)
		for _, v := range variants {
			if v.base == sp.Name && v.inDefault {
				names = append(names, v.name)
			}
		}
	}
	return names
}

// Optional lists, for the -servers help, the rows a plain run
// leaves out, each with what it is.
func Optional(specs []serverproc.Spec) string {
	var out []string
	for _, sp := range specs {
		if sp.Sanitized {
			out = append(out, sp.Name+": "+sp.Note)
		}
	}
	for _, v := range variants {
		if !v.inDefault {
			out = append(out, v.name+": "+v.base+", "+v.note)
		}
	}
	return strings.Join(out, "; ")
}

// TableSpecs is the table with placeholder paths, for what needs only
// names and fields (the -servers default).
func TableSpecs() []serverproc.Spec { return serverproc.Specs("", "") }

// Resolve turns names into servers with binaries from binDir. Go
// servers run with GOMAXPROCS=1 so every like-for-like row has one core (the
// select-loop servers add a spare P themselves, see echo-server -min-procs).
func Resolve(names []string, binDir, repoRoot string, serverCPU int) ([]Server, error) {
	specs := serverproc.Specs(binDir, repoRoot)
	var out []Server
	for _, name := range names {
		v := variant{name: name, base: name}
		if i := slices.IndexFunc(variants, func(v variant) bool { return v.name == name }); i >= 0 {
			v = variants[i]
		}
		sp, ok := serverproc.Lookup(specs, v.base)
		if !ok {
			return nil, fmt.Errorf("unknown server %q (known: %s)", name, specNames(specs))
		}
		sp.Name = name
		sp.Args = append(slices.Clone(sp.Args), v.args...)
		sp.SpareP = sp.SpareP && !v.noSpareP
		s := Server{Name: name, Spec: sp, CPU: serverCPU, Unpinned: v.unpinned, Note: v.note}
		if v.unpinned {
			s.CPU = -1
		} else if sp.Go() {
			s.Env = []string{"GOMAXPROCS=1"}
		}
		out = append(out, s)
	}
	return out, nil
}

func specNames(specs []serverproc.Spec) string {
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	for _, v := range variants {
		names = append(names, v.name)
	}
	return strings.Join(names, ", ")
}

// Description is the row's one line for the report: the table's Note,
// and what a variant changes.
func (s Server) Description() string {
	if s.Note == "" {
		return s.Spec.Note
	}
	return s.Spec.Note + "; " + s.Note
}

// PinningText says where everything ran, naming the servers the table marks
// as keeping a spare P and the unpinned variants, so the sentence cannot
// drift from what was run.
func PinningText(clientCPU, serverCPU int, servers []Server) string {
	var spare, unpinned []string
	for _, s := range servers {
		switch {
		case s.Unpinned:
			unpinned = append(unpinned, s.Name)
		case s.Spec.Go() && s.Spec.SpareP:
			spare = append(spare, s.Name)
		}
	}
	t := fmt.Sprintf("load generator on CPU %d (GOMAXPROCS=1), servers on CPU %d; Go servers GOMAXPROCS=1", clientCPU, serverCPU)
	if len(spare) > 0 {
		t += fmt.Sprintf(", which the select-loop ones (%s) raise to 2 by their -min-procs default: a spare P for the blocked select, still one CPU", strings.Join(spare, ", "))
	}
	if len(unpinned) > 0 {
		t += fmt.Sprintf("; %s unpinned with default GOMAXPROCS", strings.Join(unpinned, ", "))
	}
	return t
}

// Options are how s is started: its CPU and environment, the servers'
// RLIMIT_NOFILE, and with verbose its output copied to stderr.
func (s Server) Options(noFile uint64, verbose bool) serverproc.Options {
	return serverproc.Options{NoFile: noFile, CPU: s.CPU, Env: s.Env, Stderr: console.Prefixed(verbose, s.Name)}
}

// Preflight starts and stops each server once, so a missing or broken
// binary (or a mode the binary does not have yet) fails the run at once
// rather than after minutes of measuring: a server asked for is measured or
// the run fails, it is never silently left out.
func Preflight(ctx context.Context, servers []Server, noFile uint64, verbose bool) error {
	for _, s := range servers {
		if err := s.Spec.Check(); err != nil {
			return fmt.Errorf("%w (run `make` first, or pass -bin)", err)
		}
		p, err := serverproc.Start(ctx, s.Spec, s.Options(noFile, verbose))
		if err != nil {
			// serverproc appends the server's output, which names the flag.
			return fmt.Errorf("server %s (%s) does not start; is bin/ up to date with the tree (`make`)?\n%w", s.Name, s.Spec.Source, err)
		}
		if _, err := p.Stop(); err != nil {
			return err
		}
	}
	return nil
}
