package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// server is one row of the benchmark: a server of serverproc's table (or a
// variant of one), and how it is run.
type server struct {
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

// defaultServers are the rows of a plain run: every server of the table
// but the sanitized build (it measures the sanitizer), each followed by its
// default variants.
func defaultServers(specs []serverproc.Spec) []string {
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

// optionalServers lists, for the -servers help, the rows a plain run
// leaves out, each with what it is.
func optionalServers(specs []serverproc.Spec) string {
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

// tableSpecs is the table with placeholder paths, for what needs only
// names and fields (the -servers default).
func tableSpecs() []serverproc.Spec { return serverproc.Specs("", "") }

// resolveServers turns names into servers with binaries from binDir. Go
// servers run with GOMAXPROCS=1 so every like-for-like row has one core (the
// select-loop servers add a spare P themselves, see echo-server -min-procs).
func resolveServers(names []string, binDir, repoRoot string, serverCPU int) ([]server, error) {
	specs := serverproc.Specs(binDir, repoRoot)
	var out []server
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
		s := server{Name: name, Spec: sp, CPU: serverCPU, Unpinned: v.unpinned, Note: v.note}
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

// description is the row's one line for the report: the table's Note,
// and what a variant changes.
func (s server) description() string {
	if s.Note == "" {
		return s.Spec.Note
	}
	return s.Spec.Note + "; " + s.Note
}

// pinningText says where everything ran, naming the servers the table marks
// as keeping a spare P and the unpinned variants, so the sentence cannot
// drift from what was run.
func pinningText(clientCPU, serverCPU int, servers []server) string {
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
