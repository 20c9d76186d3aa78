//go:build linux

package selectc

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fullTableEnv makes the test binary run fullTableChild instead of the tests.
const fullTableEnv = "SELECTC_TEST_FULL_TABLE"

// A program built on selectc must survive a full descriptor table while its
// heap churns. The Go runtime opens its poller at the first timer and dies
// if that fails; selectc's init opens it early. The scenario runs in a child
// process (the test binary again) with no test timeout, so that nothing but
// selectc's init can have armed a timer before the table fills.
func TestFullTableWithHeapChurn(t *testing.T) {
	if os.Getenv(fullTableEnv) != "" {
		fullTableChild()
		return
	}
	argv := append(strings.Fields(os.Getenv(testExecEnv)), os.Args[0], "-test.run=^TestFullTableWithHeapChurn$", "-test.timeout=0", "-test.count=1")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), fullTableEnv+"=1", "GOGC=25")
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Fatalf("the test binary cannot exec itself (%v): under an emulator, set %s to its command line (make test-cross does)", err, testExecEnv)
	}
	if err != nil || !strings.Contains(string(out), "survived") {
		t.Fatalf("child with a full fd table (%q): %v\n%s", argv, err, out)
	}
}

// testExecEnv names the command line, if any, this test binary runs under:
// an emulator and its flags, such as "qemu-arm -L /usr/arm-linux-gnueabihf"
// (make test-cross sets it). A child started from the test binary runs
// under it too, as the parent does.
const testExecEnv = "SELECTC_TEST_EXEC"

// fullTableChild fills the descriptor table, then makes the runtime collect,
// scavenge and sleep on timers. It prints "survived" and returns if the
// runtime lived through it; it exits 3 if the poller was not open at start.
func fullTableChild() {
	if !hasRuntimePoller() {
		println("the runtime's poller was not open before the first timer")
		os.Exit(3)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		panic(err)
	}
	lim.Cur = 64
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		panic(err)
	}
	var held []int
	for {
		fd, err := unix.Dup(2)
		if err == unix.EMFILE {
			break
		}
		if err != nil {
			panic(err)
		}
		held = append(held, fd)
	}
	println("table full after", len(held), "dups")
	for i := range 200 {
		churnSink = append(churnSink, make([]byte, 1<<20))
		if i%20 == 19 {
			churnSink = nil
			runtime.GC()
			time.Sleep(time.Millisecond) // a timer: the poller is needed now
		}
	}
	debug.FreeOSMemory()
	time.Sleep(20 * time.Millisecond)
	for _, fd := range held {
		unix.Close(fd)
	}
	println("survived")
}

// churnSink holds the child's allocations where the compiler cannot see
// that nothing reads them.
var churnSink [][]byte

// hasRuntimePoller reports whether the process has an epoll descriptor open.
func hasRuntimePoller() bool {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		panic(err)
	}
	for _, e := range ents {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && link == "anon_inode:[eventpoll]" {
			return true
		}
	}
	return false
}
