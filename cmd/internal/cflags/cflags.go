// Package cflags reads csrc/flags.mk, the one home of the project's C flag
// sets, and fingerprints the C sources package selectc compiles.
package cflags

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// include is a one-line include of csrc/ in a selectc/*.c file.
var include = regexp.MustCompile(`(?m)^#include "\.\./csrc/([^"]+)"`)

// SelectcSum fingerprints the C that package selectc compiles: the csrc/
// files its .c files include, every csrc/ header, and flags.mk. The go
// command hashes only the files in a package's own folder, so selectc's
// #cgo line carries this sum: a change here changes the line and forces
// a rebuild.
func SelectcSum(repoRoot string) (string, error) {
	csrc := filepath.Join(repoRoot, "csrc")
	names := []string{"flags.mk"}
	shims, err := filepath.Glob(filepath.Join(repoRoot, "selectc", "*.c"))
	if err != nil {
		return "", err
	}
	for _, shim := range shims {
		b, err := os.ReadFile(shim)
		if err != nil {
			return "", err
		}
		for _, m := range include.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	headers, err := filepath.Glob(filepath.Join(csrc, "*.h"))
	if err != nil {
		return "", err
	}
	for _, h := range headers {
		names = append(names, filepath.Base(h))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	h := sha256.New()
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(csrc, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
