//go:build !libcurl

package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCurlMulti stands in for the libcurl tests in a build without the tag
// and says why they did not run: the C compiler cgo would use finds no
// curl/curl.h, or it does and the tag was left off.
func TestCurlMulti(t *testing.T) {
	cc := "gcc"
	if out, err := exec.Command("go", "env", "CC").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		cc = strings.TrimSpace(string(out))
	}
	probe := exec.Command("sh", "-c", cc+" -E -x c - >/dev/null")
	probe.Stdin = strings.NewReader("#include <curl/curl.h>\n")
	if out, err := probe.CombinedOutput(); err != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		t.Skipf("skipped: %s finds no curl/curl.h (%v: %s); install libcurl's headers for it (Debian: libcurl4-openssl-dev, :ARCH for a cross compiler) and test with -tags libcurl",
			cc, err, first)
	}
	t.Skipf("skipped: built without -tags libcurl, though %s finds curl/curl.h: make test adds the tag, or go test -tags libcurl ./cmd/curl-multi", cc)
}
