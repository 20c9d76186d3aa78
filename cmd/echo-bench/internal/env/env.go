// Package env describes the machine and tools of an echo-bench run, the
// header of every benchmark's report.
package env

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selectc/selectc/cmd/echo-bench/internal/console"
	"github.com/selectc/selectc/cmd/echo-bench/internal/cpu"
	"github.com/selectc/selectc/cmd/echo-bench/internal/table"
	"github.com/selectc/selectc/cmd/internal/cflags"
)

// CServerCFLAGS returns the flags bin/echo-server-c is built with
// (csrc/flags.mk's optimised set); the environment header reports them and
// the FORTIFY level they put in force.
func CServerCFLAGS(repoRoot string) []string {
	sets, err := cflags.Read(repoRoot)
	if err != nil {
		return nil
	}
	return sets.Join("CFLAGS_COMMON", "CFLAGS_OPT")
}

// Rows is the machine part of a report's header table.
func (e Env) Rows() []table.Row {
	var rows []table.Row
	row := func(k, v string) { rows = append(rows, table.Row{Key: k, Value: v}) }
	row("date", e.Date)
	row("CPU", fmt.Sprintf("%s × %d", e.CPUModel, e.CPUs))
	row("kernel", e.Kernel)
	row("Go", e.Go)
	row("gcc", e.GCC)
	row("Python", e.Python)
	if e.Valgrind != "" {
		row("valgrind", e.Valgrind)
	}
	row("C server flags", e.CFlags)
	row("cgo flags (selectc)", e.CgoCFlags)
	row("FORTIFY in force", e.Fortify)
	return rows
}

// Env describes the machine and tools a run used, so that figures from two
// runs are only compared knowingly.
type Env struct {
	Date           string `json:"date"`
	CPUModel       string `json:"cpu_model"`
	CPUs           int    `json:"cpus"`
	Kernel         string `json:"kernel"`
	Go             string `json:"go"`
	GCC            string `json:"gcc"`
	Python         string `json:"python"`
	Valgrind       string `json:"valgrind,omitempty"`
	CFlags         string `json:"c_server_cflags"`
	CgoCFlags      string `json:"cgo_cflags"`
	Fortify        string `json:"fortify_level"`
	NoFileClient   string `json:"rlimit_nofile_client"`
	NoFileServer   uint64 `json:"rlimit_nofile_server"`
	ClientCPUs     string `json:"client_cpus"`
	ClientMaxProcs int    `json:"client_gomaxprocs"`
	ServerCPU      string `json:"server_cpu"`
}

// Collect gathers the header. A tool that is missing reads "n/a": the
// header describes, it does not judge.
func Collect(ctx context.Context, repoRoot string, withValgrind bool) Env {
	e := Env{
		Date:           time.Now().Format(time.RFC3339),
		CPUModel:       cpuModel(),
		CPUs:           cpu.Online(),
		Go:             runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		GCC:            console.FirstLine(toolOutput(ctx, "gcc", "--version")),
		Python:         console.FirstLine(toolOutput(ctx, "python3", "--version")),
		CFlags:         strings.Join(CServerCFLAGS(repoRoot), " "),
		CgoCFlags:      cgoCFlags(repoRoot),
		Fortify:        fortifyLevel(ctx, CServerCFLAGS(repoRoot)),
		ClientMaxProcs: runtime.GOMAXPROCS(0),
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		e.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) +
			" " + unix.ByteSliceToString(u.Version[:])
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil {
		e.NoFileClient = formatUint(rl.Cur) + " (hard " + formatUint(rl.Max) + ")"
	}
	if withValgrind {
		e.Valgrind = console.FirstLine(toolOutput(ctx, "valgrind", "--version"))
	}
	return e
}

func toolOutput(ctx context.Context, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return "n/a"
	}
	return strings.TrimSpace(string(out))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "n/a"
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}

// fortifyLevel asks gcc which __USE_FORTIFY_LEVEL glibc's headers settle
// on under the C server's flags: _FORTIFY_SOURCE alone says what was asked,
// not what is in force (it needs optimisation, and glibc may cap it).
func fortifyLevel(ctx context.Context, flags []string) string {
	if flags == nil {
		return "n/a"
	}
	args := append(append([]string{}, flags...), "-dM", "-E", "-x", "c", "-")
	cmd := exec.CommandContext(ctx, "gcc", args...)
	cmd.Stdin = strings.NewReader("#include <stdio.h>\n")
	out, err := cmd.Output()
	if err != nil {
		return "n/a"
	}
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "#define" && f[1] == "__USE_FORTIFY_LEVEL" {
			return f[2] + " (__USE_FORTIFY_LEVEL under the C server's flags)"
		}
	}
	return "0 (__USE_FORTIFY_LEVEL not defined)"
}

// cgoCFlags reads the #cgo CFLAGS lines of the selectc package, which the
// Go servers on selectc compile their shims with.
func cgoCFlags(repoRoot string) string {
	files, _ := filepath.Glob(filepath.Join(repoRoot, "selectc", "*.go"))
	var flags []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "#cgo CFLAGS:"); ok {
				flags = append(flags, strings.TrimSpace(strings.ReplaceAll(rest, "${SRCDIR}/../", "")))
			}
		}
	}
	if len(flags) == 0 {
		return "n/a"
	}
	return strings.Join(flags, " ")
}

func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }
