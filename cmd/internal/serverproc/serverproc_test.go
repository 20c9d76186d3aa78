package serverproc

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a tiny echo server, so Start and
// Stop are tested against a real subprocess without the project's servers.
const helperEnv = "SERVERPROC_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

// helper is the subprocess: an echo server that behaves as mode says.
//
//	echo      serve until SIGTERM, exit 0
//	fail      print a line and exit 3 at once
//	badexit   serve, exit 4 on SIGTERM
//	deaf      serve, ignore SIGTERM
func helper(mode string) int {
	fs := flag.NewFlagSet("helper", flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	fs.Bool("v", false, "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "helper: refusing to start")
		return 3
	}
	// Burn a little CPU so Stats has something to report.
	for t0 := time.Now(); time.Since(t0) < 50*time.Millisecond; {
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	if mode == "deaf" {
		signal.Ignore(syscall.SIGTERM)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	<-sig
	if mode == "badexit" {
		return 4
	}
	return 0
}

func helperSpec(t *testing.T, mode string) Spec {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Spec{Name: "helper-" + mode, Path: exe, Env: []string{
		helperEnv + "=" + mode,
		// Under -race the helper would otherwise sleep 1 s at exit.
		"GORACE=atexit_sleep_ms=0",
	}}
}

func start(t *testing.T, spec Spec, opt Options) *Proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Start(ctx, spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = p.Stop() })
	return p
}

func TestStartEchoStop(t *testing.T) {
	p := start(t, helperSpec(t, "echo"), Options{CPU: -1})
	c, err := net.DialTimeout("tcp", p.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q, %v", buf, err)
	}

	s, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPU <= 0 || s.RSS == 0 || s.PeakRSS < s.RSS || s.Threads < 1 || s.VolCtxt+s.InvolCtxt == 0 {
		t.Errorf("implausible stats: %+v", s)
	}
	if n, err := p.FDs(); err != nil || n < 4 {
		t.Errorf("FDs = %d, %v; want at least stdio, listener and a connection", n, err)
	}

	d, err := p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if d > time.Second {
		t.Errorf("Stop took %v", d)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if d2, err2 := p.Stop(); d2 != d || err2 != nil {
		t.Errorf("second Stop = %v, %v; want the first result", d2, err2)
	}
}

func TestStartFailsWithServerOutput(t *testing.T) {
	_, err := Start(context.Background(), helperSpec(t, "fail"), Options{CPU: -1})
	if err == nil || !strings.Contains(err.Error(), "refusing to start") {
		t.Fatalf("Start error = %v; want one quoting the server's stderr", err)
	}
}

func TestStartMissingBinary(t *testing.T) {
	spec := Spec{Name: "nothing", Path: filepath.Join(t.TempDir(), "no-such-server")}
	if _, err := Start(context.Background(), spec, Options{CPU: -1}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Start error = %v; want a missing-binary error", err)
	}
}

func TestStopReportsExitStatus(t *testing.T) {
	p := start(t, helperSpec(t, "badexit"), Options{CPU: -1})
	if _, err := p.Stop(); err == nil || !strings.Contains(err.Error(), "exit status 4") {
		t.Fatalf("Stop error = %v; want exit status 4", err)
	}
}

func TestStopKillsDeafServer(t *testing.T) {
	if testing.Short() {
		t.Skip("waits the 5 s SIGTERM grace period")
	}
	p := start(t, helperSpec(t, "deaf"), Options{CPU: -1})
	d, err := p.Stop()
	if err == nil || d < stopTimeout {
		t.Fatalf("Stop = %v, %v; want an error after %v", d, err, stopTimeout)
	}
}

// TestWrappers checks that prlimit and taskset apply to the server itself:
// the PID Start reports must carry the limit and the affinity.
func TestWrappers(t *testing.T) {
	var stderr bytes.Buffer
	p := start(t, helperSpec(t, "echo"), Options{NoFile: 77, CPU: 0, Stderr: &stderr})
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", p.PID()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(limits), "Max open files            77                   77") {
		t.Errorf("pid %d limits:\n%s", p.PID(), limits)
	}
	status, err := readStatus(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if !strings.Contains(string(b), "Cpus_allowed_list:\t0\n") {
		t.Errorf("pid %d not pinned to CPU 0:\n%s", p.PID(), b)
	}
	if status["VmRSS"] == 0 {
		t.Error("no VmRSS")
	}
}

func TestLogBufferKeepsHeadAndTail(t *testing.T) {
	var b logBuffer
	head := strings.Repeat("h", logKeep)
	mid := strings.Repeat("m", 3*logKeep+17)
	end := strings.Repeat("t", logKeep-5) + "last!"
	for _, s := range []string{head, mid, end} {
		if n, _ := b.Write([]byte(s)); n != len(s) {
			t.Fatalf("short write %d", n)
		}
	}
	got := b.String()
	if !strings.HasPrefix(got, head) || !strings.HasSuffix(got, end) || !strings.Contains(got, "bytes dropped") {
		t.Fatalf("log buffer lost its head or tail (len %d)", len(got))
	}
}

func TestSpecsAndRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("RepoRoot %s: %v", root, err)
	}
	var names []string
	for _, s := range Specs("/bin-dir", root) {
		names = append(names, s.Name)
		if s.Path != "python3" && !strings.HasPrefix(s.Path, "/bin-dir/") {
			t.Errorf("%s: binary %s not in the bin dir", s.Name, s.Path)
		}
	}
	want := "c c-thread c-asan go-select go-reactor go-poller go-net go-unix py"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("Specs = %s; want %s", got, want)
	}
	if py, ok := Lookup(Specs("/bin-dir", root), "py"); !ok || py.Args[0] != filepath.Join(root, "cmd", "echo-py", "echo_server.py") {
		t.Errorf("py spec = %+v", py)
	}
}
