package callgrind

// Callgrind's output files: a dump asked of a running process, and the
// instruction count read from a file.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// dumpAndRead asks callgrind in process pid for dump number seq and returns
// its instruction count.
func dumpAndRead(ctx context.Context, pid int, outFile string, seq int) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "callgrind_control", "-d", strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: %v: %s", errNoControl, err, strings.TrimSpace(string(out)))
	}
	// callgrind_control returns once callgrind acknowledged the dump, but
	// give the file system a moment in case the write trails the reply.
	file := fmt.Sprintf("%s.%d", outFile, seq)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := readCallgrindTotal(file)
		if err == nil {
			return n, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%w: dump %s: %v", errNoControl, file, err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readCallgrindTotal returns the Ir count of a callgrind output file: its
// "summary:" line (or "totals:" in files without one).
func readCallgrindTotal(file string) (uint64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var totals string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "summary:"); ok {
			return parseFirstUint(v)
		}
		if v, ok := strings.CutPrefix(line, "totals:"); ok {
			totals = v
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if totals != "" {
		return parseFirstUint(totals)
	}
	return 0, fmt.Errorf("%s: no summary or totals line (file incomplete?)", file)
}

func parseFirstUint(s string) (uint64, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, errors.New("empty callgrind count")
	}
	return strconv.ParseUint(f[0], 10, 64)
}

func removeDumps(outFile string) {
	matches, _ := filepath.Glob(outFile + "*")
	for _, m := range matches {
		os.Remove(m)
	}
}
