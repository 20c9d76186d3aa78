package main

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

func TestMain(m *testing.M) {
	if os.Getenv(pinHelperEnv) != "" {
		os.Exit(pinHelper())
	}
	code := m.Run()
	for _, dir := range []string{builtBin, callBin} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// builtBin is the directory serverBin built the servers into, once per
// test binary; TestMain removes it.
var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// serverBin returns a directory holding the built servers: $SELECTC_BIN
// (make test sets it), or a fresh build in a temporary directory.
func serverBin(t *testing.T, need ...string) string {
	t.Helper()
	repo, err := serverproc.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := os.Getenv("SELECTC_BIN")
	if bin == "" {
		buildOnce.Do(func() {
			if builtBin, buildErr = os.MkdirTemp("", "echo-bench-bin"); buildErr != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			buildErr = serverproc.Build(ctx, repo, builtBin)
		})
		if builtBin == "" {
			t.Fatal(buildErr)
		}
		if buildErr != nil {
			// Build builds what it can; only the servers this test runs matter.
			t.Logf("build: %v", buildErr)
		}
		bin = builtBin
	}
	specs := serverproc.Specs(bin, repo)
	for _, name := range need {
		sp, _ := serverproc.Lookup(specs, name)
		if err := sp.Check(); err != nil {
			t.Fatalf("server %s not built: %v", name, err)
		}
	}
	return bin
}
