// Command selectcalls-unix is echo-bench's call-level worker for
// golang.org/x/sys/unix.Select, the pure-Go way to select(2): a raw system
// call, the fd_set built and read in Go. It must be built with
// CGO_ENABLED=0 (the Makefile does), so the binary has no runtime/cgo and
// measures what a cgo-free program pays; echo-bench checks the build
// setting before it trusts the numbers.
//
//	-api unix  FdSet.Zero, FdSet.Set per fd, unix.Select, FdSet.IsSet per fd
//	-api raw   the same loop on a rawselect.Set with rawselect.Poll: a raw
//	           system call, without the scheduler's handshake (the floor
//	           of a Go program, which selectc's fast paths reach)
//
// echo-bench -calls starts it and drives it over stdin/stdout
// (package callworker has the protocol).
package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/selectc/selectc/cmd/echo-bench/internal/callworker"
	"github.com/selectc/selectc/internal/rawselect"
)

func main() {
	callworker.Main(map[string]callworker.Wrapper{"unix": bindUnix, "raw": bindRaw})
}

// goSetCall is the C prototype's loop on a set held in Go: poll builds the
// set and selects once, isSet reads the answer.
type goSetCall struct {
	fds   []int
	poll  func() (int, error)
	isSet func(fd int) bool
	what  string // the select, for errors
}

// selectOnce polls, again after EINTR: the calls below leave it to their
// caller, as C does.
func (c *goSetCall) selectOnce() (int, error) {
	for {
		n, err := c.poll()
		if err != unix.EINTR {
			return n, err
		}
	}
}

func (c *goSetCall) Call() (int, error) {
	n, err := c.selectOnce()
	if err != nil {
		return 0, os.NewSyscallError(c.what, err)
	}
	ready := 0
	for _, fd := range c.fds {
		if c.isSet(fd) {
			ready++
		}
	}
	if ready != n {
		return 0, fmt.Errorf("%s returned %d, the set holds %d", c.what, n, ready)
	}
	return ready, nil
}

func (c *goSetCall) ReadyList() ([]int, error) {
	if _, err := c.selectOnce(); err != nil {
		return nil, os.NewSyscallError(c.what, err)
	}
	var out []int
	for _, fd := range c.fds {
		if c.isSet(fd) {
			out = append(out, fd)
		}
	}
	return out, nil
}

// bindUnix: the macros are x/sys/unix's FdSet methods (inlined bit
// operations), select is unix.Select, a system call made with the
// scheduler's handshake (syscall.Syscall6).
func bindUnix(l *callworker.Layout) (callworker.Bound, error) {
	var set unix.FdSet
	nfds := l.Nfds()
	return &goSetCall{fds: l.Fds, what: "select", isSet: set.IsSet, poll: func() (int, error) {
		set.Zero()
		for _, fd := range l.Fds {
			set.Set(fd) // the layout keeps fds below FD_SETSIZE; Set panics above it
		}
		tv := unix.Timeval{} // select rewrites it: a fresh zero each call
		return unix.Select(nfds, &set, nil, nil, &tv)
	}}, nil
}

// bindRaw: the same loop on a rawselect.Set, the select made as a raw
// system call, without the handshake (internal/rawselect).
func bindRaw(l *callworker.Layout) (callworker.Bound, error) {
	var set rawselect.Set
	nfds := l.Nfds()
	return &goSetCall{fds: l.Fds, what: "pselect6", isSet: set.Has, poll: func() (int, error) {
		set = rawselect.Set{}
		for _, fd := range l.Fds {
			set.Add(fd)
		}
		n, errno := rawselect.Poll(nfds, &set[0], nil, nil)
		if errno != 0 {
			return 0, errno
		}
		return n, nil
	}}, nil
}
