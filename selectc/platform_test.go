package selectc

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A build the package does not support fails at compile time, with the
// reason as the error, never at run time: without cgo (nocgo.go), or for a
// system other than Linux and Windows (unsupported.go), with cgo on or off.
func TestUnsupportedBuildsFailAtCompileTime(t *testing.T) {
	goBin := goTool(t)
	for _, c := range []struct {
		env  []string
		want []string
	}{
		{[]string{"CGO_ENABLED=0"}, []string{"selectc_requires_cgo"}},
		{[]string{"GOOS=darwin", "CGO_ENABLED=1", "CC=gcc"}, []string{"selectc_supports_only_linux_and_windows"}},
		{[]string{"GOOS=openbsd", "CGO_ENABLED=1", "CC=gcc"}, []string{"selectc_supports_only_linux_and_windows"}},
		{[]string{"GOOS=windows", "CGO_ENABLED=0"}, []string{"selectc_requires_cgo"}},
		{[]string{"GOOS=freebsd", "CGO_ENABLED=0"}, []string{"selectc_requires_cgo", "selectc_supports_only_linux_and_windows"}},
	} {
		cmd := exec.Command(goBin, "build", ".")
		cmd.Env = append(os.Environ(), c.env...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%v: go build succeeded; want a compile-time error", c.env)
			continue
		}
		lines := 0
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if !strings.HasPrefix(l, "#") {
				lines++
			}
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), "undefined: "+w) {
				t.Errorf("%v: the error does not name %s:\n%s", c.env, w, out)
			}
		}
		if lines != len(c.want) {
			t.Errorf("%v: %d errors, want only the %d naming the reason:\n%s", c.env, lines, len(c.want), out)
		}
	}
}
