package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// messages are the seed post's three messages; each is sent with its index
// appended ("This is the message 0", "It will be sent 1", "in parts 2").
var messages = []string{"This is the message ", "It will be sent ", "in parts "}

// errMismatch marks an echo that came back with different bytes.
var errMismatch = errors.New("echo mismatch")

// exchange sends msg on every conn, then reads exactly len(msg) bytes back
// from each and checks them byte for byte, printing the post's lines to out.
// Writing to all conns before reading any is the post's order: the server
// then has several clients ready in the same select round.
func exchange(conns []net.Conn, msg []byte, out io.Writer, timeout time.Duration) error {
	for _, c := range conns {
		fmt.Fprintf(out, "%s: sending %q\n", c.LocalAddr(), msg)
		if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return fmt.Errorf("set write deadline %s: %w", c.LocalAddr(), err)
		}
		if _, err := c.Write(msg); err != nil {
			return fmt.Errorf("write %s: %w", c.LocalAddr(), err)
		}
	}
	buf := make([]byte, len(msg))
	for _, c := range conns {
		if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			return fmt.Errorf("set read deadline %s: %w", c.LocalAddr(), err)
		}
		// TCP may split the echo; ReadFull waits for all of it, and reports
		// io.ErrUnexpectedEOF if the server closes part way.
		if n, err := io.ReadFull(c, buf); err != nil {
			return fmt.Errorf("read %s: got %d of %d echo bytes: %w", c.LocalAddr(), n, len(msg), err)
		}
		fmt.Fprintf(out, "%s: received %q\n", c.LocalAddr(), buf)
		if !bytes.Equal(buf, msg) {
			i := firstDiff(buf, msg)
			return fmt.Errorf("%s: byte %d is %q, sent %q: %w", c.LocalAddr(), i, buf[i], msg[i], errMismatch)
		}
	}
	return nil
}

// run does rounds rounds of the post's three messages over conns.
func run(conns []net.Conn, rounds int, out io.Writer, timeout time.Duration) error {
	for range rounds {
		for i, m := range messages {
			if err := exchange(conns, []byte(m+strconv.Itoa(i)), out, timeout); err != nil {
				return err
			}
		}
	}
	return nil
}

// firstDiff is the index of the first byte where a and b (same length) differ.
func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
