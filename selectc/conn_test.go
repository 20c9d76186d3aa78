//go:build linux

package selectc

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nonBlocking reports whether c's descriptor has O_NONBLOCK, read through
// Control so that the question does not change the answer.
func nonBlocking(t testing.TB, c syscall.Conn) bool {
	t.Helper()
	return fcntlConn(t, c, unix.F_GETFL)&unix.O_NONBLOCK != 0
}

// deadlineFires sets a read deadline 30ms ahead and checks that a Read
// with nothing to read ends with os.ErrDeadlineExceeded, in time.
func deadlineFires(t testing.TB, c interface {
	SetReadDeadline(time.Time) error
	Read([]byte) (int, error)
}) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(30 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read deadline did not fire: the descriptor went back to blocking mode")
	}
}

// Selecting on a Go *os.File 1,000 times never calls Fd: the file stays
// non-blocking and its deadline still works.
func TestSelectOsFileKeepsNonBlockingMode(t *testing.T) {
	r, w := pipe(t)
	if !nonBlocking(t, r) {
		t.Fatal("os.Pipe gave a blocking read end; the test proves nothing")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var s Selector[*os.File]
	for i := range 1000 {
		var err error
		if i%2 == 0 {
			_, _, _, err = s.Select([]*os.File{r}, []*os.File{w}, []*os.File{r}, 0)
		} else {
			_, _, _, err = s.SelectContext(ctx, []*os.File{r}, []*os.File{w}, []*os.File{r}, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, _, _, err := Select([]*os.File{r}, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if !nonBlocking(t, r) || !nonBlocking(t, w) {
		t.Fatal("selecting switched the pipe to blocking mode")
	}
	deadlineFires(t, r)
}

// The same through an interface-typed list, where each element is looked at.
func TestSelectFilerListMixesKinds(t *testing.T) {
	r, _ := pipe(t)
	ready := readyPipe(t)
	list := []Filer{r, FD(ready.Fd()), ready}
	got, _, _, err := Select(list, nil, nil, 0)
	if err != nil || len(got) != 2 || got[0] != list[1] || got[1] != list[2] {
		t.Fatalf("got %v %v, want the FD and the *os.File of the ready pipe", got, err)
	}
	if !nonBlocking(t, r) {
		t.Fatal("an *os.File in a []Filer was switched to blocking mode")
	}
}

// A *net.TCPConn, selected on 1,000 times through ConnFD, stays
// non-blocking and its deadline still fires.
func TestConnFDTCPKeepsNonBlockingMode(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	tcp := c.(*net.TCPConn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var s Selector[FD]
	for i := range 1000 {
		fd, err := ConnFD(tcp)
		if err != nil {
			t.Fatal(err)
		}
		_, w, _, err := s.SelectContext(ctx, []FD{fd}, []FD{fd}, nil, 0)
		if err != nil || len(w) != 1 {
			t.Fatalf("round %d: writable %v, err %v", i, w, err)
		}
	}
	if !nonBlocking(t, tcp) {
		t.Fatal("ConnFD or select switched the socket to blocking mode")
	}
	deadlineFires(t, tcp)
}

// A closed *os.File says it is closed and names the file; the kernel is
// not called (an idle pipe and Forever would block).
func TestSelectClosedOsFile(t *testing.T) {
	idle, _ := pipe(t)
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	done := make(chan error, 1)
	go func() {
		_, _, _, err := Select([]*os.File{idle, f}, nil, nil, Forever)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) || !strings.Contains(err.Error(), "closed") || !strings.Contains(err.Error(), os.DevNull) {
			t.Fatalf("err = %v, want os.ErrClosed naming %s", err, os.DevNull)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Select blocked: a closed *os.File reached the kernel")
	}
	var nilFile *os.File
	if _, _, _, err := Select([]*os.File{nilFile}, nil, nil, 0); !errors.Is(err, os.ErrInvalid) {
		t.Fatalf("nil *os.File: err = %v, want os.ErrInvalid", err)
	}
}

// ConnFD on closed connections and files says they are closed.
func TestConnFDClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if _, err := ConnFD(ln.(*net.TCPListener)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed listener: err = %v, want net.ErrClosed", err)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fd, err := ConnFD(f); !errors.Is(err, os.ErrClosed) || fd != -1 {
		t.Fatalf("closed file: fd %d, err = %v, want -1 and os.ErrClosed", fd, err)
	}
}
