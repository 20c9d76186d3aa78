package main

import (
	"slices"
	"testing"
)

// The variant rows are their base server with only the stated difference.
func TestResolveServerVariants(t *testing.T) {
	servers, err := resolveServers([]string{"go-select", "go-select-1p", "go-net-default"}, "/bin-dir", "/repo", 1)
	if err != nil {
		t.Fatal(err)
	}
	sel, onep, def := servers[0], servers[1], servers[2]
	if onep.Spec.Path != sel.Spec.Path || onep.CPU != sel.CPU {
		t.Errorf("go-select-1p = %+v; want go-select's binary and CPU (%+v)", onep, sel)
	}
	if want := append(slices.Clone(sel.Spec.Args), "-min-procs", "1"); !slices.Equal(onep.Spec.Args, want) {
		t.Errorf("go-select-1p args %q, want %q", onep.Spec.Args, want)
	}
	if slices.Contains(sel.Spec.Args, "-min-procs") {
		t.Errorf("go-select args %q changed by the variant", sel.Spec.Args)
	}
	if !slices.Equal(onep.Env, []string{"GOMAXPROCS=1"}) || !slices.Equal(sel.Env, []string{"GOMAXPROCS=1"}) {
		t.Errorf("env: go-select %q, go-select-1p %q", sel.Env, onep.Env)
	}
	if def.CPU != -1 || def.Env != nil {
		t.Errorf("go-net-default = %+v; want unpinned, default GOMAXPROCS", def)
	}
	if _, err := resolveServers([]string{"go-nope"}, "/bin-dir", "/repo", 1); err == nil {
		t.Error("unknown server: no error")
	}
}
