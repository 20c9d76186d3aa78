package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds each exchange so a broken listener fails the test fast.
const testTimeout = 5 * time.Second

// serve starts a listener on 127.0.0.1:0 that runs handle on every
// connection, and returns n client connections to it.
func serve(t *testing.T, n int, handle func(net.Conn)) []net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		ln.Close()
		wg.Wait()
	})
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	return conns
}

// echo copies everything back, in small pieces so the client sees the echo
// split across several reads.
func echo(c net.Conn) {
	buf := make([]byte, 3)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// corrupt echoes everything but flips the low bit of the 5th byte.
func corrupt(c net.Conn) {
	buf := make([]byte, 64)
	seen := 0
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if seen <= 4 && 4 < seen+n {
				buf[4-seen] ^= 1
			}
			seen += n
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// truncate echoes at most the first 5 bytes, then sends FIN. It keeps
// reading so that unread input cannot turn the FIN into an RST.
func truncate(c net.Conn) {
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	c.Write(buf[:min(n, 5)])
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c)
}

func TestRunEcho(t *testing.T) {
	conns := serve(t, 3, echo)
	var out bytes.Buffer
	if err := run(conns, 2, &out, testTimeout); err != nil {
		t.Fatalf("run against an echo listener: %v", err)
	}
	// 2 rounds x 3 messages x 3 conns, one sending and one received line each.
	if got, want := strings.Count(out.String(), "\n"), 2*3*3*2; got != want {
		t.Errorf("got %d output lines, want %d:\n%s", got, want, out.String())
	}
	want := conns[0].LocalAddr().String() + `: received "in parts 2"`
	if !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
}

func TestRunCorrupted(t *testing.T) {
	conns := serve(t, 2, corrupt)
	err := run(conns, 1, io.Discard, testTimeout)
	if !errors.Is(err, errMismatch) {
		t.Fatalf("run against a byte-flipping listener: err = %v, want %v", err, errMismatch)
	}
	if !strings.Contains(err.Error(), "byte 4") {
		t.Errorf("error %q does not name the flipped byte 4", err)
	}
}

func TestRunShortEcho(t *testing.T) {
	conns := serve(t, 1, truncate)
	err := run(conns, 1, io.Discard, testTimeout)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("run against a listener that closes early: err = %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

func TestRunSilent(t *testing.T) {
	conns := serve(t, 1, func(c net.Conn) { io.Copy(io.Discard, c) })
	start := time.Now()
	err := run(conns, 1, io.Discard, 200*time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("run against a listener that never answers: err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %v, want about 200ms", d)
	}
}
