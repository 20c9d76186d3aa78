//go:build linux || windows

package selectc

// The answers selectc gives on sockets, the same on every system: these
// run on Linux and, cross-built, on Windows under wine (make test-cross).

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// Every entry point sees a socket become readable only once a byte is in
// flight, and a connected socket as writable.
func TestSocketsEveryEntryPoint(t *testing.T) {
	c, _, cfd, sfd := connPair(t)
	const short = 20 * time.Millisecond
	if r, w, _, err := Select([]FD{sfd}, []FD{cfd}, nil, short); err != nil || len(r) != 0 || len(w) != 1 {
		t.Fatalf("Select before a write = %v, %v, %v; want no reader, the writer", r, w, err)
	}
	var rs FdSet
	if err := rs.Set(int(sfd)); err != nil {
		t.Fatal(err)
	}
	tv := NewTimeval(short)
	if n, err := SelectFdSet(int(sfd)+1, &rs, nil, nil, &tv); err != nil || n != 0 || rs.IsSet(int(sfd)) {
		t.Fatalf("SelectFdSet before a write = %d, %v; want 0 and the set emptied", n, err)
	}
	p := newPoller(t)
	if err := p.Register(int(sfd), Read); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Wait(make([]PollEvent, 4), short); n != 0 || err != nil {
		t.Fatalf("Poller.Wait before a write = %d, %v", n, err)
	}

	if _, err := c.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if r, _, _, err := Select([]FD{sfd}, nil, nil, time.Second); err != nil || len(r) != 1 {
		t.Fatalf("Select after a write = %v, %v; want the reader", r, err)
	}
	if r, _, _, err := SelectContext(context.Background(), []FD{sfd}, nil, nil, time.Second); err != nil || len(r) != 1 {
		t.Fatalf("SelectContext after a write = %v, %v; want the reader", r, err)
	}
	if err := rs.Set(int(sfd)); err != nil {
		t.Fatal(err)
	}
	tv = NewTimeval(time.Second)
	if n, err := SelectFdSet(int(sfd)+1, &rs, nil, nil, &tv); err != nil || n != 1 || !rs.IsSet(int(sfd)) {
		t.Fatalf("SelectFdSet after a write = %d, %v; want 1 and the socket in the set", n, err)
	}
	ev := make([]PollEvent, 4)
	if n, err := p.Wait(ev, time.Second); n != 1 || err != nil || ev[0] != (PollEvent{int(sfd), Read}) {
		t.Fatalf("Poller.Wait after a write = %d, %v, %v", n, err, ev[:n])
	}
	l := newLoop(t)
	ctx, cancel := runCtx(t)
	var got []PollEvent
	if err := l.Register(int(sfd), Read, handlerFunc(func(fd int, ev Events) {
		got = append(got, PollEvent{fd, ev})
		cancel()
	})); err != nil {
		t.Fatal(err)
	}
	mustRun(t, l, ctx)
	// Readiness is level-triggered: the loop may dispatch again before it
	// sees the cancellation.
	if len(got) == 0 || got[0] != (PollEvent{int(sfd), Read}) {
		t.Fatalf("Loop dispatched %v; want Read for fd %d", got, sfd)
	}
}

