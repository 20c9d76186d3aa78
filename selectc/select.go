//go:build linux || windows

package selectc

/*
#include "selectshim.h"
*/
import "C"

import (
	"fmt"
	"time"
)

// Filer is anything backed by a file descriptor. *os.File satisfies it, as
// do FD and the raw connections of package syscall.
type Filer interface {
	Fd() uintptr
}

// FD is a bare file descriptor; FD(n).Fd() == uintptr(n).
type FD int

// Fd returns the descriptor itself.
func (fd FD) Fd() uintptr { return uintptr(fd) }

// Forever, as a timeout, makes Select block until something is ready. Any
// negative timeout does the same.
const Forever time.Duration = -1

// Select waits, as Python's select.select(rlist, wlist, xlist, timeout) does,
// until some of rlist is ready for reading, some of wlist for writing, or
// some of xlist has an exceptional condition (TCP urgent data), and returns
// the caller's own elements that are ready: three new slices, in input
// order, duplicates kept. When the timeout passes first, all three are empty
// and err is nil.
//
// A timeout of 0 polls; a negative one (Forever) blocks. Lists may be nil;
// with all three empty, Select just sleeps for the timeout. To end a wait
// early from another goroutine, use SelectContext.
//
// Unlike select.select, Select never hands select(2) a descriptor it cannot
// hold: one outside [0, FdSetSize) gives an *FdError naming it and wrapping
// ErrFdRange, a list longer than FdSetSize gives ErrTooManyFds, and in both
// cases the kernel is not called. A closed descriptor gives an error that
// wraps syscall.EBADF and names it (one *FdError per bad descriptor). A
// signal (EINTR) is retried with the time that remains.
//
// An element that is also a syscall.Conn, such as *os.File, is read through
// SyscallConn().Control and its Fd method is never called: os.File.Fd would
// switch the file to blocking mode and stop its deadlines working. A closed
// *os.File gives an error wrapping os.ErrClosed. For a net.Conn, which has
// no Fd method, select on its ConnFD.
//
// The elements returned are the ones whose descriptors were watched: Select
// works on a copy of the lists taken before it calls any element's method,
// so an Fd (or SyscallConn) method that writes into the caller's slices
// changes neither what is watched nor what is returned (CPython's
// test_select_mutated). A list of FD is read as it is: FD has no method to
// run.
//
// Select crosses into C once per call, whatever the number of descriptors,
// and keeps no state between calls: it is safe for concurrent use.
func Select[T Filer](rlist, wlist, xlist []T, timeout time.Duration) (r, w, x []T, err error) {
	var s Selector[T]
	return s.Select(rlist, wlist, xlist, timeout)
}

// Selector is Select with memory kept from call to call, for loops that
// select over and over: after the first calls it allocates nothing (for
// elements read through SyscallConn, a little per element). The slices it
// returns are its own and are overwritten by the next call. A Selector must
// not be used by several goroutines at once; its zero value is ready to use.
type Selector[T Filer] struct {
	b       batch
	r, w, x []T
	seen    []T    // the lists of the call in progress, copied (see snapshot)
	kind    fdKind // how to read the elements' descriptors, decided at first use
}

// Select is the package-level Select, reusing s's memory; see there.
func (s *Selector[T]) Select(rlist, wlist, xlist []T, timeout time.Duration) (r, w, x []T, err error) {
	rlist, wlist, xlist = s.snapshot(rlist, wlist, xlist)
	if s.kind != kindFD { // FD lists are not copied: nothing to release
		defer s.release()
	} else if selectFDs(s, rlist, wlist, xlist, timeout) { // ready already: from Go, no batch
		return s.r, s.w, s.x, nil
	}
	if _, err := s.fill(rlist, wlist, xlist, 0); err != nil {
		return nil, nil, nil, err
	}
	if s.kind == kindFD {
		err = s.b.waitC(timeout) // selectFDs has tried the fast path
	} else {
		err = s.b.wait(timeout)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	evs := s.b.ev // collect's three lines, here without a call: this is the hot path
	s.r, evs = collectList(s.r[:0], rlist, evs)
	s.w, evs = collectList(s.w[:0], wlist, evs)
	s.x, _ = collectList(s.x[:0], xlist, evs)
	return s.r, s.w, s.x, nil
}

// snapshot returns the lists a call watches and returns elements from.
// Reading an FD runs no code of the caller's, so FD lists are their own
// snapshot. Any other element's Fd or SyscallConn method may write into
// the caller's slices while fill walks them; so the three are copied into
// s.seen first, and fill and collect see only the copies.
func (s *Selector[T]) snapshot(rlist, wlist, xlist []T) (r, w, x []T) {
	if s.kind == kindUnknown {
		s.kind = kindOf[T]()
	}
	if s.kind == kindFD {
		return rlist, wlist, xlist
	}
	s.seen = append(append(append(s.seen[:0], rlist...), wlist...), xlist...)
	nr, nw := len(rlist), len(rlist)+len(wlist)
	return s.seen[:nr:nr], s.seen[nr:nw:nw], s.seen[nw:]
}

// release drops snapshot's copies, so that s does not keep the caller's
// elements reachable after the call (beyond the ready ones it returned).
func (s *Selector[T]) release() {
	clear(s.seen)
	s.seen = s.seen[:0]
}

// fill puts the three lists in the batch, followed by extra entries for the
// caller to fill, and returns the index of the first extra one. The lists
// are snapshot's.
func (s *Selector[T]) fill(rlist, wlist, xlist []T, extra int) (n int, err error) {
	lists := [3][]T{rlist, wlist, xlist}
	s.b.resize(len(rlist) + len(wlist) + len(xlist) + extra)
	fds, evs := s.b.fds, s.b.ev // locals: the compiler keeps them in registers
	i := 0
	for k := range lists {
		if len(lists[k]) > FdSetSize {
			return 0, fmt.Errorf("select: %d descriptors in %s: %w", len(lists[k]), listNames[k], ErrTooManyFds)
		}
		bit := C.uint8_t(1 << k)
		if s.kind == kindFD { // the common case: plain loads, no method call per element
			for _, fd := range asFDs(lists[k]) {
				if !fdInRange(int(fd)) {
					return 0, checkFd("select", int(fd))
				}
				fds[i], evs[i] = C.int(fd), bit
				i++
			}
			continue
		}
		for _, f := range lists[k] {
			fd, err := fdOf(f, s.kind)
			if err != nil {
				return 0, err
			}
			if !fdInRange(fd) {
				return 0, checkFd("select", fd)
			}
			fds[i], evs[i] = C.int(fd), bit
			i++
		}
	}
	return i, nil
}

// collect puts the ready elements, after a wait, in s.r, s.w and s.x.
func (s *Selector[T]) collect(rlist, wlist, xlist []T) {
	evs := s.b.ev
	s.r, evs = collectList(s.r[:0], rlist, evs)
	s.w, evs = collectList(s.w[:0], wlist, evs)
	s.x, _ = collectList(s.x[:0], xlist, evs)
}

var listNames = [3]string{"rlist", "wlist", "xlist"}

// collectList appends to dst the elements of list whose entry in ev is
// ready, and returns the entries of ev that belong to the lists after it.
func collectList[T any](dst, list []T, ev []C.uint8_t) ([]T, []C.uint8_t) {
	if dst == nil {
		dst = []T{} // "nothing ready" is an empty list, as in Python, not nil
	}
	ev = ev[:len(list):len(ev)] // one bounds check here, none in the loop
	for i := range list {
		if ev[i] != 0 {
			dst = append(dst, list[i])
		}
	}
	return dst, ev[len(list):cap(ev)]
}
