//go:build unix

package echoserver

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"golang.org/x/sys/unix"
)

// socketPair returns a connected pair of non-blocking stream sockets with
// small buffers, so short writes are easy to provoke.
func socketPair(t *testing.T) (server *Conn, client int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return &Conn{Fd: fds[0], Peer: "pair"}, fds[1]
}

// drain reads everything the client end has now.
func drain(t *testing.T, fd int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EAGAIN || n == 0 {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:n]...)
	}
}

// send writes all of b from the client, however many tries it takes.
func send(t *testing.T, fd int, b []byte) {
	t.Helper()
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
}

func TestConnEchoesAtOnce(t *testing.T) {
	c, client := socketPair(t)
	send(t, client, []byte("This is the message 0"))
	n, sent, err := c.ReadEcho(make([]byte, ReadSize))
	if err != nil || n != 21 || sent != 21 || c.WantWrite() {
		t.Fatalf("read %d sent %d err %v pending %d: want all sent at once", n, sent, err, c.Pending())
	}
	if got := drain(t, client); string(got) != "This is the message 0" {
		t.Fatalf("echo = %q", got)
	}
}

// What the socket will not take is queued, kept in order, flushed later,
// and past MaxPending the connection stops asking to be read.
func TestConnQueuesShortWritesAndBackpressures(t *testing.T) {
	c, client := socketPair(t)
	buf := make([]byte, ReadSize)
	var want []byte
	for i := 0; c.WantRead(); i++ {
		if i > 10000 {
			t.Fatal("the connection never stopped reading: no backpressure")
		}
		msg := bytes.Repeat([]byte{byte(i)}, 1500)
		want = append(want, msg...)
		send(t, client, msg)
		for {
			n, _, err := c.ReadEcho(buf)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
	}
	if c.Pending() != MaxPending || !c.WantWrite() {
		t.Fatalf("stopped reading at %d pending, want exactly %d", c.Pending(), MaxPending)
	}
	// What did not fit under the cap is still in the socket: drain the
	// queue, then read the rest.
	var got []byte
	for c.WantWrite() || len(got) < len(want) {
		got = append(got, drain(t, client)...)
		if _, err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if c.Pending() > MaxPending {
			t.Fatalf("%d bytes pending, over the cap", c.Pending())
		}
		if c.WantRead() {
			if _, _, err := c.ReadEcho(buf); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) > len(want) {
			break
		}
	}
	got = append(got, drain(t, client)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("echoed %d bytes, want %d in order", len(got), len(want))
	}
	if !c.WantRead() {
		t.Fatal("still not reading after the queue drained")
	}
}

func TestConnEOFFlushesThenDone(t *testing.T) {
	c, client := socketPair(t)
	send(t, client, []byte("bye"))
	unix.Shutdown(client, unix.SHUT_WR)
	buf := make([]byte, ReadSize)
	if _, _, err := c.ReadEcho(buf); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadEcho(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want EOF", err)
	}
	if !c.Done() || c.WantRead() {
		t.Fatal("after EOF with nothing queued the connection should be done")
	}
	if got := drain(t, client); string(got) != "bye" {
		t.Fatalf("echo = %q", got)
	}
}

func TestConnPeerGoneIsAnError(t *testing.T) {
	c, client := socketPair(t)
	send(t, client, []byte("x"))
	unix.Close(client)
	buf := make([]byte, ReadSize)
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, _, err = c.ReadEcho(buf)
	}
	if err == nil || errors.Is(err, io.EOF) && !c.Done() {
		t.Fatalf("err = %v: want EPIPE/ECONNRESET or EOF with the connection done", err)
	}
}
