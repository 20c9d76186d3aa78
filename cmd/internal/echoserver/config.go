// Package echoserver is the echo server that the Go select-loop programs
// share: the listener, the per-connection echo logic and the seed post's
// select loop, parameterised by the select it runs on (selectc's, through
// cgo, or x/sys/unix's, without).
//
// Every server in the project follows the same rules, so the benchmark
// compares implementations, not designs: TCP_NODELAY, 64 KiB reads, listen
// backlog SOMAXCONN, accept until EAGAIN, and "send at once, queue only what
// did not fit" (see Conn).
package echoserver

import (
	"log/slog"
	"time"
)

const (
	// ReadSize is the buffer every server reads into.
	ReadSize = 64 << 10
	// MaxPending caps a connection's queue of unsent echo: past it the
	// server stops reading that client until the queue drains, so a client
	// that sends but never reads cannot grow the server without bound.
	MaxPending = 1 << 20
	// AcceptBackoff is how long the listener rests after accept fails for
	// want of descriptors (EMFILE/ENFILE), so the loop does not spin on a
	// listener that stays readable.
	AcceptBackoff = 100 * time.Millisecond
)

// Config is what a server is told on its command line.
type Config struct {
	Verbose bool         // log the seed post's lines: waiting, connection from, received, sending, closing
	Log     *slog.Logger // where to log; errors are always logged
}

// verbose logs one of the post's lines when -v is on; the check comes first
// so a quiet server formats nothing on its hot path.
func (c *Config) verbose(msg string, args ...any) {
	if c.Verbose {
		c.Log.Info(msg, args...)
	}
}
