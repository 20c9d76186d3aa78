//go:build linux

package selectc

import (
	"archive/zip"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// consumerMain is a program that depends on selectc: one real select on a
// pipe holding a byte, which must come back readable.
const consumerMain = `package main

import (
	"fmt"
	"os"
	"time"

	"github.com/selectc/selectc/selectc"
)

func main() {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	if _, err := w.Write([]byte{1}); err != nil {
		panic(err)
	}
	ready, _, _, err := selectc.Select([]*os.File{r}, nil, nil, time.Second)
	if err != nil || len(ready) != 1 || ready[0] != r {
		fmt.Fprintf(os.Stderr, "consumer: Select = %v, %v; want the pipe\n", ready, err)
		os.Exit(1)
	}
	fmt.Println("consumer: selectc.Select reported the pipe readable")
}
`

// A module that depends on selectc builds and runs as its users build it:
// vendored (go mod vendor copies only package folders, so the C must sit in
// selectc/), with -trimpath, and from a read-only module cache. Each build
// is run, and its one select must see the pipe.
func TestConsumerModuleBuilds(t *testing.T) {
	if e := os.Getenv(testExecEnv); e != "" {
		t.Skipf("under %q: the consumer is built by the host's go command for the host, which make test does natively", e)
	}
	goBin := goTool(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	// The user's own settings (-modcacherw in GOFLAGS, a go.work) must not
	// make the builds easier than a user's.
	env := append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	run := func(dir string, env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
		}
		return string(out)
	}
	consumer := func(require string) string {
		t.Helper()
		dir := t.TempDir()
		gomod := "module example.com/consumer\n\ngo 1.26\n\nrequire github.com/selectc/selectc " + require + "\n"
		if require == "v0.0.0" {
			gomod += "\nreplace github.com/selectc/selectc => " + root + "\n"
		}
		for name, text := range map[string]string{"go.mod": gomod, "go.sum": string(sum), "main.go": consumerMain} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}

	t.Run("vendored", func(t *testing.T) {
		dir := consumer("v0.0.0")
		run(dir, env, goBin, "mod", "tidy")
		run(dir, env, goBin, "mod", "vendor")
		if _, err := os.Stat(filepath.Join(dir, "vendor/github.com/selectc/selectc/selectc/selectshim.c")); err != nil {
			t.Fatalf("go mod vendor left out selectc's C: %v", err)
		}
		run(dir, env, goBin, "build", "-mod=vendor", "-trimpath", "-o", "consumer", ".")
		t.Log("go mod vendor; go build -mod=vendor -trimpath; ./consumer: " + run(dir, env, filepath.Join(dir, "consumer")))
	})

	t.Run("read-only module cache", func(t *testing.T) {
		// selectc as a version from a module proxy (a folder), its
		// dependencies from this machine's cache, into a fresh module cache
		// that the go command makes read-only (no -modcacherw).
		proxy, cache := t.TempDir(), t.TempDir()
		const version = "v0.0.1"
		writeProxyModule(t, proxy, root, version)
		hostCache := strings.TrimSpace(run(root, env, goBin, "env", "GOMODCACHE"))
		hostProxy := strings.TrimSpace(run(root, env, goBin, "env", "GOPROXY"))
		cenv := append(env, "GOMODCACHE="+cache, "GOSUMDB=off",
			"GOPROXY=file://"+proxy+",file://"+filepath.Join(hostCache, "cache", "download")+","+hostProxy)
		t.Cleanup(func() { // the cache is read-only: only the go command empties it
			cmd := exec.Command(goBin, "clean", "-modcache")
			cmd.Env = cenv
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("go clean -modcache: %v\n%s", err, out)
			}
		})
		dir := consumer(version)
		run(dir, cenv, goBin, "mod", "tidy")
		shim := filepath.Join(cache, "github.com/selectc/selectc@"+version, "selectc", "selectshim.c")
		fi, err := os.Stat(shim)
		if err != nil {
			t.Fatalf("selectc is not in the module cache: %v", err)
		}
		if fi.Mode().Perm()&0o222 != 0 {
			t.Fatalf("%s is writable (%v): the cache is not read-only", shim, fi.Mode())
		}
		run(dir, cenv, goBin, "build", "-trimpath", "-o", "consumer", ".")
		t.Log("from a read-only module cache, go build -trimpath; ./consumer: " + run(dir, cenv, filepath.Join(dir, "consumer")))
	})
}

// writeProxyModule puts version of the module at root into a GOPROXY
// folder: its go.mod, and a zip of go.mod, selectc/ and internal/ (the
// pure-Go package selectc imports), all a consumer of package selectc
// needs.
func writeProxyModule(t *testing.T, proxy, root, version string) {
	t.Helper()
	dir := filepath.Join(proxy, "github.com/selectc/selectc/@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"list":            version + "\n",
		version + ".info": `{"Version":"` + version + `","Time":"2026-01-01T00:00:00Z"}`,
		version + ".mod":  string(gomod),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := zip.NewWriter(f)
	prefix := "github.com/selectc/selectc@" + version + "/"
	add := func(rel string) error {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		w, err := z.Create(prefix + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if err := add("go.mod"); err != nil {
		t.Fatal(err)
	}
	for _, folder := range []string{"selectc", "internal"} {
		err = filepath.WalkDir(filepath.Join(root, folder), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			return add(rel)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}
