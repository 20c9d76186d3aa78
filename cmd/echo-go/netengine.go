package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/selectc/selectc/cmd/internal/echoserver"
)

// serveNet is the echo server most Go programs would write: the net package,
// one goroutine per connection, the runtime's epoll poller underneath.
// Backpressure is the blocking Write: a client that never reads stalls only
// its own goroutine, with at most one read buffer held.
func serveNet(ctx context.Context, addr string, cfg echoserver.Config) error {
	ln, err := net.Listen("tcp4", addr) // backlog: the kernel's somaxconn
	if err != nil {
		return err
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	// On shutdown, close the listener and give every connection a deadline
	// in the past: all their goroutines wake at once and close their own
	// connection. Closing them from here instead would take as long as
	// scheduling each one in turn: Close waits until the goroutine inside
	// that connection's Read or Write has left it, and under load that is
	// a scheduling delay per connection (13 s for 200 busy clients).
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.SetDeadline(time.Unix(1, 0))
		}
		mu.Unlock()
	})
	defer stop()

	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// EMFILE/ENFILE and the like: log, rest, go on serving.
			cfg.Log.Error("accept", "err", err, "resting", echoserver.AcceptBackoff)
			time.Sleep(echoserver.AcceptBackoff)
			continue
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			c.Close()
			break
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			echoConn(c, cfg)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		}()
	}
	wg.Wait()
	return nil
}

// echoConn echoes c until EOF or an error. TCP_NODELAY is Go's default.
func echoConn(c net.Conn, cfg echoserver.Config) {
	peer := c.RemoteAddr().String()
	if cfg.Verbose {
		cfg.Log.Info("connection from", "peer", peer)
	}
	buf := make([]byte, echoserver.ReadSize)
	// The buffer is this connection's memory: counted, so that a crowd
	// leaving makes the server give it back (echoserver.Release).
	echoserver.Acquire(len(buf))
	defer echoserver.Release(len(buf))
	for {
		n, err := c.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return // shutting down: the only deadline this server sets
		}
		if n > 0 {
			if cfg.Verbose {
				cfg.Log.Info("received", "bytes", n, "from", peer)
				cfg.Log.Info("sending", "bytes", n, "to", peer)
			}
			if _, werr := c.Write(buf[:n]); errors.Is(werr, os.ErrDeadlineExceeded) {
				return
			} else if werr != nil {
				err = werr
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				cfg.Log.Warn("connection error", "peer", peer, "err", err)
			}
			if cfg.Verbose {
				cfg.Log.Info("closing", "peer", peer)
			}
			return
		}
	}
}
