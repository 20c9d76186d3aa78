package echoserver

import (
	"io"
	"os"
)

// Conn is one client connection and its queue of echo not yet sent.
//
// The I/O strategy is "send at once, queue only what did not fit": what is
// read is written straight back, and only the part the socket would not take
// is queued, to go when select says the socket is writable. The seed post
// queues everything and waits for writability, which costs a second select
// round per echo; the C prototype does as Conn does.
type Conn struct {
	Fd      int    // the socket, non-blocking
	Peer    string // "ip:port", kept from accept so logs name the right peer
	pending queue  // echo not yet sent
	eof     bool   // the client has shut down its sending side

	// reading and writing say whether Fd is in the loop's inputs and
	// outputs, so the loop touches its lists only when they change.
	reading, writing bool
}

// WantRead reports whether the loop should read this connection: not after
// the client's EOF, and not while its queue is full (backpressure).
func (c *Conn) WantRead() bool { return !c.eof && c.Pending() < MaxPending }

// WantWrite reports whether echo is waiting for the socket to be writable.
func (c *Conn) WantWrite() bool { return c.Pending() > 0 }

// Done reports whether the connection has nothing left to do: the client
// has finished sending and every byte has been echoed.
func (c *Conn) Done() bool { return c.eof && c.Pending() == 0 }

// Pending returns how many bytes wait to be sent.
func (c *Conn) Pending() int { return c.pending.n }

// ReadEcho reads once into buf and echoes what came. It returns the bytes
// read and written; io.EOF means nothing more will come and is not an error
// of the connection (its queue may still need flushing); any other error
// means the connection is broken and should be closed.
func (c *Conn) ReadEcho(buf []byte) (read, sent int, err error) {
	// Never read more than the queue has room for, so a client that does
	// not read holds at most MaxPending bytes here, exactly.
	if room := MaxPending - c.Pending(); room < len(buf) {
		if room <= 0 {
			return 0, 0, nil // full: a read of 0 bytes would look like EOF
		}
		buf = buf[:room]
	}
	n, err := rawRead(c.Fd, buf)
	switch {
	case isAgain(err) || isIntr(err):
		return 0, 0, nil // readiness was stale; select will say again
	case err != nil:
		return 0, 0, os.NewSyscallError("read", err)
	case n == 0:
		c.eof = true
		return 0, 0, io.EOF
	}
	data := buf[:n]
	if c.Pending() == 0 { // nothing queued ahead of it: send now
		sent, err = c.write(data)
		data = data[sent:]
	}
	c.pending.push(data)
	return n, sent, err
}

// Flush sends as much of the queue as the socket takes, oldest chunk
// first; each chunk sent is let go of at once.
func (c *Conn) Flush() (sent int, err error) {
	for c.pending.n > 0 {
		chunk := c.pending.front()
		n, werr := c.write(chunk)
		c.pending.advance(n)
		sent += n
		if werr != nil || n < len(chunk) {
			return sent, werr
		}
	}
	return sent, nil
}

// ReadUrgent reads the TCP urgent byte that makes select report an
// exceptional condition. The servers' policy (README, "The servers"): the
// urgent byte is read and logged, not echoed, and the connection goes on;
// the ordinary stream around it is echoed whole. Reading it is what clears
// the condition; closing instead, as the post does, would reset the
// connection and lose whatever the client sent before the byte. ok is
// false when there was no urgent byte to read after all (EINVAL: already
// read or never there; EAGAIN: its pointer came before the byte).
func (c *Conn) ReadUrgent() (b byte, ok bool, err error) {
	var one [1]byte
	n, err := recvUrgent(c.Fd, one[:])
	switch {
	case isNoUrgent(err):
		return 0, false, nil
	case err != nil:
		return 0, false, os.NewSyscallError("recv MSG_OOB", err)
	}
	return one[0], n == 1, nil
}

// write sends b, stopping without error when the socket buffer is full. Go
// ignores SIGPIPE on sockets, so a vanished peer is EPIPE here, not a signal.
func (c *Conn) write(b []byte) (int, error) {
	total := 0
	for total < len(b) {
		n, err := rawWrite(c.Fd, b[total:])
		switch {
		case isIntr(err):
			continue
		case isAgain(err):
			return total, nil
		case err != nil:
			return total, os.NewSyscallError("write", err)
		}
		total += n
	}
	return total, nil
}

// Close closes the socket; the Conn must not be used after.
func (c *Conn) Close() error {
	c.pending.reset()
	return CloseSocket(c.Fd)
}
