package servers

import (
	"slices"
	"strings"
	"testing"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// The variant rows are their base server with only the stated difference.
func TestResolveVariants(t *testing.T) {
	servers, err := Resolve([]string{"go-select", "go-select-1p", "go-net-default"}, "/bin-dir", "/repo", 1)
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
	if !sel.Spec.SpareP || onep.Spec.SpareP {
		t.Errorf("SpareP: go-select %v, go-select-1p %v; want true, false", sel.Spec.SpareP, onep.Spec.SpareP)
	}
	if !slices.Equal(onep.Env, []string{"GOMAXPROCS=1"}) || !slices.Equal(sel.Env, []string{"GOMAXPROCS=1"}) {
		t.Errorf("env: go-select %q, go-select-1p %q", sel.Env, onep.Env)
	}
	if def.CPU != -1 || def.Env != nil || !def.Unpinned {
		t.Errorf("go-net-default = %+v; want unpinned, default GOMAXPROCS", def)
	}
	if _, err := Resolve([]string{"go-nope"}, "/bin-dir", "/repo", 1); err == nil {
		t.Error("unknown server: no error")
	}
}

// Every row takes what it is from the table: Go servers (and only they)
// get GOMAXPROCS=1, and the description is the table's Note.
func TestServersFollowTheTable(t *testing.T) {
	specs := TableSpecs()
	var names []string
	for _, sp := range specs {
		names = append(names, sp.Name)
	}
	servers, err := Resolve(names, "/bin-dir", "/repo", 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range servers {
		sp := specs[i]
		if got := slices.Contains(s.Env, "GOMAXPROCS=1"); got != sp.Go() {
			t.Errorf("%s (Lang %s): GOMAXPROCS=1 %v, want %v", s.Name, sp.Lang, got, sp.Go())
		}
		if sp.Note == "" || s.Description() != sp.Note {
			t.Errorf("%s: description %q, want the table's Note %q", s.Name, s.Description(), sp.Note)
		}
	}
}

func TestDefaultServers(t *testing.T) {
	specs := []serverproc.Spec{
		{Name: "c"}, {Name: "c-asan", Sanitized: true}, {Name: "go-select", Lang: "Go"},
		{Name: "go-net", Lang: "Go"}, {Name: "py"},
	}
	got := strings.Join(Defaults(specs), " ")
	if want := "c go-select go-net go-net-default py"; got != want {
		t.Errorf("defaultServers = %s; want %s (no sanitized build, default variants after their base)", got, want)
	}
	// The real table: every server but the sanitized ones is in a plain run.
	def := Defaults(TableSpecs())
	for _, sp := range TableSpecs() {
		if slices.Contains(def, sp.Name) == sp.Sanitized {
			t.Errorf("%s (Sanitized %v) in the default run: %v", sp.Name, sp.Sanitized, !sp.Sanitized)
		}
	}
}

// The pinning sentence names exactly the rows that keep a spare P and the
// unpinned ones.
func TestPinningText(t *testing.T) {
	servers, err := Resolve([]string{"c", "go-select", "go-select-1p", "go-net", "go-net-default", "go-unix", "py"}, "/b", "/r", 1)
	if err != nil {
		t.Fatal(err)
	}
	got := PinningText(0, 1, servers)
	for _, want := range []string{"load generator on CPU 0", "servers on CPU 1", "(go-select, go-unix) raise to 2", "go-net-default unpinned"} {
		if !strings.Contains(got, want) {
			t.Errorf("pinning text lacks %q:\n%s", want, got)
		}
	}
	if got := PinningText(0, 1, servers[:1]); strings.Contains(got, "raise") || strings.Contains(got, "unpinned") {
		t.Errorf("C alone: %s", got)
	}
}
