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
// with all three empty, Select just sleeps for the timeout.
//
// Unlike select.select, Select never hands select(2) a descriptor it cannot
// hold: one outside [0, FdSetSize) gives an *FdError naming it and wrapping
// ErrFdRange, a list longer than FdSetSize gives ErrTooManyFds, and in both
// cases the kernel is not called. A closed descriptor gives an error that
// wraps syscall.EBADF and names it (one *FdError per bad descriptor). A
// signal (EINTR) is retried with the time that remains.
//
// Select crosses into C once per call, whatever the number of descriptors,
// and keeps no state between calls: it is safe for concurrent use.
func Select[T Filer](rlist, wlist, xlist []T, timeout time.Duration) (r, w, x []T, err error) {
	var s Selector[T]
	return s.Select(rlist, wlist, xlist, timeout)
}

// Selector is Select with memory kept from call to call, for loops that
// select over and over: after the first calls it allocates nothing. The
// slices it returns are its own and are overwritten by the next call. A
// Selector must not be used by several goroutines at once; its zero value is
// ready to use.
type Selector[T Filer] struct {
	b       batch
	r, w, x []T
}

// Select is the package-level Select, reusing s's memory; see there.
func (s *Selector[T]) Select(rlist, wlist, xlist []T, timeout time.Duration) (r, w, x []T, err error) {
	lists := [3][]T{rlist, wlist, xlist}
	s.b.resize(len(rlist) + len(wlist) + len(xlist))
	fds, evs := s.b.fds, s.b.ev // locals: the compiler keeps them in registers
	i := 0
	for k := range lists {
		if len(lists[k]) > FdSetSize {
			return nil, nil, nil, fmt.Errorf("select: %d descriptors in %s: %w", len(lists[k]), listNames[k], ErrTooManyFds)
		}
		bit := C.uint8_t(1 << k)
		for _, f := range lists[k] {
			fd := int(f.Fd())
			if uint(fd) >= uint(FdSetSize) {
				return nil, nil, nil, checkFd("select", fd)
			}
			fds[i], evs[i] = C.int(fd), bit
			i++
		}
	}
	if err := s.b.wait(timeout); err != nil {
		return nil, nil, nil, err
	}
	s.r, evs = collect(s.r[:0], rlist, evs)
	s.w, evs = collect(s.w[:0], wlist, evs)
	s.x, _ = collect(s.x[:0], xlist, evs)
	return s.r, s.w, s.x, nil
}

var listNames = [3]string{"rlist", "wlist", "xlist"}

// collect appends to dst the elements of list whose entry in ev is ready,
// and returns the entries of ev that belong to the lists after it.
func collect[T any](dst, list []T, ev []C.uint8_t) ([]T, []C.uint8_t) {
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
