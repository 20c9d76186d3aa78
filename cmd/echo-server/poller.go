package main

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/selectc/selectc/cmd/internal/echoserver"
	"github.com/selectc/selectc/selectc"
)

// pollerServer is -mode=poller: the post's loop driven from Go, as in the
// select mode, on a selectc.Poller. The fd_sets live in C and change only
// when a connection's interest does (one small cgo call then); each round
// is one Wait, which selects and hands back every ready descriptor in the
// same cgo call. Clients are served through the same echoserver.Conn as
// the other modes.
type pollerServer struct {
	cfg     echoserver.Config
	p       *selectc.Poller
	ln      int
	conns   echoserver.Table[*echoserver.Conn]
	ev      echoserver.Table[selectc.Events] // what each descriptor is registered for
	events  []selectc.PollEvent
	buf     []byte
	resting bool      // the listener is unregistered (EMFILE backoff) ...
	restEnd time.Time // ... until then
	served  int       // descriptors served since the last yield
}

// pollerYieldEvery is the select mode's yield, for the same reason (see
// echoserver's yieldEvery): this loop too waits only in system calls.
const pollerYieldEvery = 64

// servePoller serves the listener ln until ctx is done, then closes every
// socket, the listener included.
func servePoller(ctx context.Context, cfg echoserver.Config, ln int) error {
	p, err := selectc.NewPoller()
	if err != nil {
		echoserver.CloseSocket(ln)
		return err
	}
	s := &pollerServer{
		cfg: cfg, p: p, ln: ln,
		conns:  echoserver.NewTable[*echoserver.Conn](),
		ev:     echoserver.NewTable[selectc.Events](),
		events: make([]selectc.PollEvent, selectc.FdSetSize), // room for every descriptor: one Wait reports all
		buf:    make([]byte, echoserver.ReadSize),
	}
	defer s.closeAll()
	if err := p.Register(ln, selectc.Read); err != nil {
		return err
	}
	// The shutdown wakes the Wait through the Poller's own eventfd. One
	// AfterFunc for the server's life, not WaitContext, which would arm a
	// new one every round.
	var stopping atomic.Bool
	defer context.AfterFunc(ctx, func() {
		stopping.Store(true)
		p.Wake()
	})()

	for {
		if cfg.Verbose {
			cfg.Log.Info("waiting for the next event")
		}
		n, err := p.Wait(s.events, s.timeout())
		if err != nil {
			return err
		}
		if stopping.Load() {
			return nil
		}
		accept := false
		events := s.events[:n]
		for i := range events {
			e := &events[i]
			if e.Fd == ln {
				// Accept after the round, as the select mode does: a client
				// closed below must not come back, under its old number, as
				// a new connection while this round's events still name it.
				accept = true
				continue
			}
			s.ready(e.Fd, e.Events)
		}
		if accept {
			s.acceptAll()
		}
		if s.resting {
			s.wakeListener()
		}
		if s.served += n; s.served >= pollerYieldEvery {
			s.served = 0
			runtime.Gosched()
		}
	}
}

// ready runs the round's step for the client on fd
// (echoserver.Config.Serve), then registers it for what its state asks, or
// closes it.
func (s *pollerServer) ready(fd int, ev selectc.Events) {
	c := s.conns.Get(fd)
	if c == nil {
		return // closed earlier this round
	}
	if s.cfg.Serve(c, s.buf, ev&selectc.Read != 0, ev&selectc.Write != 0, ev&selectc.Except != 0) {
		s.drop(c)
		return
	}
	if want := wantEvents(c); want != s.ev.Get(fd) { // most events change nothing: no cgo call then
		s.modify(c, want)
	}
}

// modify registers c for want.
func (s *pollerServer) modify(c *echoserver.Conn, want selectc.Events) {
	if want == s.ev.Get(c.Fd) {
		return
	}
	if err := s.p.Modify(c.Fd, want); err != nil {
		s.cfg.Log.Error("modify", "peer", c.Peer, "err", err)
		s.drop(c)
		return
	}
	s.ev.Set(c.Fd, want)
}

// add registers a new connection for reading and urgent data (the select
// mode's inputs, which it passes as the xlist too).
func (s *pollerServer) add(c *echoserver.Conn) {
	const ev = selectc.Read | selectc.Except
	if err := s.p.Register(c.Fd, ev); err != nil {
		s.cfg.Log.Error("register", "peer", c.Peer, "err", err)
		c.Close()
		return
	}
	s.conns.Set(c.Fd, c)
	s.ev.Set(c.Fd, ev)
}

// drop unregisters the connection, then closes it: a Wait never watches a
// closed descriptor.
func (s *pollerServer) drop(c *echoserver.Conn) {
	if s.cfg.Verbose {
		s.cfg.Log.Info("closing", "peer", c.Peer)
	}
	if err := s.p.Unregister(c.Fd); err != nil {
		s.cfg.Log.Error("unregister", "peer", c.Peer, "err", err)
	}
	s.conns.Set(c.Fd, nil)
	s.ev.Set(c.Fd, 0)
	c.Close()
}

// acceptAll accepts every waiting connection, or rests the listener when
// descriptors ran out.
func (s *pollerServer) acceptAll() {
	if s.cfg.AcceptAll(s.ln, s.add) {
		return
	}
	if err := s.p.Unregister(s.ln); err != nil {
		s.cfg.Log.Error("resting the listener", "err", err)
		return
	}
	s.resting, s.restEnd = true, time.Now().Add(echoserver.AcceptBackoff)
}

// timeout is Forever unless the listener is resting.
func (s *pollerServer) timeout() time.Duration {
	if !s.resting {
		return selectc.Forever
	}
	return max(time.Until(s.restEnd), 0)
}

// wakeListener registers the resting listener again once its rest is over.
func (s *pollerServer) wakeListener() {
	if time.Now().Before(s.restEnd) {
		return
	}
	s.resting = false
	if err := s.p.Register(s.ln, selectc.Read); err != nil {
		s.cfg.Log.Error("waking the listener", "err", err)
	}
}

// closeAll closes, at shutdown, every client, the listener and the Poller.
func (s *pollerServer) closeAll() {
	for _, c := range s.conns.Values() {
		if c != nil {
			s.drop(c)
		}
	}
	s.p.Unregister(s.ln) // fails harmlessly while the listener rests
	echoserver.CloseSocket(s.ln)
	if err := s.p.Close(); err != nil {
		s.cfg.Log.Error("closing the poller", "err", err)
	}
}
