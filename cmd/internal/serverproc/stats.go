package serverproc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux architecture Go supports (the kernel fixes it for the ABI).
const clockTick = 10 * time.Millisecond

// Stats is a snapshot of a server's resource use, read from /proc.
type Stats struct {
	CPU       time.Duration // user+system time of all its threads so far (10 ms resolution)
	VolCtxt   uint64        // voluntary context switches, summed over live threads
	InvolCtxt uint64        // involuntary context switches, summed over live threads
	RSS       uint64        // resident set size now, bytes (VmRSS)
	PeakRSS   uint64        // highest resident set size so far, bytes (VmHWM)
	Threads   int           // live threads
}

// Stats reads the server's current resource use.
func (p *Proc) Stats() (Stats, error) {
	s, err := readStats(p.PID())
	if err != nil {
		return s, fmt.Errorf("stats of %s (pid %d): %w", p.Spec.Name, p.PID(), err)
	}
	return s, nil
}

// FDs counts the server's open file descriptors (the entries of /proc/PID/fd).
func (p *Proc) FDs() (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.PID()))
	if err != nil {
		return 0, fmt.Errorf("fds of %s: %w", p.Spec.Name, err)
	}
	return len(ents), nil
}

func readStats(pid int) (Stats, error) {
	var s Stats
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name in parentheses may hold spaces; the fields that
	// follow start at field 3 (state).
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	const utime, stime, threads = 14 - 3, 15 - 3, 20 - 3
	if len(f) <= threads {
		return s, errors.New("short /proc stat")
	}
	u, err1 := strconv.ParseUint(f[utime], 10, 64)
	k, err2 := strconv.ParseUint(f[stime], 10, 64)
	n, err3 := strconv.Atoi(f[threads])
	if err := errors.Join(err1, err2, err3); err != nil {
		return s, fmt.Errorf("/proc stat: %w", err)
	}
	s.CPU = time.Duration(u+k) * clockTick
	s.Threads = n

	status, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.RSS = status["VmRSS"] * 1024
	s.PeakRSS = status["VmHWM"] * 1024

	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil {
		return s, err
	}
	for _, t := range tasks {
		ts, err := readStatus(t)
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread ended after the glob
		} else if err != nil {
			return s, err
		}
		s.VolCtxt += ts["voluntary_ctxt_switches"]
		s.InvolCtxt += ts["nonvoluntary_ctxt_switches"]
	}
	return s, nil
}

// readStatus parses the numeric "Key: value [kB]" lines of a status file.
func readStatus(path string) (map[string]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := make(map[string]uint64)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		if n, err := strconv.ParseUint(fields[0], 10, 64); err == nil {
			m[key] = n
		}
	}
	return m, sc.Err()
}
