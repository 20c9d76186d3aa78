package callgrind

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/benchtest"
	"github.com/selectc/selectc/cmd/echo-bench/internal/servers"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

func TestMain(m *testing.M) { benchtest.Main(m) }

func TestReadCallgrindTotal(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		text string
		want uint64
		ok   bool
	}{
		"summary":         {"version: 1\nevents: Ir\nfn=main\n3 10\nsummary: 155577\ntotals: 155577\n", 155577, true},
		"prefers-summary": {"events: Ir\nsummary: 8864\ntotals: 10358\n", 8864, true},
		"totals-only":     {"events: Ir\ntotals: 42 7\n", 42, true},
		"truncated":       {"events: Ir\nfn=main\n3 10\n", 0, false},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readCallgrindTotal(path)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: got %d, %v; want %d (ok=%v)", name, got, err, tc.want, tc.ok)
		}
	}
}

// TestCallgrindC measures the C server under callgrind with small counts:
// the dump method must work and give a count in a sane range.
func TestCallgrindC(t *testing.T) {
	if testing.Short() {
		t.Skip("runs valgrind")
	}
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Skip("valgrind not installed")
	}
	if _, err := exec.LookPath("callgrind_control"); err != nil {
		t.Skip("callgrind_control not installed")
	}
	bin := benchtest.ServerBin(t, "c")
	repo, _ := serverproc.RepoRoot()
	ss, err := servers.Resolve([]string{"c"}, bin, repo, -1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs, err := Run(ctx, ss, Config{N1: 200, N2: 1200, Size: 64, Dir: t.TempDir(), NoFile: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("%d results", len(rs))
	}
	r := rs[0]
	if r.Errors != 0 || r.Method != "callgrind_control dumps in one process" {
		t.Fatalf("%+v", r)
	}
	// One select, one read, one write and the fd_set work: hundreds of
	// instructions, certainly not tens of thousands.
	if r.IrPerEcho < 50 || r.IrPerEcho > 20000 || r.Ir2 <= r.Ir1 {
		t.Errorf("implausible count: %+v", r)
	}
}

func TestWithGODEBUG(t *testing.T) {
	for _, tc := range []struct {
		env       []string
		inherited string
		want      []string
	}{
		{nil, "", []string{"GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off"}},
		{[]string{"A=1"}, "madvdontneed=1", []string{"A=1", "GODEBUG=madvdontneed=1,asyncpreemptoff=1,cpu.rdtscp=off"}},
		// One entry in the end, every setting in it, ours winning a clash.
		{[]string{"GODEBUG=gctrace=1", "B=2", "GODEBUG=asyncpreemptoff=0"}, "cpu.rdtscp=on,x=y",
			[]string{"B=2", "GODEBUG=cpu.rdtscp=off,x=y,gctrace=1,asyncpreemptoff=1"}},
	} {
		got := withGODEBUG(tc.env, tc.inherited, GODEBUG...)
		if !slices.Equal(got, tc.want) {
			t.Errorf("withGODEBUG(%q, %q) = %q, want %q", tc.env, tc.inherited, got, tc.want)
		}
	}
	// The Go servers' spec carries it; the C server's does not.
	s := servers.Server{Name: "go-x", Spec: serverproc.Spec{Lang: "Go", Path: "/bin/x", Env: []string{"GODEBUG=gctrace=1"}}}
	env := spec(context.Background(), "/valgrind", s, "/tmp/out").Env
	if n := countPrefix(env, "GODEBUG="); n != 1 || !slices.Contains(env, "GOMAXPROCS=1") {
		t.Errorf("go server env %q: want GOMAXPROCS=1 and one GODEBUG", env)
	}
	s.Spec.Lang = "C"
	if env := spec(context.Background(), "/valgrind", s, "/tmp/out").Env; countPrefix(env, "GOMAXPROCS=") != 0 {
		t.Errorf("C server env %q", env)
	}
}

func countPrefix(env []string, prefix string) int {
	n := 0
	for _, e := range env {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func TestValgrindTrouble(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"start go-select: exited\nvex amd64->IR: unhandled instruction bytes: 0xF 0x1 0xF9 0x48 0xC1\n" +
			"==123== Process terminating with default action of signal 4 (SIGILL)\n", "RDTSCP"},
		{"==9== valgrind: Unrecognised instruction at address 0x4015.\nvex amd64->IR: unhandled instruction bytes: 0xF 0xB\n", "unhandled instruction bytes: 0xF 0xB"},
		{"==7== Process terminating with default action of signal 4 (SIGILL)\n", "server killed: Process terminating with default action of signal 4 (SIGILL)"},
		{"Callgrind: threads.c:247 (vgCallgrind_post_signal): Assertion 'sigNum == vgCallgrind_current_state.sig' failed.\n", "internal checks (Callgrind: threads.c:247"},
		{"run: read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer\nvalgrind output:\n", "reset the connection"},
		{"3 echo errors: byte 7 differs", ""},
	} {
		got := valgrindTrouble(tc.text)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("valgrindTrouble(%q) = %q, want it to say %q", tc.text, got, tc.want)
		}
	}
}

