package echoserver

import (
	"context"
	"runtime"
	"slices"
	"time"
)

// ListSelector is a select over descriptor lists with Python's select.select
// semantics (a negative timeout blocks). *selectc.Selector[FD] is one
// (select(2) through cgo);
// cmd/echo-go has one on golang.org/x/sys/unix.Select (no cgo).
type ListSelector interface {
	Select(rlist, wlist, xlist []FD, timeout time.Duration) (r, w, x []FD, err error)
}

// PostLoop is the seed post's server: an inputs list holding the listener
// and the clients, an outputs list of clients with echo queued, and one
// select over them per round.
type PostLoop struct {
	cfg     Config
	sel     ListSelector
	ln      FD
	inputs  []FD
	outputs []FD
	conns   Table[*Conn]
	buf     []byte
	resting time.Time // while in the future, the listener is out of inputs (EMFILE backoff)
	served  int       // descriptors served since the last yield
}

// yieldEvery is how many ready descriptors the loop serves between two
// runtime.Gosched calls: a loop that only waits in system calls never
// passes through the scheduler, and sysmon then preempts it ("Blocking in
// C" in selectc's package doc). Counted in descriptors rather than rounds,
// the yield comes often enough when a round serves a thousand clients and
// seldom enough when it serves one.
const yieldEvery = 64

// NewPostLoop returns a loop serving the listener ln with sel.
func NewPostLoop(cfg Config, sel ListSelector, ln int) *PostLoop {
	return &PostLoop{
		cfg:   cfg,
		sel:   sel,
		ln:    FD(ln),
		conns: NewTable[*Conn](),
		buf:   make([]byte, ReadSize),
	}
}

// Serve runs the loop until ctx is done, then closes every socket, the
// listener included. It returns nil after a shutdown, or the select error
// that stopped it.
func (s *PostLoop) Serve(ctx context.Context) error {
	wake, err := newWakePipe(ctx)
	if err != nil {
		return err
	}
	defer wake.Close()
	defer s.closeAll()
	stop := FD(wake.r)
	s.inputs = append(s.inputs[:0], stop, s.ln)

	for {
		s.cfg.verbose("waiting for the next event")
		readable, writable, exceptional, err := s.sel.Select(s.inputs, s.outputs, s.inputs, s.timeout())
		if err != nil {
			return err
		}
		// Urgent bytes first, as Config.Serve takes them: this round's
		// read of the same client would pass the mark and lose its byte.
		for _, fd := range exceptional {
			s.serve(fd, false, false, true)
		}
		accept := false
		for _, fd := range readable {
			switch fd {
			case stop:
				return nil
			case s.ln:
				// Accept after the round: a descriptor closed below must not
				// come back as a new connection while this round's lists
				// still name it (the post's KeyError, in another guise).
				accept = true
			default:
				s.serve(fd, true, false, false)
			}
		}
		for _, fd := range writable {
			s.serve(fd, false, true, false)
		}
		if accept {
			s.acceptAll()
		}
		s.wakeListener()
		if s.served += 1 + len(readable) + len(writable); s.served >= yieldEvery {
			s.served = 0
			runtime.Gosched()
		}
	}
}

// serve runs the round's step for the client on fd (Config.Serve), then
// puts it in the lists its state asks for, or closes it.
func (s *PostLoop) serve(fd FD, readable, writable, urgent bool) {
	c := s.conns.Get(int(fd))
	if c == nil {
		return // closed earlier this round
	}
	if s.cfg.Serve(c, s.buf, readable, writable, urgent) {
		s.drop(c)
		return
	}
	// Most events change nothing; the lists are searched only on a change.
	if want := c.WantRead(); want != c.reading {
		s.inputs, c.reading = toggle(s.inputs, FD(c.Fd), want), want
	}
	if want := c.WantWrite(); want != c.writing {
		s.outputs, c.writing = toggle(s.outputs, FD(c.Fd), want), want
	}
}

// toggle makes fd's membership of list equal want.
func toggle(list []FD, fd FD, want bool) []FD {
	i := slices.Index(list, fd)
	switch {
	case want && i < 0:
		return append(list, fd)
	case !want && i >= 0:
		return slices.Delete(list, i, i+1)
	}
	return list
}

// drop forgets c and closes it, as the post does on EOF or an exception.
func (s *PostLoop) drop(c *Conn) {
	s.cfg.verbose("closing", "peer", c.Peer)
	fd := FD(c.Fd)
	if c.reading {
		s.inputs = toggle(s.inputs, fd, false)
	}
	if c.writing {
		s.outputs = toggle(s.outputs, fd, false)
	}
	s.conns.Set(int(fd), nil)
	c.Close()
}

// acceptAll accepts every waiting connection into inputs, or rests the
// listener when descriptors ran out.
func (s *PostLoop) acceptAll() {
	if !s.cfg.AcceptAll(int(s.ln), s.add) {
		s.resting = time.Now().Add(AcceptBackoff)
		s.inputs = toggle(s.inputs, s.ln, false)
	}
}

func (s *PostLoop) add(c *Conn) {
	s.conns.Set(c.Fd, c)
	s.inputs, c.reading = append(s.inputs, FD(c.Fd)), true
}

// timeout is Forever unless the listener is resting.
func (s *PostLoop) timeout() time.Duration {
	if s.resting.IsZero() {
		return -1
	}
	return max(time.Until(s.resting), 0)
}

// wakeListener puts a rested listener back in inputs.
func (s *PostLoop) wakeListener() {
	if !s.resting.IsZero() && !time.Now().Before(s.resting) {
		s.resting = time.Time{}
		s.inputs = toggle(s.inputs, s.ln, true)
	}
}

// closeAll closes every client and the listener, at shutdown.
func (s *PostLoop) closeAll() {
	for _, c := range s.conns.Values() {
		if c != nil {
			s.drop(c)
		}
	}
	CloseSocket(int(s.ln))
}
