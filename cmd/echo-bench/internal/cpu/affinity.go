// Package cpu is what echo-bench knows of the machine's CPUs: how many are
// online, pinning this process to one, and the kernel's per-CPU time
// counters.
package cpu

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Pin moves every thread of this process onto cpu and sets GOMAXPROCS
// to 1 to match. sched_setaffinity(0, ...) would pin only the calling
// thread, so each thread in /proc/self/task is pinned; threads the runtime
// starts later inherit the mask from the (pinned) thread that creates them.
// It runs before any goroutine of ours, and loops until no new thread shows
// up, in case the runtime started one meanwhile.
func Pin(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	done := map[int]bool{}
	for range 10 {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("pin: %w", err)
		}
		fresh := 0
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("pin thread %d to cpu %d: %w", tid, cpu, os.NewSyscallError("sched_setaffinity", err))
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			runtime.GOMAXPROCS(1)
			return nil
		}
	}
	return fmt.Errorf("pin: threads kept appearing")
}

// ThreadsOff lists threads of this process allowed on any CPU but cpu
// (for the environment check and tests).
func ThreadsOff(cpu int) ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var off []int
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); err != nil {
			continue // the thread ended
		}
		if set.Count() != 1 || !set.IsSet(cpu) {
			off = append(off, tid)
		}
	}
	return off, nil
}

// Online is the machine's online CPUs, not this process's (it may be
// pinned by then).
func Online() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for r := range strings.SplitSeq(strings.TrimSpace(string(b)), ",") {
		lo, hi, found := strings.Cut(r, "-")
		if !found {
			n++
			continue
		}
		a, b := atoiOr(lo, 0), atoiOr(hi, -1)
		n += b - a + 1
	}
	return n
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}