// trapServer is a C echo server that dies of an illegal instruction (ud2)
// at its first message, as a Go server did when valgrind met RDTSCP; with
// TRAP_ONCE=FILE set it does so only when FILE does not exist yet (and
// creates it), and echoes otherwise.
const trapServer = `#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
	char *addr = argv[argc - 1], *colon = strrchr(addr, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
	*colon = 0;
	inet_pton(AF_INET, addr, &sa.sin_addr);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 16)) { perror("listen"); return 1; }
	const char *once = getenv("TRAP_ONCE");
	int trap = !once || access(once, F_OK) != 0;
	if (once && trap)
		fclose(fopen(once, "w"));
	for (;;) {
		int c = accept(l, NULL, NULL);
		char b[4096];
		ssize_t n;
		while (c >= 0 && (n = read(c, b, sizeof b)) > 0) {
			if (trap)
				__builtin_trap();
			if (write(c, b, n) != n)
				break;
		}
		if (c >= 0)
			close(c);
	}
}
`

// A run that valgrind breaks is retried, at most Attempts times,
// and each failure is told in plain words.
func TestCallgrindRetriesValgrindFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("runs valgrind")
	}
	for _, tool := range []string{"valgrind", "callgrind_control", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool, " not installed")
		}
	}
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "trap.c"), filepath.Join(dir, "trap")
	if err := os.WriteFile(src, []byte(trapServer), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-O1", src, "-o", bin).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := servers.Server{Name: "trap", Spec: serverproc.Spec{Name: "trap", Lang: "C", Path: bin}}
	rs, err := Run(ctx, []servers.Server{s}, Config{N1: 10, N2: 20, Size: 64, Dir: dir, NoFile: 1024})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Errors != 1 || r.Attempts != Attempts || len(r.Failures) != Attempts {
		t.Fatalf("%+v; want %d failed attempts and an error", r, Attempts)
	}
	for _, f := range r.Failures {
		if !strings.Contains(f, "SIGILL") {
			t.Errorf("failure %q does not name the SIGILL", f)
		}
	}
	if !strings.Contains(r.Note, "valgrind failed in all 3 attempts") {
		t.Errorf("note %q", r.Note)
	}
	var md strings.Builder
	WriteTable(&md, rs, "c")
	if !strings.Contains(md.String(), "| trap | – | – | 3 |") {
		t.Errorf("table does not show the attempts:\n%s", md.String())
	}

	// Broken once, then fine: the second attempt's count stands.
	s.Spec.Env = []string{"TRAP_ONCE=" + filepath.Join(dir, "trapped")}
	rs, err = Run(ctx, []servers.Server{s}, Config{N1: 10, N2: 110, Size: 64, Dir: dir, NoFile: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[0]; r.Errors != 0 || r.Attempts != 2 || len(r.Failures) != 1 || r.IrPerEcho <= 0 {
		t.Errorf("%+v; want a count at the second attempt", r)
	}
}
