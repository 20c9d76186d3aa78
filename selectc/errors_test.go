//go:build linux

package selectc

import (
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The three kinds of error and their one shape each, as FdError's doc
// states them: one test per kind, each calling every constructor and method
// that can return that kind.

// wantFdShape checks that err is itself an *FdError for op wrapping cause,
// whose message starts "op: fd N: "; fd < 0 with anyFd accepts any number
// at or above FdSetSize (the kernel picks a wake's number).
func wantFdShape(t *testing.T, what string, err error, op string, fd int, cause error) {
	t.Helper()
	fe, ok := err.(*FdError)
	switch {
	case !ok:
		t.Errorf("%s: %T %v, want an *FdError", what, err, err)
	case fe.Op != op || !errors.Is(err, cause):
		t.Errorf("%s: %v, want Op %q wrapping %q", what, err, op, cause)
	case fd != anyFd && fe.Fd != fd, fd == anyFd && fe.Fd < FdSetSize:
		t.Errorf("%s: %v, want fd %d", what, err, fd)
	case !strings.HasPrefix(err.Error(), op+": fd "+strconv.Itoa(fe.Fd)+": "):
		t.Errorf("%s: message %q does not start with %q", what, err, op+": fd N: ")
	}
}

// anyFd, for wantFdShape: a wake's number, FdSetSize or above.
const anyFd = -1 << 20

// wantSyscallShape checks that err is itself an *os.SyscallError named
// call, wrapping errno, whose message starts "call: ".
func wantSyscallShape(t *testing.T, what string, err error, call string, errno syscall.Errno) {
	t.Helper()
	se, ok := err.(*os.SyscallError)
	switch {
	case !ok:
		t.Errorf("%s: %T %v, want an *os.SyscallError", what, err, err)
	case se.Syscall != call || !errors.Is(err, errno):
		t.Errorf("%s: %v, want %s wrapping %v", what, err, call, errno)
	case !strings.HasPrefix(err.Error(), call+": "):
		t.Errorf("%s: message %q does not start with %q", what, err, call+": ")
	}
}

// Range: every call handed a descriptor select cannot watch, and every
// constructor whose wake eventfd lands at FdSetSize or above.
func TestErrorShapeRange(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bad := []int{-1, FdSetSize}
	for _, fd := range bad {
		var s FdSet
		wantFdShape(t, "FdSet.Set", s.Set(fd), "FD_SET", fd, ErrFdRange)
		_, _, _, err := Select([]FD{FD(fd)}, nil, nil, 0)
		wantFdShape(t, "Select", err, "select", fd, ErrFdRange)
		var sel Selector[FD]
		_, _, _, err = sel.Select(nil, []FD{FD(fd)}, nil, 0)
		wantFdShape(t, "Selector.Select", err, "select", fd, ErrFdRange)
		_, _, _, err = SelectContext(ctx, nil, nil, []FD{FD(fd)}, time.Millisecond)
		wantFdShape(t, "SelectContext", err, "select", fd, ErrFdRange)
		_, _, _, err = sel.SelectContext(ctx, []FD{FD(fd)}, nil, nil, time.Millisecond)
		wantFdShape(t, "Selector.SelectContext", err, "select", fd, ErrFdRange)

		p := newPoller(t)
		wantFdShape(t, "Poller.Register", p.Register(fd, Read), "register", fd, ErrFdRange)
		wantFdShape(t, "Poller.Modify", p.Modify(fd, Read), "modify", fd, ErrFdRange)
		wantFdShape(t, "Poller.Unregister", p.Unregister(fd), "unregister", fd, ErrFdRange)
		l := newLoop(t)
		nop := handlerFunc(func(int, Events) {})
		wantFdShape(t, "Loop.Register", l.Register(fd, Read, nop), "register", fd, ErrFdRange)
		wantFdShape(t, "Loop.Modify", l.Modify(fd, Read), "modify", fd, ErrFdRange)
		wantFdShape(t, "Loop.Unregister", l.Unregister(fd), "unregister", fd, ErrFdRange)
	}
	// SelectFdSet's nfds: the descriptor out of range is nfds-1.
	for _, c := range []struct{ nfds, fd int }{{FdSetSize + 1, FdSetSize}, {-5, -1}} {
		_, err := SelectFdSet(c.nfds, nil, nil, nil, &Timeval{})
		wantFdShape(t, "SelectFdSet(nfds "+strconv.Itoa(c.nfds)+")", err, "select", c.fd, ErrFdRange)
	}

	// The wake eventfd: with every number below FdSetSize taken.
	raiseNoFile(t, 2*uint64(FdSetSize))
	closeIdleWakers()
	fillBelow(t, FdSetSize)
	_, err := NewPoller()
	wantFdShape(t, "NewPoller", err, "eventfd", anyFd, ErrFdRange)
	_, err = NewLoop()
	wantFdShape(t, "NewLoop", err, "eventfd", anyFd, ErrFdRange)
	_, _, _, err = SelectContext(ctx, []FD{0}, nil, nil, Forever)
	wantFdShape(t, "SelectContext's wake", err, "eventfd", anyFd, ErrFdRange)
}

// System: the kernel's EBADF, pinned on the descriptor wherever selectc
// can, and eventfd's EMFILE in every constructor; calloc's ENOMEM cannot
// be provoked from here, so its one helper is checked on its own.
func TestErrorShapeSystem(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// A closed descriptor that no file opened meanwhile can take: the
	// kernel hands out the lowest free number, so one high above them.
	fd := FdSetSize - 24
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("fd %d is open (%v): pick another closed one", fd, err)
	}
	_, _, _, err := Select([]FD{FD(fd)}, nil, nil, 0)
	wantFdShape(t, "Select", err, "select", fd, syscall.EBADF)
	var sel Selector[FD]
	_, _, _, err = sel.Select([]FD{FD(fd)}, nil, nil, 0)
	wantFdShape(t, "Selector.Select", err, "select", fd, syscall.EBADF)
	_, _, _, err = SelectContext(ctx, []FD{FD(fd)}, nil, nil, time.Second)
	wantFdShape(t, "SelectContext", err, "select", fd, syscall.EBADF)
	// SelectFdSet is select(2) as C has it: the kernel does not say which fd.
	var set FdSet
	if err := set.Set(fd); err != nil {
		t.Fatal(err)
	}
	_, err = SelectFdSet(fd+1, &set, nil, nil, &Timeval{})
	wantSyscallShape(t, "SelectFdSet", err, "select", syscall.EBADF)

	p := newPoller(t)
	r, _ := pipe(t)
	pfd := int(r.Fd())
	if err := p.Register(pfd, Read); err != nil {
		t.Fatal(err)
	}
	r.Close()
	events := make([]PollEvent, 4)
	_, err = p.Wait(events, time.Second)
	wantFdShape(t, "Poller.Wait", err, "select", pfd, syscall.EBADF)
	_, err = p.WaitContext(ctx, events, time.Second)
	wantFdShape(t, "Poller.WaitContext", err, "select", pfd, syscall.EBADF)

	l := newLoop(t)
	r, _ = pipe(t)
	lfd := int(r.Fd())
	if err := l.Register(lfd, Read, handlerFunc(func(int, Events) {})); err != nil {
		t.Fatal(err)
	}
	r.Close()
	runCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	wantFdShape(t, "Loop.Run", l.Run(runCtx), "select", lfd, syscall.EBADF)
	if err := l.Unregister(lfd); err != nil {
		t.Fatal(err)
	}

	wantSyscallShape(t, "a C constructor's calloc", allocError(-int32(syscall.ENOMEM)), "calloc", syscall.ENOMEM)

	// eventfd's EMFILE: every number below a limit taken, and the limit lowered to it.
	closeIdleWakers()
	const limit = 256
	fillBelow(t, limit)
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = limit
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	_, errPoller := NewPoller()
	_, errLoop := NewLoop()
	_, _, _, errCtx := SelectContext(ctx, []FD{0}, nil, nil, Forever)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	wantSyscallShape(t, "NewPoller", errPoller, "eventfd", syscall.EMFILE)
	wantSyscallShape(t, "NewLoop", errLoop, "eventfd", syscall.EMFILE)
	wantSyscallShape(t, "SelectContext's wake", errCtx, "eventfd", syscall.EMFILE)
}

