// Package cflags reads csrc/flags.mk, the one home of the project's C flag
// sets.
package cflags

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sets are the flag sets of csrc/flags.mk by name: "CFLAGS_COMMON", ...
type Sets map[string][]string

// Read parses repoRoot/csrc/flags.mk: NAME := value lines, # comments.
func Read(repoRoot string) (Sets, error) {
	path := filepath.Join(repoRoot, "csrc", "flags.mk")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sets := Sets{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, ":=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want NAME := flags, got %q", path, n, line)
		}
		sets[strings.TrimSpace(name)] = strings.Fields(value)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, want := range []string{"CFLAGS_COMMON", "CFLAGS_OPT", "CFLAGS_ASAN", "CFLAGS_TSAN"} {
		if _, ok := sets[want]; !ok {
			return nil, fmt.Errorf("%s: no %s", path, want)
		}
	}
	return sets, nil
}

// Join returns the named sets one after another, as one command line.
func (s Sets) Join(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, s[n]...)
	}
	return out
}
