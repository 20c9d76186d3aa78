// Package console is what echo-bench prints while it runs: one progress
// line, the servers' copied output (-v), and errors cut to fit a line.
package console

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Progress keeps one status line on stderr: where the run is, how long it
// has taken and how long it should still take. On a terminal the line is
// rewritten in place; otherwise each step is its own line, for logs.
type Progress struct {
	w     io.Writer
	tty   bool
	total int
	done  int
	start time.Time
	last  string
}

// NewProgress starts a status line on w (nil: nowhere) for total steps.
func NewProgress(w io.Writer, total int) *Progress {
	if w == nil {
		w = io.Discard
	}
	return &Progress{w: w, tty: isTerminal(w), total: total, start: time.Now()}
}

// Step announces the next measurement.
func (p *Progress) Step(what string) {
	elapsed := time.Since(p.start)
	left := "?"
	if p.done > 0 {
		per := elapsed / time.Duration(p.done)
		left = "~" + clock(per*time.Duration(p.total-p.done))
	}
	p.done++
	p.last = fmt.Sprintf("[%d/%d] %s · elapsed %s, left %s", p.done, p.total, what, clock(elapsed), left)
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", p.last)
	} else {
		fmt.Fprintln(p.w, p.last)
	}
}

// Finish ends the in-place line.
func (p *Progress) Finish() {
	if p.tty && p.done > 0 {
		fmt.Fprintf(p.w, "\r\x1b[K[done] %d measurements in %s\n", p.done, clock(time.Since(p.start)))
	}
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
