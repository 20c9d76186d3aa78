package main

import (
	"context"
	"errors"
	"time"

	"github.com/selectc/selectc/cmd/internal/echoserver"
	"github.com/selectc/selectc/selectc"
)

// reactor is -mode=reactor: the post's server turned inside out. The loop
// runs in C (selectc.Loop) and calls a Handler per ready descriptor: the
// listener's accepts, a client's reads and writes through the same
// echoserver.Conn the select mode uses. All of it runs on the loop's thread
// but the listener's return from an EMFILE rest, which a timer registers.
type reactor struct {
	cfg     echoserver.Config
	loop    *selectc.Loop
	ln      int
	clients []*client   // by descriptor, for the shutdown
	buf     []byte      // shared: handlers run one at a time
	rest    *time.Timer // brings the listener back after an EMFILE rest
}

// serveReactor serves the listener ln until ctx is done, then closes every
// socket, the listener included.
func serveReactor(ctx context.Context, cfg echoserver.Config, ln int) error {
	loop, err := selectc.NewLoop()
	if err != nil {
		echoserver.CloseSocket(ln)
		return err
	}
	r := &reactor{
		cfg: cfg, loop: loop, ln: ln,
		clients: make([]*client, selectc.FdSetSize),
		buf:     make([]byte, echoserver.ReadSize),
	}
	// Made now, stopped: arming the process's first timer makes the Go
	// runtime open its epoll descriptor, and at EMFILE that would be fatal.
	r.rest = time.AfterFunc(time.Hour, r.wakeListener)
	r.rest.Stop()
	defer r.closeAll()
	if err := loop.Register(ln, selectc.Read, listener{r}); err != nil {
		return err
	}
	return loop.Run(ctx)
}

// listener is the listening socket's handler.
type listener struct{ r *reactor }

func (l listener) Ready(fd int, _ selectc.Events) {
	r := l.r
	if r.cfg.AcceptAll(fd, r.add) {
		return
	}
	// Out of descriptors: the listener stays readable, so take it out of
	// the loop for a while instead of spinning on it.
	if err := r.loop.Unregister(fd); err != nil {
		r.cfg.Log.Error("resting the listener", "err", err)
		return
	}
	r.rest.Reset(echoserver.AcceptBackoff)
}

// wakeListener registers the rested listener again. It runs on the timer's
// goroutine: Loop methods are safe from any goroutine, and wake the loop.
func (r *reactor) wakeListener() {
	if err := r.loop.Register(r.ln, selectc.Read, listener{r}); err != nil && !errors.Is(err, selectc.ErrLoopClosed) {
		r.cfg.Log.Error("waking the listener", "err", err)
	}
}

// add registers a new connection for reading (and urgent data, which the
// select mode watches with inputs as its xlist).
func (r *reactor) add(c *echoserver.Conn) {
	h := &client{r: r, c: c, ev: selectc.Read | selectc.Except}
	if err := r.loop.Register(c.Fd, h.ev, h); err != nil {
		r.cfg.Log.Error("register", "peer", c.Peer, "err", err)
		c.Close()
		return
	}
	r.clients[c.Fd] = h
}

// client is one connection's handler.
type client struct {
	r  *reactor
	c  *echoserver.Conn
	ev selectc.Events // what it is registered for
}

// Ready runs the round's step for this client (echoserver.Config.Serve),
// then registers it for what its state asks, or closes it.
func (h *client) Ready(_ int, ev selectc.Events) {
	r, c := h.r, h.c
	if r.cfg.Serve(c, r.buf, ev&selectc.Read != 0, ev&selectc.Write != 0, ev&selectc.Except != 0) {
		h.drop()
		return
	}
	if want := wantEvents(c); want != h.ev { // most events change nothing: no cgo call then
		if err := r.loop.Modify(c.Fd, want); err != nil {
			r.cfg.Log.Error("modify", "peer", c.Peer, "err", err)
			h.drop()
			return
		}
		h.ev = want
	}
}

// drop unregisters the connection, then closes it: its go-pointer handle is
// released before its descriptor number can be reused by the next accept.
func (h *client) drop() {
	r, c := h.r, h.c
	if r.cfg.Verbose {
		r.cfg.Log.Info("closing", "peer", c.Peer)
	}
	if err := r.loop.Unregister(c.Fd); err != nil {
		r.cfg.Log.Error("unregister", "peer", c.Peer, "err", err)
	}
	r.clients[c.Fd] = nil
	c.Close()
}

// closeAll closes, at shutdown, every client, the listener and the loop.
func (r *reactor) closeAll() {
	r.rest.Stop()
	for _, h := range r.clients {
		if h != nil {
			h.drop()
		}
	}
	r.loop.Unregister(r.ln) // fails harmlessly while the listener rests
	echoserver.CloseSocket(r.ln)
	if err := r.loop.Close(); err != nil {
		r.cfg.Log.Error("closing the loop", "err", err)
	}
}
