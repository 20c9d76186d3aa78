//go:build linux || windows

package selectc

// Helpers of the tests that run on every system selectc supports.

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// goTool returns the path of the go command, which the tests of how the
// package builds (its flags, its consumers, the builds it refuses) run.
func goTool(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("go")
	if err != nil && runtime.GOOS == "windows" {
		t.Skipf("no go command here (a test binary cross-built for Windows, run under wine by make test-cross): %v", err)
	}
	if err != nil {
		t.Fatalf("the go command is needed to build: %v", err)
	}
	return path
}

// handlerFunc adapts a function to Handler.
type handlerFunc func(fd int, ev Events)

func (f handlerFunc) Ready(fd int, ev Events) { f(fd, ev) }

// newLoop returns a Loop that is closed when the test ends, and checks that
// closing gave back every handle.
func newLoop(t testing.TB) *Loop {
	t.Helper()
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil && !errors.Is(err, ErrLoopClosed) {
			t.Errorf("Close: %v", err)
		}
		if n := l.handles.Load(); n != 0 {
			t.Errorf("%d handles live after Close", n)
		}
	})
	return l
}

var errTestTimeout = errors.New("test loop still running after 10s")

// runCtx returns a context for one Run: handlers cancel it to stop the loop,
// and it ends by itself after 10 s so that a broken test cannot hang.
func runCtx(t testing.TB) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), 10*time.Second, errTestTimeout)
	t.Cleanup(cancel)
	return ctx, cancel
}

// mustRun runs l on the calling goroutine until ctx is cancelled, failing
// the test on an error or on the 10 s limit.
func mustRun(t testing.TB, l *Loop, ctx context.Context) {
	t.Helper()
	if err := l.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if cause := context.Cause(ctx); errors.Is(cause, errTestTimeout) {
		t.Fatal(cause)
	}
}

// wantFdError checks that err is an *FdError for op and fd wrapping want.
func wantFdError(t testing.TB, err error, op string, fd int, want error) {
	t.Helper()
	var fe *FdError
	if !errors.As(err, &fe) || fe.Op != op || fe.Fd != fd || !errors.Is(err, want) {
		t.Fatalf("err = %v, want an *FdError{%s, fd %d} wrapping %q", err, op, fd, want)
	}
}

// connPair returns both ends of a loopback TCP connection, kept open (and
// reachable) until the test ends, with their descriptors: the sockets
// every system's select takes (Winsock's takes nothing else).
func connPair(t testing.TB) (client, server net.Conn, cfd, sfd FD) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	if cfd, err = ConnFD(client.(*net.TCPConn)); err != nil {
		t.Fatal(err)
	}
	if sfd, err = ConnFD(server.(*net.TCPConn)); err != nil {
		t.Fatal(err)
	}
	return client, server, cfd, sfd
}

// readySocket returns the descriptor of a connected socket with one byte
// to read, open until the test ends.
func readySocket(t testing.TB) FD {
	t.Helper()
	c, _, _, sfd := connPair(t)
	if _, err := c.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	return sfd
}

// socketReadableAfter returns the descriptor of a connected socket that
// gets one byte after d; the write is waited for before the sockets close.
func socketReadableAfter(t testing.TB, d time.Duration) FD {
	t.Helper()
	c, _, _, sfd := connPair(t)
	writeAfter(t, d, func() { c.Write([]byte{1}) })
	return sfd
}

// writeAfter runs write after d; the test waits for it before its
// cleanups close what it writes to.
func writeAfter(t testing.TB, d time.Duration, write func()) {
	done := make(chan struct{})
	timer := time.AfterFunc(d, func() { write(); close(done) })
	t.Cleanup(func() {
		if timer.Stop() {
			close(done)
		}
		<-done
	})
}

// newPoller returns a Poller closed when the test ends.
func newPoller(t testing.TB) *Poller {
	t.Helper()
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
