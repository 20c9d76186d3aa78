package cpu

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Times are the kernel's per-CPU counters from /proc/stat.
type Times struct {
	Task  time.Duration // user+nice+system: time spent running processes
	Steal time.Duration // time the hypervisor ran something else
}

// ReadTimes reads /proc/stat and sums the counters of the CPUs in cpus
// (all CPUs when cpus is empty).
func ReadTimes(cpus []int) (Times, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Times{}, err
	}
	var t Times
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
			if err != nil || !slices.Contains(cpus, n) {
				continue
			}
		}
		// Fields: user nice system idle iowait irq softirq steal (USER_HZ).
		var v [8]uint64
		for i := range v {
			if v[i], err = strconv.ParseUint(f[1+i], 10, 64); err != nil {
				return Times{}, fmt.Errorf("/proc/stat %s: %w", f[0], err)
			}
		}
		t.Task += time.Duration(v[0]+v[1]+v[2]) * 10 * time.Millisecond
		t.Steal += time.Duration(v[7]) * 10 * time.Millisecond
	}
	return t, sc.Err()
}
