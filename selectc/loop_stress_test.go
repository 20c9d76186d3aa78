//go:build linux

package selectc

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// stress is the state of TestLoopStress. Handlers run on the loop's thread
// only, so it needs no lock.
type stress struct {
	t       *testing.T
	l       *Loop
	rng     *rand.Rand
	live    []*stressConn // registered, in no order
	until   int           // registrations to reach...
	reached chan struct{} // ...closed then

	registrations, dispatches, bytes int
	reused                           int // registrations on a number just unregistered
	stale, spurious, wrongFd         int // must all stay 0
}

// stressConn is one socket pair: a is registered, b is its peer, which
// handlers write to so that traffic keeps flowing through a.
type stressConn struct {
	s    *stress
	p    *fdPair
	a    int // p.r while registered
	idx  int // position in s.live
	dead bool
}

func (s *stress) open() {
	p := newSocketPair(s.t)
	c := &stressConn{s: s, p: p, a: p.r, idx: len(s.live)}
	if err := s.l.Register(c.a, Read, c); err != nil {
		s.t.Error(err)
		return
	}
	s.live = append(s.live, c)
	s.registrations++
	// Born empty: a dispatch for read in this round, before any peer has
	// written to it, could only be the readiness of the number's last file.
}

// drop unregisters c and closes it, in that order, so that its handle is
// gone before its descriptor numbers can be reused by the next open.
func (s *stress) drop(c *stressConn) {
	if err := s.l.Unregister(c.a); err != nil {
		s.t.Errorf("unregister fd %d: %v", c.a, err)
	}
	c.dead = true
	c.p.close()
	last := s.live[len(s.live)-1]
	s.live[c.idx], last.idx = last, c.idx
	s.live = s.live[:len(s.live)-1]
}

// replace drops c and opens a new pair, which most likely gets c's numbers.
func (s *stress) replace(c *stressConn) {
	fd := c.a
	s.drop(c)
	s.open()
	if s.live[len(s.live)-1].a == fd {
		s.reused++
	}
}

func (c *stressConn) Ready(fd int, ev Events) {
	s := c.s
	s.dispatches++
	if c.dead {
		s.stale++
		return
	}
	if fd != c.a {
		s.wrongFd++
	}
	if ev&Write != 0 {
		unix.Write(c.p.w, []byte{1}) // feed our own read side, then stop asking
		if err := s.l.Modify(c.a, Read); err != nil {
			s.t.Error(err)
		}
	}
	if ev&Read == 0 {
		return
	}
	// Only this handler reads a, and a stays open while registered: a read
	// dispatch that finds nothing is readiness of some other file.
	n, err := unix.Read(c.a, make([]byte, 512))
	if n <= 0 {
		if s.spurious++; s.spurious == 1 {
			s.t.Errorf("fd %d dispatched for read: read %d, %v", c.a, n, err)
		}
		return
	}
	s.bytes += n
	for range 2 {
		peer := s.live[s.rng.IntN(len(s.live))]
		unix.Write(peer.p.w, []byte{2}) // EAGAIN when full is fine
	}
	switch r := s.rng.IntN(10); {
	case r < 3: // replace ourselves
		s.replace(c)
	case r < 6: // replace another, which may be ready later in this very round
		s.replace(s.live[s.rng.IntN(len(s.live))])
	case r < 7:
		if err := s.l.Modify(c.a, Read|Write); err != nil {
			s.t.Error(err)
		}
	}
	if s.registrations >= s.until && s.until > 0 {
		s.until = 0
		close(s.reached)
	}
}

// Thousands of descriptors registered and unregistered from inside handlers
// while traffic flows, and by another goroutine at the same time: no handler
// is ever called after its Unregister, no handler is handed readiness its
// own descriptor does not have, and no handle outlives Close.
func TestLoopStress(t *testing.T) {
	const conns, until = 150, 6000
	before := liveHandles.Load()
	l := newLoop(t)
	ctx, stop := runCtx(t)
	s := &stress{t: t, l: l, rng: rand.New(rand.NewPCG(1, 2)), until: until, reached: make(chan struct{})}
	for range conns {
		s.open()
	}
	for _, c := range s.live {
		unix.Write(c.p.w, []byte{1}) // start the traffic
	}

	// Meanwhile, another goroutine registers, waits for the dispatch, and
	// unregisters and closes, over and over.
	outside := make(chan error, 1)
	go func() {
		err := churnFromOutside(t, l, 200)
		select {
		case <-s.reached:
		case <-ctx.Done():
		}
		outside <- err
		stop()
	}()

	start := time.Now()
	mustRun(t, l, ctx)
	took := time.Since(start)
	if err := <-outside; err != nil {
		t.Fatal(err)
	}

	t.Logf("%d registrations (%d on a number just freed), %d dispatches, %d bytes in %v",
		s.registrations, s.reused, s.dispatches, s.bytes, took)
	if s.stale+s.spurious+s.wrongFd != 0 {
		t.Fatalf("%d stale dispatches, %d spurious, %d to the wrong fd", s.stale, s.spurious, s.wrongFd)
	}
	if s.registrations < until || s.reused < until/4 {
		t.Fatalf("only %d registrations, %d reusing a number: the hazard was not exercised", s.registrations, s.reused)
	}
	if got, want := len(l.registered()), len(s.live); got != want || l.handles.Load() != int64(want) {
		t.Fatalf("C registry holds %d fds, Go %d handles; want %d", got, l.handles.Load(), want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := liveHandles.Load() - before; n != 0 {
		t.Fatalf("%d handles leaked", n)
	}
}

// churnFromOutside registers a ready pipe n times from a goroutine that is
// not the loop's, waits until its handler has consumed the byte, then
// unregisters and closes it.
func churnFromOutside(t *testing.T, l *Loop, n int) error {
	got := make(chan int, 1)
	h := handlerFunc(func(fd int, _ Events) {
		if k, _ := unix.Read(fd, make([]byte, 8)); k == 1 {
			got <- fd
		}
	})
	for range n {
		p := newPipe(t)
		p.fill(t)
		if err := l.Register(p.r, Read, h); err != nil {
			return err
		}
		select {
		case fd := <-got:
			if fd != p.r {
				return errors.New("outside handler dispatched for another fd")
			}
		case <-time.After(5 * time.Second):
			return errors.New("loop did not dispatch a pipe registered from outside")
		}
		if err := l.Unregister(p.r); err != nil {
			return err
		}
		p.close()
	}
	return nil
}
