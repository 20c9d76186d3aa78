// Package loadgen is echo-bench's load generator: it holds N loopback TCP
// connections to an echo server and drives them closed-loop (write a message,
// read it all back, check every byte), optionally with several messages in
// flight per connection, over a warm-up and then a measured window.
//
// Every message differs from every other (per connection and per message), so
// a corrupted, dropped, duplicated, reordered or cross-connection byte is a
// mismatch; a mismatch, a connection error, a stall or an idle connection that
// the server closed all count as errors. A correct server yields zero.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes the connections of a Session.
type Config struct {
	// Addr is the server's HOST:PORT; it must resolve to a loopback address.
	Addr string
	// Conns is the number of active connections (>= 1).
	Conns int
	// Idle is the number of extra connections that are opened, checked with
	// one echo, and then held open without traffic.
	Idle int
	// Size is the number of bytes per message (>= 1).
	Size int
	// Depth is the number of messages in flight per active connection
	// (default 1: strict ping-pong).
	Depth int
	// Seed varies the byte patterns between sessions (any value).
	Seed uint64
	// DialBatch is how many connections are dialled concurrently (default
	// 100), so that a backlog is never flooded by a thousand SYNs at once.
	DialBatch int
	// DialTimeout bounds each dial and its first echo (default 5 s).
	DialTimeout time.Duration
	// Stall is how long a connection may go without completing an echo
	// before it is failed (default 5 s). It also bounds how long Run waits
	// for in-flight echoes after the window ends.
	Stall time.Duration
}

// MaxInFlight bounds depth × size, in bytes. A connection writes its whole pipeline
// before it reads, so if the bytes in flight outgrew the socket buffers plus
// the 1 MiB of pending output a server may hold before it stops reading that
// client, client and server would wait on each other and the stall would
// be blamed on the server.
const MaxInFlight = 256 << 10

func (c *Config) setDefaults() error {
	if c.Conns < 1 {
		return fmt.Errorf("loadgen: conns %d < 1", c.Conns)
	}
	if c.Idle < 0 {
		return fmt.Errorf("loadgen: idle %d < 0", c.Idle)
	}
	if c.Size < 1 {
		return fmt.Errorf("loadgen: size %d < 1", c.Size)
	}
	if c.Depth == 0 {
		c.Depth = 1
	}
	if c.Depth < 1 {
		return fmt.Errorf("loadgen: depth %d < 1", c.Depth)
	}
	if c.Depth*c.Size > MaxInFlight {
		return fmt.Errorf("loadgen: depth %d × size %d exceeds %d bytes in flight per connection", c.Depth, c.Size, MaxInFlight)
	}
	if c.DialBatch <= 0 {
		c.DialBatch = 100
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.Stall <= 0 {
		c.Stall = 5 * time.Second
	}
	return nil
}

// SetupError reports connections that could not be dialled or failed their
// first echo; Open returns it and keeps none of the connections.
type SetupError struct {
	Failed, Total int
	First         error
}

// Error says how many connections failed and why the first did.
func (e *SetupError) Error() string {
	return fmt.Sprintf("loadgen: %d of %d connections failed to open: %v", e.Failed, e.Total, e.First)
}

// Unwrap returns the first connection's error, for errors.Is.
func (e *SetupError) Unwrap() error { return e.First }

// Session is a set of open, verified connections to one server.
type Session struct {
	cfg    Config
	active []*conn
	idle   []*conn
}

// conn is one connection and its position in its message sequence. Only its
// worker touches the plain fields while a Run is in progress.
type conn struct {
	id     int
	tc     *net.TCPConn
	pat    *pattern
	wbuf   []byte
	rbuf   []byte
	sent   uint64 // sequence number of the next message to write
	recvd  uint64 // sequence number of the next echo expected
	sendAt []time.Duration
	dead   bool

	running  atomic.Bool
	stalled  atomic.Bool
	progress atomic.Int64 // run clock (ns) of the last completed echo

	echoes int64
	hist   *Histogram
	err    error
}

// Open resolves cfg.Addr, raises RLIMIT_NOFILE if needed, and dials all
// connections in batches, checking each with one echo. It fails with a
// *SetupError if any connection fails.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	raddr, err := net.ResolveTCPAddr("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: resolve %s: %w", cfg.Addr, err)
	}
	if !raddr.IP.IsLoopback() {
		return nil, fmt.Errorf("loadgen: %s is not a loopback address", raddr)
	}
	total := cfg.Conns + cfg.Idle
	if _, err := RaiseNoFile(uint64(total) + 64); err != nil {
		return nil, err
	}

	s := &Session{cfg: cfg}
	all := make([]*conn, total)
	errs := make([]error, total)
	d := net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: -1}
	for lo := 0; lo < total; lo += cfg.DialBatch {
		hi := min(lo+cfg.DialBatch, total)
		var wg sync.WaitGroup
		for i := lo; i < hi; i++ {
			wg.Go(func() { all[i], errs[i] = s.dial(ctx, &d, raddr.String(), i) })
		}
		wg.Wait()
		if ctx.Err() != nil {
			break
		}
	}
	se := &SetupError{Total: total}
	for i, err := range errs {
		if err == nil && all[i] == nil {
			err = ctx.Err()
		}
		if err != nil {
			se.Failed++
			if se.First == nil {
				se.First = err
			}
		}
	}
	if se.Failed > 0 {
		for _, c := range all {
			if c != nil {
				c.tc.Close()
			}
		}
		return nil, se
	}
	s.active, s.idle = all[:cfg.Conns], all[cfg.Conns:]
	return s, nil
}

func (s *Session) dial(ctx context.Context, d *net.Dialer, addr string, id int) (*conn, error) {
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("conn %d: %w", id, err)
	}
	c := &conn{
		id:     id,
		tc:     nc.(*net.TCPConn),
		pat:    newPattern(s.cfg.Seed, id, s.cfg.Size),
		wbuf:   make([]byte, s.cfg.Size),
		rbuf:   make([]byte, s.cfg.Size),
		sendAt: make([]time.Duration, s.cfg.Depth),
	}
	// One echo proves the server has accepted the connection (not merely the
	// kernel's backlog), so the measured window never includes accepts.
	c.tc.SetDeadline(time.Now().Add(s.cfg.DialTimeout))
	err = c.echoOnce()
	c.tc.SetDeadline(time.Time{})
	if err != nil {
		c.tc.Close()
		return nil, fmt.Errorf("conn %d: first echo: %w", id, err)
	}
	return c, nil
}

func (c *conn) echoOnce() error {
	c.pat.fill(c.wbuf, c.sent)
	if _, err := c.tc.Write(c.wbuf); err != nil {
		return err
	}
	c.sent++
	if _, err := io.ReadFull(c.tc, c.rbuf); err != nil {
		return err
	}
	if err := c.pat.check(c.rbuf, c.recvd); err != nil {
		return err
	}
	c.recvd++
	return nil
}

// Close closes every connection.
func (s *Session) Close() error {
	for _, cs := range [][]*conn{s.active, s.idle} {
		for _, c := range cs {
			if !c.dead {
				c.tc.Close()
			}
		}
	}
	return nil
}
