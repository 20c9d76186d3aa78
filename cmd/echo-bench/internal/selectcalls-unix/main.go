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

// unixCall is the C prototype's loop on x/sys/unix: the macros are Go
// methods (inlined bit operations), select is one raw system call.
type unixCall struct {
	fds  []int
	nfds int
	set  unix.FdSet
}

func bindUnix(l *callworker.Layout) (callworker.Bound, error) {
	return &unixCall{fds: l.Fds, nfds: l.Nfds()}, nil
}

func (c *unixCall) selectOnce() (int, error) {
	for {
		c.set.Zero()
		for _, fd := range c.fds {
			c.set.Set(fd) // the layout keeps fds below FD_SETSIZE; Set panics above it
		}
		tv := unix.Timeval{} // select rewrites it: a fresh zero each call
		n, err := unix.Select(c.nfds, &c.set, nil, nil, &tv)
		switch {
		case err == unix.EINTR: // x/sys leaves EINTR to its caller, as C does
			continue
		case err != nil:
			return 0, os.NewSyscallError("select", err)
		}
		return n, nil
	}
}

func (c *unixCall) Call() (int, error) {
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
		return 0, fmt.Errorf("unix.Select returned %d, IsSet found %d", n, ready)
	}
	return ready, nil
}

func (c *unixCall) ReadyList() ([]int, error) {
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

// rawCall is unixCall with the select made as a raw system call, which
// x/sys/unix.Select is not (it makes the handshake of syscall.Syscall).
type rawCall struct {
	fds  []int
	nfds int
	set  rawselect.Set
}

func bindRaw(l *callworker.Layout) (callworker.Bound, error) {
	return &rawCall{fds: l.Fds, nfds: l.Nfds()}, nil
}

func (c *rawCall) selectOnce() (int, error) {
	for {
		c.set = rawselect.Set{}
		for _, fd := range c.fds {
			c.set.Add(fd)
		}
		n, errno := rawselect.Poll(c.nfds, &c.set[0], nil, nil)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return 0, os.NewSyscallError("pselect6", errno)
		}
		return n, nil
	}
}

func (c *rawCall) Call() (int, error) {
	n, err := c.selectOnce()
	if err != nil {
		return 0, err
	}
	ready := 0
	for _, fd := range c.fds {
		if c.set.Has(fd) {
			ready++
		}
	}
	if ready != n {
		return 0, fmt.Errorf("rawselect.Poll returned %d, Has found %d", n, ready)
	}
	return ready, nil
}

func (c *rawCall) ReadyList() ([]int, error) {
	if _, err := c.selectOnce(); err != nil {
		return nil, err
	}
	var out []int
	for _, fd := range c.fds {
		if c.set.Has(fd) {
			out = append(out, fd)
		}
	}
	return out, nil
}