// Misuse: every method of a closed and of a zero Poller and Loop. One
// taking a descriptor returns an *FdError for it wrapping the closed
// sentinel; the others the sentinel itself, whose message says what is
// closed. A method added later fails the test until it has a row here.
func TestErrorShapeMisuse(t *testing.T) {
	const fd = 5
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make([]PollEvent, 1)
	nop := handlerFunc(func(int, Events) {})

	type call struct {
		op string // the FdError's Op; "" for a method that takes no descriptor
		do func() error
	}
	pollerCalls := func(p *Poller) map[string]call {
		return map[string]call{
			"Register":   {"register", func() error { return p.Register(fd, Read) }},
			"Modify":     {"modify", func() error { return p.Modify(fd, Read) }},
			"Unregister": {"unregister", func() error { return p.Unregister(fd) }},
			"Wait":       {"", func() error { _, err := p.Wait(events, 0); return err }},
			"WaitContext": {"", func() error {
				_, err := p.WaitContext(ctx, events, 0)
				return err
			}},
			"Wake":  {"", p.Wake},
			"Close": {"", p.Close},
		}
	}
	loopCalls := func(l *Loop) map[string]call {
		return map[string]call{
			"Register":   {"register", func() error { return l.Register(fd, Read, nop) }},
			"Modify":     {"modify", func() error { return l.Modify(fd, Read) }},
			"Unregister": {"unregister", func() error { return l.Unregister(fd) }},
			"Run":        {"", func() error { return l.Run(ctx) }},
			"Close":      {"", l.Close},
		}
	}
	check := func(kind string, calls map[string]call, ptr reflect.Type, sentinel error, says string) {
		for i := range ptr.NumMethod() {
			if _, ok := calls[ptr.Method(i).Name]; !ok {
				t.Errorf("%s.%s has no row in TestErrorShapeMisuse", ptr.Elem().Name(), ptr.Method(i).Name)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(calls)) {
			c := calls[name]
			what := kind + " " + ptr.Elem().Name() + "." + name
			err := c.do()
			if c.op != "" {
				wantFdShape(t, what, err, c.op, fd, sentinel)
				continue
			}
			if _, ok := err.(*FdError); ok || !errors.Is(err, sentinel) || !errors.Is(err, ErrClosed) {
				t.Errorf("%s: %v, want %q itself, wrapping ErrClosed", what, err, sentinel)
			} else if !strings.HasPrefix(err.Error(), says) {
				t.Errorf("%s: message %q does not start with %q", what, err, says)
			}
		}
	}

	closed := func(c io.Closer, err error) {
		if err == nil {
			err = c.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := NewPoller()
	closed(p, err)
	check("closed", pollerCalls(p), reflect.TypeFor[*Poller](), ErrPollerClosed, "poller closed")
	check("zero", pollerCalls(new(Poller)), reflect.TypeFor[*Poller](), ErrPollerClosed, "poller closed")
	l, err := NewLoop()
	closed(l, err)
	check("closed", loopCalls(l), reflect.TypeFor[*Loop](), ErrLoopClosed, "loop closed")
	check("zero", loopCalls(new(Loop)), reflect.TypeFor[*Loop](), ErrLoopClosed, "loop closed")
}
