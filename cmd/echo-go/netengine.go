package main

import (
	"context"
	"errors"
	"io"
	"net"
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
	// On shutdown, close the listener and every connection: their
	// goroutines return at once from Read or Write.
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
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
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if cfg.Verbose {
				cfg.Log.Info("received", "bytes", n, "from", peer)
				cfg.Log.Info("sending", "bytes", n, "to", peer)
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
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
