// Command selectcalls-go is echo-bench's call-level worker for selectc
// (cgo): it times one select on the same descriptors through
//
//	-api fdset     FdSet.Zero, FdSet.Set per fd, SelectFdSet, FdSet.IsSet per
//	               fd: the C prototype's way, one cgo call per macro
//	-api select    selectc.Select: lists in, new slices of the ready ones out
//	-api selector  selectc.Selector: the same, its memory kept between calls
//	-api poller    selectc.Poller: every fd registered once, then Wait, which
//	               copies the C-side sets, selects and writes the ready fds
//	               back, in one cgo call
//
// echo-bench -calls starts it and drives it over stdin/stdout
// (package callworker has the protocol).
package main

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/callworker"
	"github.com/selectc/selectc/selectc"
)

func main() {
	callworker.Main(map[string]callworker.Wrapper{
		"fdset":    bindFdSet,
		"select":   bindSelect(selectc.Select[selectc.FD]),
		"selector": bindSelector,
		"poller":   bindPoller,
	})
}

// fdsetCall is the C prototype's loop written against selectc's fd_set
// level: each macro is a method, and each method one cgo call.
type fdsetCall struct {
	fds  []int
	nfds int
	set  selectc.FdSet
}

func bindFdSet(l *callworker.Layout) (callworker.Bound, error) {
	return &fdsetCall{fds: l.Fds, nfds: l.Nfds()}, nil
}

func (c *fdsetCall) selectOnce() (int, error) {
	for {
		c.set.Zero()
		for _, fd := range c.fds {
			if err := c.set.Set(fd); err != nil {
				return 0, err
			}
		}
		tv := selectc.Timeval{} // select may rewrite it: a fresh zero each call
		n, err := selectc.SelectFdSet(c.nfds, &c.set, nil, nil, &tv)
		// SelectFdSet is select(2) as C has it and hands EINTR back (the
		// runtime's preemption signal can land in the call); C's caller
		// retries, and so does this one.
		if !errors.Is(err, syscall.EINTR) {
			return n, err
		}
	}
}

func (c *fdsetCall) Call() (int, error) {
	n, err := c.selectOnce()
	if err != nil {
		return 0, err
	}
	ready := 0
	for _, fd := range c.fds {
		if c.set.IsSet(fd) {
			ready++
		}
	}
	if ready != n {
		return 0, fmt.Errorf("SelectFdSet returned %d, IsSet found %d", n, ready)
	}
	return ready, nil
}

func (c *fdsetCall) ReadyList() ([]int, error) {
	if _, err := c.selectOnce(); err != nil {
		return nil, err
	}
	var out []int
	for _, fd := range c.fds {
		if c.set.IsSet(fd) {
			out = append(out, fd)
		}
	}
	return out, nil
}

// selectFunc is the shape of selectc.Select and Selector.Select.
type selectFunc func(r, w, x []selectc.FD, timeout time.Duration) ([]selectc.FD, []selectc.FD, []selectc.FD, error)

// listCall selects on a list, the Python way.
type listCall struct {
	fds    []selectc.FD
	selekt selectFunc
}

func bindSelect(f selectFunc) callworker.Wrapper {
	return func(l *callworker.Layout) (callworker.Bound, error) {
		c := &listCall{selekt: f}
		for _, fd := range l.Fds {
			c.fds = append(c.fds, selectc.FD(fd))
		}
		return c, nil
	}
}

// bindSelector binds a fresh Selector, so no layout inherits another's memory.
func bindSelector(l *callworker.Layout) (callworker.Bound, error) {
	return bindSelect(new(selectc.Selector[selectc.FD]).Select)(l)
}

func (c *listCall) Call() (int, error) {
	r, w, x, err := c.selekt(c.fds, nil, nil, 0)
	if err != nil {
		return 0, err
	}
	if len(w)+len(x) != 0 {
		return 0, fmt.Errorf("%d writable, %d exceptional from empty lists", len(w), len(x))
	}
	return len(r), nil
}

func (c *listCall) ReadyList() ([]int, error) {
	r, _, _, err := c.selekt(c.fds, nil, nil, 0)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(r))
	for i, fd := range r {
		out[i] = int(fd)
	}
	return out, nil
}

// pollerCall waits on a Poller with every watched descriptor registered
// for reading: registration happens once, outside the timed calls, as an
// epoll-style user does it.
type pollerCall struct {
	p      *selectc.Poller
	events []selectc.PollEvent
}

func bindPoller(l *callworker.Layout) (callworker.Bound, error) {
	p, err := selectc.NewPoller()
	if err != nil {
		return nil, err
	}
	for _, fd := range l.Fds {
		if err := p.Register(fd, selectc.Read); err != nil {
			return nil, errors.Join(err, p.Close())
		}
	}
	// Room for every descriptor: one Wait reports all that are ready.
	return &pollerCall{p: p, events: make([]selectc.PollEvent, len(l.Fds))}, nil
}

func (c *pollerCall) Call() (int, error) {
	return c.p.Wait(c.events, 0)
}

func (c *pollerCall) ReadyList() ([]int, error) {
	n, err := c.p.Wait(c.events, 0)
	if err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i, ev := range c.events[:n] {
		if ev.Events != selectc.Read {
			return nil, fmt.Errorf("fd %d: events %v, want %v", ev.Fd, ev.Events, selectc.Read)
		}
		out[i] = ev.Fd
	}
	return out, nil
}

func (c *pollerCall) Close() error { return c.p.Close() }
