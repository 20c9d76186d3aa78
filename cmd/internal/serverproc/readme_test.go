package serverproc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// README's "The servers" table lists every server of Specs, in order, by
// name, with its source and a command that runs its binary with its
// arguments: a server added here and not there, or renamed, fails.
func TestReadmeListsTheServers(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := serverRows(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range readmeDisagreements(rows, Specs("bin", root), root) {
		t.Error(msg)
	}
}

// readmeRow is one row of the table: the server's name (the first cell's
// leading `name`), and the source and run-it cells as written.
type readmeRow struct{ name, source, run string }

// serverRows returns the rows of the table under "## The servers".
func serverRows(readme string) ([]readmeRow, error) {
	_, section, ok := strings.Cut(readme, "\n## The servers\n")
	if !ok {
		return nil, errNoSection
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var rows []readmeRow
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) != 3 {
			continue // prose, the header, its rule
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(cells[0], "`"), "`")
		rows = append(rows, readmeRow{name, cells[1], cells[2]})
	}
	return rows, nil
}

var errNoSection = errors.New(`README.md has no "## The servers" section`)

// readmeDisagreements lists, in words, where rows differ from specs.
func readmeDisagreements(rows []readmeRow, specs []Spec, root string) []string {
	var out []string
	var names, want []string
	for _, r := range rows {
		names = append(names, r.name)
	}
	for _, sp := range specs {
		want = append(want, sp.Name)
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		out = append(out, "README's servers are ["+strings.Join(names, " ")+"]; spec.go's are ["+strings.Join(want, " ")+"], in this order")
	}
	for i, r := range rows {
		if i >= len(specs) || r.name != specs[i].Name {
			continue
		}
		sp := specs[i]
		if !strings.Contains(r.source, "`"+sp.Source+"`") {
			out = append(out, sp.Name+": the source cell "+r.source+" does not name "+sp.Source)
		}
		cmd := "bin/" + filepath.Base(sp.Path)
		if sp.Lang == "Python" {
			cmd = sp.Path
		}
		for _, arg := range sp.Args {
			if rel, err := filepath.Rel(root, arg); err == nil && filepath.IsAbs(arg) {
				arg = rel
			}
			cmd += " " + arg
		}
		if !strings.Contains(r.run, "`"+cmd) {
			out = append(out, sp.Name+": the run-it cell "+r.run+" does not start with `"+cmd+"`")
		}
	}
	return out
}

// The check itself fails on the tables it must refuse.
func TestReadmeDisagreements(t *testing.T) {
	specs := []Spec{
		{Name: "c", Lang: "C", Source: "csrc/x.c", Path: "bin/echo-c"},
		{Name: "go", Lang: "Go", Source: "cmd/x", Path: "bin/echo-go", Args: []string{"-mode=a"}},
	}
	good := []readmeRow{{"c", "`csrc/x.c`", "`bin/echo-c -v`"}, {"go", "`cmd/x` on it", "`bin/echo-go -mode=a -v`"}}
	if d := readmeDisagreements(good, specs, "/r"); len(d) != 0 {
		t.Fatalf("a matching table: %q", d)
	}
	for name, rows := range map[string][]readmeRow{
		"a server missing": good[:1],
		"out of order":     {good[1], good[0]},
		"another source":   {{"c", "`csrc/y.c`", "`bin/echo-c`"}, good[1]},
		"another mode":     {good[0], {"go", "`cmd/x`", "`bin/echo-go -mode=b`"}},
	} {
		if d := readmeDisagreements(rows, specs, "/r"); len(d) == 0 {
			t.Errorf("%s: no disagreement found", name)
		}
	}
	readme := "# x\n\n## The servers\n\n| server | source | run it |\n|---|---|---|\n| `c`: C | `csrc/x.c` | `bin/echo-c` |\n\n## Next\n| `z`: no | a | b |\n"
	rows, err := serverRows(readme)
	if err != nil || len(rows) != 1 || rows[0].name != "c" {
		t.Fatalf("serverRows = %+v, %v; want the one row of the section", rows, err)
	}
}
