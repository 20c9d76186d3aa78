package cpu

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// pinHelper runs in a child process (pinning the test binary itself would
// slow every other test): pin, make the runtime start more threads, and
// check that none of them escaped the CPU.
func pinHelper() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		fmt.Println(err)
		return 1
	}
	cpu := -1
	for i := range 1024 {
		if set.IsSet(i) {
			cpu = i
			break
		}
	}
	if err := Pin(cpu); err != nil {
		fmt.Println(err)
		return 1
	}
	if runtime.GOMAXPROCS(0) != 1 {
		fmt.Println("GOMAXPROCS", runtime.GOMAXPROCS(0))
		return 1
	}
	// Each goroutine locked to its OS thread and parked keeps that thread,
	// so the runtime must start new ones after the pinning.
	var started, done sync.WaitGroup
	release := make(chan struct{})
	for range 8 {
		started.Add(1)
		done.Go(func() {
			runtime.LockOSThread()
			started.Done()
			<-release
		})
	}
	started.Wait()
	tasks, _ := os.ReadDir("/proc/self/task")
	off, err := ThreadsOff(cpu)
	close(release)
	done.Wait()
	if len(tasks) < 9 {
		fmt.Println("only", len(tasks), "threads: the test proves nothing")
		return 1
	}
	if err != nil || len(off) > 0 {
		fmt.Println("threads not pinned:", off, err)
		return 1
	}
	return 0
}

// pinHelperEnv makes the test binary run pinHelper instead of the tests.
const pinHelperEnv = "ECHO_BENCH_PIN_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(pinHelperEnv) != "" {
		os.Exit(pinHelper())
	}
	os.Exit(m.Run())
}

func TestPinPinsEveryThread(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), pinHelperEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pinned child: %v\n%s", err, out)
	}
}
