package callgrind

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/selectc/selectc/cmd/echo-bench/internal/table"
)

// WriteTable renders the instruction counts, each also as a ratio to the
// baseline server's.
func WriteTable(w io.Writer, rs []Result, base string) {
	var baseIr float64
	for _, r := range rs {
		if r.Server == base && r.Errors == 0 {
			baseIr = r.IrPerEcho
		}
	}
	fmt.Fprintf(w, "## User-space instructions per echo (callgrind)\n\n")
	if len(rs) > 0 {
		fmt.Fprintf(w, "One connection, %d B messages; (Ir after %d echoes − Ir after %d echoes) / %d. Kernel work (the system calls themselves) is not counted.\n\n",
			rs[0].Size, rs[0].N2, rs[0].N1, rs[0].N2-rs[0].N1)
	}
	fmt.Fprintf(w, "| server | instructions/echo | ×%s | attempts | method | notes |\n|---|---:|---:|---:|---|---|\n", base)
	for _, r := range rs {
		ir, ratio := "–", "–"
		if r.Errors == 0 {
			ir = table.Int(r.IrPerEcho)
			if baseIr > 0 {
				ratio = fmt.Sprintf("%.2f", r.IrPerEcho/baseIr)
			}
		}
		notes := strings.Join(append(slices.Clone(r.Failures), r.Note), "; ")
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s |\n", r.Server, ir, ratio, r.Attempts, r.Method, table.Escape(strings.Trim(notes, "; ")))
	}
	fmt.Fprintln(w)
}

// WriteErrors lists each failed server on a line of its own.
func WriteErrors(w io.Writer, rs []Result) {
	for _, r := range rs {
		if r.Errors > 0 {
			fmt.Fprintf(w, "- callgrind %s: %s\n", r.Server, table.Escape(r.Note))
		}
	}
}

// WriteBenchfmt writes one Go benchmark line per counted server, so
// benchstat can compare two runs.
func WriteBenchfmt(w io.Writer, rs []Result) {
	for _, c := range rs {
		if c.Errors > 0 || c.IrPerEcho <= 0 {
			continue
		}
		fmt.Fprintf(w, "BenchmarkEchoCallgrind/server=%s/size=%d \t %d \t %.0f instr/echo\n", c.Server, c.Size, c.N2-c.N1, c.IrPerEcho)
	}
}

// RunText is the report header's line on how rs were measured.
func RunText(rs []Result) string {
	return fmt.Sprintf("callgrind · one connection · %d B messages · counters dumped after %d and %d echoes · at most %d valgrind runs per server",
		rs[0].Size, rs[0].N1, rs[0].N2, Attempts)
}
