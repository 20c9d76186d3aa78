package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// dialTimeout bounds every connect: on loopback a connect either succeeds
// from the listen backlog or fails at once, so this only guards a wedge.
const dialTimeout = 5 * time.Second

// dial opens a client connection to addr.
func dial(addr string) (*net.TCPConn, error) {
	c, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// dialMany opens n connections, batch of them at a time concurrently,
// and closes what it opened if any dial fails.
func dialMany(addr string, n, batch int) ([]*net.TCPConn, error) {
	conns := make([]*net.TCPConn, n)
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		errs := make([]error, hi-lo)
		done := make(chan struct{})
		for i := lo; i < hi; i++ {
			go func() {
				conns[i], errs[i-lo] = dial(addr)
				done <- struct{}{}
			}()
		}
		for i := lo; i < hi; i++ {
			<-done
		}
		if err := errors.Join(errs...); err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("dial %d of %d: %w", lo, n, err)
		}
	}
	return conns, nil
}

// closeAll closes every non-nil connection.
func closeAll(conns []*net.TCPConn) {
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// echo sends msg and checks that exactly msg comes back within timeout.
// It writes and reads concurrently: a server queues at most 1 MiB per
// client and stops reading until it drains, so a client that writes a
// large payload before reading could stall both ends.
func echo(c net.Conn, msg []byte, timeout time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		werr <- err
	}()
	got := make([]byte, len(msg))
	n, rerr := io.ReadFull(c, got)
	if err := <-werr; err != nil {
		return fmt.Errorf("write %d bytes: %w", len(msg), err)
	}
	if rerr != nil {
		return fmt.Errorf("read echo: got %d of %d bytes: %w", n, len(msg), rerr)
	}
	if !bytes.Equal(got, msg) {
		return mismatch(got, msg)
	}
	return c.SetDeadline(time.Time{})
}

// mismatch describes where got first differs from want.
func mismatch(got, want []byte) error {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	show := func(b []byte) []byte { return b[i:min(len(b), i+40)] }
	return fmt.Errorf("echo differs at byte %d of %d: got %q, want %q", i, len(want), show(got), show(want))
}

// probe sends msg and tells whether the server echoed it (served) or
// closed the connection (EOF or reset before any byte came back).
// Anything else, a wrong echo or no answer within timeout, is an error.
func probe(c net.Conn, msg []byte, timeout time.Duration) (served bool, err error) {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return false, err
	}
	if _, err := c.Write(msg); err != nil {
		if isClosedByPeer(err) {
			return false, nil
		}
		return false, fmt.Errorf("write: %w", err)
	}
	got := make([]byte, len(msg))
	n, err := io.ReadFull(c, got)
	switch {
	case n == 0 && isClosedByPeer(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read: got %d of %d bytes: %w", n, len(msg), err)
	case !bytes.Equal(got, msg):
		return false, mismatch(got, msg)
	}
	return true, c.SetDeadline(time.Time{})
}

// isClosedByPeer reports whether err says the other end closed or reset.
func isClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// expectEOF reads until the connection ends and requires a clean end of
// stream (the server closed after flushing, no reset) with no further data.
func expectEOF(c net.Conn, timeout time.Duration) error {
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	rest, err := io.ReadAll(c)
	if len(rest) > 0 {
		return fmt.Errorf("%d unexpected bytes before end of stream: %q", len(rest), rest[:min(len(rest), 40)])
	}
	if err != nil {
		return fmt.Errorf("want EOF: %w", err)
	}
	return nil
}

// sendOOB sends b as TCP urgent data (MSG_OOB) on the raw descriptor; the
// net package has no way to ask for it.
func sendOOB(c *net.TCPConn, b []byte) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		serr = syscall.Sendto(int(fd), b, syscall.MSG_OOB, nil)
		return !errors.Is(serr, syscall.EAGAIN)
	})
	if err != nil {
		return err
	}
	return os.NewSyscallError("sendto MSG_OOB", serr)
}

// message is a short payload unique to one client and round, so an echo
// that reached the wrong client or came back twice cannot pass for right.
func message(client, round int) []byte {
	return fmt.Appendf(nil, "client %04d round %03d: the quick brown fox\n", client, round)
}
