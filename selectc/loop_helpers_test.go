//go:build linux

package selectc

import (
	"testing"

	"golang.org/x/sys/unix"
)

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
