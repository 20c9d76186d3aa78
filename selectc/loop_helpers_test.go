package selectc

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// handlerFunc adapts a function to Handler.
type handlerFunc func(fd int, ev Events)

func (f handlerFunc) Ready(fd int, ev Events) { f(fd, ev) }

// fdPair is two raw non-blocking descriptors: a pipe (r reads what w writes)
// or a socket pair (each end both). Raw, because os.File.Fd makes a file
// blocking, and a handler that read an empty blocking pipe would hang the
// loop instead of showing the stale dispatch the tests look for.
type fdPair struct{ r, w int }

// newPipe returns a non-blocking pipe, closed when the test ends unless the
// test closed it first.
func newPipe(t testing.TB) *fdPair {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	return ownPair(t, p)
}

// newSocketPair returns a non-blocking Unix stream socket pair: r is the end
// tests register, w its peer.
func newSocketPair(t testing.TB) *fdPair {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ownPair(t, p)
}

func ownPair(t testing.TB, p [2]int) *fdPair {
	fp := &fdPair{p[0], p[1]}
	if fp.r >= FdSetSize || fp.w >= FdSetSize {
		fp.close()
		t.Fatalf("descriptors %d, %d do not fit in an fd_set", p[0], p[1])
	}
	t.Cleanup(fp.close)
	return fp
}

// close closes what is still open; a descriptor is closed only once, so a
// number reused since is never closed by mistake.
func (p *fdPair) close() {
	p.closeR()
	if p.w >= 0 {
		unix.Close(p.w)
		p.w = -1
	}
}

func (p *fdPair) closeR() {
	if p.r >= 0 {
		unix.Close(p.r)
		p.r = -1
	}
}

// fill writes one byte into w, making r readable.
func (p *fdPair) fill(t testing.TB) {
	t.Helper()
	if _, err := unix.Write(p.w, []byte{1}); err != nil {
		t.Fatal(err)
	}
}

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
