package conformance

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// testCleanClose: a client echoes and closes; the server closes its socket
// too and serves the next client.
func testCleanClose(t *testing.T, s *server) {
	c, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(c, []byte("hello, then goodbye\n"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	s.waitNoClients(t, 5*time.Second)
	s.checkServes(t)
}

// testSendThenClose: twenty clients each send 64 KiB and close at once
// without reading the echo (the server's sends then meet a reset or a
// closed peer). The server must survive, free their sockets and serve on.
func testSendThenClose(t *testing.T, s *server) {
	payload := randomBytes(64<<10, 2)
	for i := range 20 {
		c, err := dial(s.Addr)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(payload); err != nil {
			t.Fatalf("client %d: write: %v", i, err)
		}
		_ = c.Close()
	}
	s.waitNoClients(t, 5*time.Second)
	s.checkServes(t)
}

// testReset: twenty clients send and then abort with SO_LINGER 0, so the
// server sees a reset instead of an end of stream.
func testReset(t *testing.T, s *server) {
	for i := range 20 {
		c, err := dial(s.Addr)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(message(i, 0)); err != nil {
			t.Fatalf("client %d: write: %v", i, err)
		}
		if err := c.SetLinger(0); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	s.waitNoClients(t, 5*time.Second)
	s.checkServes(t)
}

// testHalfClose sends 100 KiB, shuts down its sending side and reads to
// the end: every byte must come back, then a clean end of stream (the
// server flushed the queue before it closed, and did not reset).
func testHalfClose(t *testing.T, s *server) {
	payload := randomBytes(100<<10, 3)
	c, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		if err == nil {
			err = c.CloseWrite()
		}
		werr <- err
	}()
	got, rerr := io.ReadAll(c)
	if err := <-werr; err != nil {
		t.Fatalf("write and shutdown: %v", err)
	}
	if rerr != nil {
		t.Fatalf("read until EOF after %d of %d bytes: %v", len(got), len(payload), rerr)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("got %d bytes back, want %d: %v", len(got), len(payload), mismatch(got, payload))
	}
}

// testOOB sends one byte of urgent data. The select servers see it as an
// exceptional condition: they may drop that client, as the post does, or
// keep echoing its ordinary data. Either way another client is served, and
// the server does not spin: until ordinary data follows the urgent byte,
// select keeps reporting the condition to a server that ignores it.
func testOOB(t *testing.T, s *server) {
	a, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := echo(a, []byte("before the urgent byte\n"), 5*time.Second); err != nil {
		t.Fatalf("client A: %v", err)
	}
	before, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if err := sendOOB(a, []byte("!")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the window a spinning server would burn
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if used := st.CPU - before.CPU; used > 100*time.Millisecond {
		t.Errorf("server used %v of CPU in the 500 ms after urgent data: it spins on the exceptional condition", used)
	}
	s.requireAlive(t)

	after := []byte("after the urgent byte\n")
	_ = a.SetDeadline(time.Now().Add(5 * time.Second))
	_, werr := a.Write(after)
	got, rerr := readOOBEcho(a, after)
	switch {
	case werr != nil && isClosedByPeer(werr), len(got) == 0 && isClosedByPeer(rerr):
		t.Logf("the server closed the connection that sent urgent data")
	case werr != nil:
		t.Fatalf("client A: write after urgent data: %v", werr)
	case len(got) == 0 && errors.Is(rerr, os.ErrDeadlineExceeded):
		t.Fatalf("client A: neither closed nor echoed within 5 s of urgent data")
	case rerr == nil:
		t.Logf("the server kept the connection that sent urgent data and echoes on: %q", got)
	default:
		t.Fatalf("client A: after urgent data got %q (%v), want %q or the connection closed", got, rerr, after)
	}

	if err := echo(b, []byte("client B is still served\n"), 5*time.Second); err != nil {
		t.Fatalf("client B: %v", err)
	}
	s.checkServes(t)
}

// readOOBEcho reads the echo of want sent after an urgent byte. A server
// that set SO_OOBINLINE reads the urgent "!" as ordinary data and echoes
// it first; both forms are correct.
func readOOBEcho(c net.Conn, want []byte) ([]byte, error) {
	got := make([]byte, len(want))
	n, err := io.ReadFull(c, got)
	if err != nil {
		return got[:n], err
	}
	if got[0] == '!' && want[0] != '!' {
		want = append([]byte("!"), want...)
		got = append(got, 0)
		if _, err := io.ReadFull(c, got[len(got)-1:]); err != nil {
			return got, err
		}
	}
	if !bytes.Equal(got, want) {
		return got, mismatch(got, want)
	}
	return got, nil
}
