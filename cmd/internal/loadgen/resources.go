package loadgen

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// selfCPU is this process's user+system CPU time so far (0 if getrusage
// fails, which it cannot for RUSAGE_SELF).
func selfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RaiseNoFile raises this process's soft RLIMIT_NOFILE to at least need (as
// far as the hard limit allows) and returns the soft limit now in force.
// Each connection costs one descriptor.
func RaiseNoFile(need uint64) (uint64, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, os.NewSyscallError("getrlimit", err)
	}
	if rl.Cur >= need {
		return rl.Cur, nil
	}
	rl.Cur = min(need, rl.Max)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, os.NewSyscallError("setrlimit", err)
	}
	if rl.Cur < need {
		return rl.Cur, fmt.Errorf("loadgen: RLIMIT_NOFILE hard limit %d < %d needed", rl.Max, need)
	}
	return rl.Cur, nil
}
