package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// busyOtherPct is the CPU time other processes may take on the measured
// cores (percent of one core) before a sample is flagged: above it, a
// neighbour (a compiler, a test run) competed for the cores being measured.
const busyOtherPct = 15

// cpuTimes are the kernel's per-CPU counters from /proc/stat.
type cpuTimes struct {
	task  time.Duration // user+nice+system: time spent running processes
	steal time.Duration // time the hypervisor ran something else
}

// readCPUTimes reads /proc/stat and sums the counters of the CPUs in cpus
// (all CPUs when cpus is empty).
func readCPUTimes(cpus []int) (cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, err
	}
	var t cpuTimes
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if len(cpus) == 0 {
			if f[0] != "cpu" {
				continue
			}
		} else {
			n, err := strconv.Atoi(strings.TrimPrefix(f[0], "cpu"))
			if err != nil || !containsInt(cpus, n) {
				continue
			}
		}
		// Fields: user nice system idle iowait irq softirq steal (USER_HZ).
		var v [8]uint64
		for i := range v {
			if v[i], err = strconv.ParseUint(f[1+i], 10, 64); err != nil {
				return cpuTimes{}, fmt.Errorf("/proc/stat %s: %w", f[0], err)
			}
		}
		t.task += time.Duration(v[0]+v[1]+v[2]) * 10 * time.Millisecond
		t.steal += time.Duration(v[7]) * 10 * time.Millisecond
	}
	return t, sc.Err()
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
