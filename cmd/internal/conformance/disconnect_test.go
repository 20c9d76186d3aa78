package conformance

import (
	"bytes"
	"io"
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