// A Wake, a cancelled context and Close each end a wait on sockets that
// stay idle.
func TestSocketsWakeAndCancel(t *testing.T) {
	_, _, _, sfd := connPair(t)
	p := newPoller(t)
	if err := p.Register(int(sfd), Read); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(20*time.Millisecond, func() { p.Wake() })
	if n, err := p.Wait(make([]PollEvent, 1), 10*time.Second); n != 0 || err != nil {
		t.Fatalf("Wait ended by Wake = %d, %v; want 0, nil", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if n, err := p.WaitContext(ctx, make([]PollEvent, 1), 10*time.Second); n != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitContext past its deadline = %d, %v", n, err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	start := time.Now()
	if _, _, _, err := SelectContext(ctx2, []FD{sfd}, nil, nil, 10*time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SelectContext past its deadline: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("SelectContext took %v to see its deadline", took)
	}
	time.AfterFunc(20*time.Millisecond, func() { p.Close() })
	if _, err := p.Wait(make([]PollEvent, 1), 10*time.Second); !errors.Is(err, ErrPollerClosed) {
		t.Fatalf("Wait ended by Close: %v", err)
	}
}

// With all three sets empty, every entry point sleeps for the timeout and
// returns nothing, as select(2) does on Linux (Winsock would fail with
// WSAEINVAL; selectc sleeps there too). The waits that can be woken still
// are: the wake descriptor is in their read set.
func TestEmptySetsSleep(t *testing.T) {
	const d = 60 * time.Millisecond
	check := func(name string, f func() error) {
		t.Helper()
		start := time.Now()
		if err := f(); err != nil {
			t.Errorf("%s on empty sets: %v", name, err)
		}
		if took := time.Since(start); took < d*2/3 {
			t.Errorf("%s on empty sets returned after %v; want a sleep of %v", name, took, d)
		}
	}
	check("Select", func() error {
		r, w, x, err := Select[FD](nil, nil, nil, d)
		if len(r)+len(w)+len(x) != 0 {
			t.Errorf("Select on empty sets returned %v %v %v", r, w, x)
		}
		return err
	})
	// SelectFdSet is select as C has it: a signal (the runtime's
	// preemption) ends it with EINTR and the time left, to call again with.
	selectFdSet := func(r, w, x *FdSet) (int, Timeval, error) {
		tv := NewTimeval(d)
		for {
			n, err := SelectFdSet(0, r, w, x, &tv)
			if !errors.Is(err, syscall.EINTR) {
				return n, tv, err
			}
		}
	}
	check("SelectFdSet", func() error {
		n, tv, err := selectFdSet(nil, nil, nil)
		if n != 0 || tv != (Timeval{}) {
			t.Errorf("SelectFdSet on empty sets = %d, time left %+v; want 0, none", n, tv)
		}
		return err
	})
	check("SelectFdSet (empty FdSets)", func() error {
		var r, w, x FdSet
		_, _, err := selectFdSet(&r, &w, &x)
		return err
	})
	check("SelectContext", func() error {
		_, _, _, err := SelectContext[FD](context.Background(), nil, nil, nil, d)
		return err
	})
	check("Poller.Wait", func() error {
		_, err := newPoller(t).Wait(make([]PollEvent, 1), d)
		return err
	})
	check("Loop.Run", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return newLoop(t).Run(ctx)
	})
	// Cancellation still ends a wait with nothing else to watch.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, _, err := SelectContext[FD](ctx, nil, nil, nil, 10*time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SelectContext on empty sets past its deadline: %v", err)
	}
}

// A non-blocking connect that fails is reported as Write, as Linux does:
// Winsock puts it in the except set, which selectc watches for Write.
func TestFailedConnectIsWritable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens there now: the connect is refused
	entry := []struct {
		name string
		wait func(fd FD) (Events, error)
	}{
		{"Select", func(fd FD) (Events, error) {
			_, w, _, err := Select(nil, []FD{fd}, nil, 5*time.Second)
			if len(w) == 1 {
				return Write, err
			}
			return 0, err
		}},
		{"Poller.Wait", func(fd FD) (Events, error) {
			p := newPoller(t)
			if err := p.Register(int(fd), Write); err != nil {
				return 0, err
			}
			ev := make([]PollEvent, 1)
			n, err := p.Wait(ev, 5*time.Second)
			return ev[0].Events * Events(n), err
		}},
		{"Loop.Run", func(fd FD) (Events, error) {
			l := newLoop(t)
			ctx, cancel := runCtx(t)
			var got Events
			if err := l.Register(int(fd), Write, handlerFunc(func(_ int, ev Events) { got = ev; cancel() })); err != nil {
				return 0, err
			}
			mustRun(t, l, ctx)
			return got, nil
		}},
	}
	for _, e := range entry {
		fd := nonblockingConnect(t, addr.Port)
		ev, err := e.wait(fd)
		if err != nil || ev != Write {
			t.Errorf("%s on a refused connect = %v, %v; want Write", e.name, ev, err)
		}
		if err := socketError(fd); !isConnRefused(err) {
			t.Errorf("%s: SO_ERROR after the refused connect = %v; want connection refused", e.name, err)
		}
	}
}

// A closed socket gives an error naming it, through Select and a Wait.
// The Poller comes first: made after the close, its wake socket could
// take the closed one's number.
func TestClosedSocketNamed(t *testing.T) {
	c, _, cfd, _ := connPair(t)
	p := newPoller(t)
	if err := p.Register(int(cfd), Read); err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, _, _, err := Select([]FD{cfd}, nil, nil, time.Second)
	wantFdError(t, err, "select", int(cfd), errBadFd)
	_, err = p.Wait(make([]PollEvent, 1), time.Second)
	wantFdError(t, err, "select", int(cfd), errBadFd)
}
