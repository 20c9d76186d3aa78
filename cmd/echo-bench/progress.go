package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// progress keeps one status line on stderr: where the run is, how long it
// has taken and how long it should still take. On a terminal the line is
// rewritten in place; otherwise each step is its own line, for logs.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	done  int
	start time.Time
	last  string
}

func newProgress(w io.Writer, total int) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, tty: isTerminal(w), total: total, start: time.Now()}
}

// step announces the next measurement.
func (p *progress) step(what string) {
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

// finish ends the in-place line.
func (p *progress) finish() {
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

// stderrMu serialises the servers' copied output (-v) line by line.
var stderrMu sync.Mutex

func stderrWriter() io.Writer { return os.Stderr }

// prefixWriter prefixes every line a server prints with its name, so the
// copied output of several servers stays readable.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	var out bytes.Buffer
	for line := range bytes.Lines(b) {
		out.WriteString(p.prefix)
		out.Write(line)
	}
	if _, err := p.w.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}
