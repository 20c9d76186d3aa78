//go:build linux

package selectc

import (
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pipe returns a pipe whose ends are closed when the test ends.
func pipe(t testing.TB) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// readyPipe returns the read end of a pipe holding one unread byte.
func readyPipe(t testing.TB) *os.File {
	t.Helper()
	r, w := pipe(t)
	if _, err := w.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	return r
}

// pipeReadableAfter returns the read end of a pipe that gets one byte
// after d; the write is waited for before the test's pipes close.
func pipeReadableAfter(t testing.TB, d time.Duration) *os.File {
	t.Helper()
	r, w := pipe(t)
	writeAfter(t, d, func() { w.Write([]byte{1}) })
	return r
}

// raiseNoFile lifts the soft RLIMIT_NOFILE to at least n (up to the hard limit).
func raiseNoFile(t testing.TB, n uint64) {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Fatalf("RLIMIT_NOFILE hard limit %d < %d needed", lim.Max, n)
	}
	lim.Cur = n
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// dupTo duplicates f onto descriptor fd, closed when the test ends.
func dupTo(t testing.TB, f *os.File, fd int) FD {
	t.Helper()
	if err := unix.Dup3(int(f.Fd()), fd, unix.O_CLOEXEC); err != nil {
		t.Fatalf("dup3 to %d: %v", fd, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return FD(fd)
}

// tcpPair returns both ends of a loopback TCP connection as raw fds: the
// client's and the server's (Go's net package is only used to set them up).
func tcpPair(t testing.TB) (client, server FD) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	client, server = rawFd(t, c.(*net.TCPConn)), rawFd(t, s.(*net.TCPConn))
	c.Close()
	s.Close()
	return client, server
}

// rawFd takes a private duplicate of conn's descriptor, closed at test end.
func rawFd(t testing.TB, conn syscall.Conn) FD {
	t.Helper()
	fd := fcntlConn(t, conn, unix.F_DUPFD_CLOEXEC)
	t.Cleanup(func() { unix.Close(fd) })
	return FD(fd)
}

// fcntlConn runs fcntl(fd, cmd, 0) on conn's descriptor through Control,
// which neither changes its mode nor lets it close meanwhile.
func fcntlConn(t testing.TB, conn syscall.Conn, cmd int) int {
	t.Helper()
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var r int
	var ferr error
	if err := rc.Control(func(fd uintptr) { r, ferr = unix.FcntlInt(fd, cmd, 0) }); err != nil {
		t.Fatal(err)
	}
	if ferr != nil {
		t.Fatal(ferr)
	}
	return r
}

// fillBelow dups /dev/null onto every free descriptor below limit, so that
// the next one the kernel hands out is limit or above; they are closed
// when the test ends.
func fillBelow(t *testing.T, limit int) {
	t.Helper()
	// Let earlier tests' unreachable files be finalized first: one closed
	// while the table is full would hand out a number below limit.
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	var filler []int
	t.Cleanup(func() { // null too: closing it now would free its number
		null.Close()
		for _, fd := range filler {
			unix.Close(fd)
		}
	})
	for {
		fd, err := unix.Dup(int(null.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		filler = append(filler, fd)
		if fd >= limit-1 {
			return
		}
	}
}
