package console

// The servers' output, copied to stderr (-v) or cut to fit a table or a
// log line.

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
)

// stderrMu serialises the servers' copied output (-v) line by line.
var stderrMu sync.Mutex

// Prefixed returns, when on, a writer that copies a server's output to
// stderr with name before every line, so the output of several servers
// stays readable; when off it returns nil, not a nil *prefixWriter:
// serverproc tests the interface against nil.
func Prefixed(on bool, name string) io.Writer {
	if !on {
		return nil
	}
	return prefixWriter{w: os.Stderr, prefix: name + ": "}
}

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

// FirstLine keeps a multi-line error (serverproc appends the server's
// whole output) to its first line for tables and logs.
func FirstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Tail keeps the last n bytes of s, marking the cut.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[...]" + s[len(s)-n:]
}
