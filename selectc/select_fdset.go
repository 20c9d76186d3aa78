//go:build linux || windows

package selectc

/*
#include "selectshim.h"
*/
import "C"

import "os"

// SelectFdSet is select(2) as C has it: it waits until a descriptor below
// nfds in r is readable, in w writable, or in e has an exceptional condition
// (TCP urgent data), or until the timeout passes, and returns the number of
// bits left set across the three sets, which it rewrites to hold only the
// ready descriptors.
//
// Any set may be nil. A nil timeout blocks; a zero Timeval polls; a Timeval
// with a negative field or Usec >= 1000000 is refused with an error wrapping
// ErrTimeval (glibc would truncate tv_usec to 32 bits and wait the wrong
// time) before the kernel is called; one past what C's time_t holds
// saturates (see Timeval). On return *timeout holds the time the wait did not
// use, zero after a timeout, as Linux's select writes it: selectc counts it
// itself, so it is the same on every architecture and C library, musl
// included (x/sys/unix's Select leaves that to the architecture's syscall).
//
// nfds must be in [0, FdSetSize]; outside it the error is a range error
// for fd nfds-1, the highest descriptor nfds would have select read. The
// kernel's errors come back as C returns them, EINTR included (Select and
// the others retry it; this does not), as an *os.SyscallError, so
// errors.Is(err, syscall.EINTR) works. errors.go says how every error is
// shaped.
func SelectFdSet(nfds int, r, w, e *FdSet, timeout *Timeval) (n int, err error) {
	if nfds < 0 || nfds > FdSetSize {
		// The descriptor out of range is the highest one nfds would have
		// select read: nfds-1 (-1 for a negative nfds, which reads none).
		return 0, &FdError{Op: "select", Fd: max(nfds, 0) - 1, Err: ErrFdRange}
	}
	var tv C.struct_timeval
	var tvp *C.struct_timeval
	if timeout != nil {
		if tv, err = timeout.toC(); err != nil {
			return 0, err
		}
		tvp = &tv
	}
	ret := C.shim_select(C.int(nfds), r.cPtr(), w.cPtr(), e.cPtr(), tvp)
	if timeout != nil {
		*timeout = timevalFromC(&tv)
	}
	if ret < 0 {
		return 0, os.NewSyscallError("select", cErrno(int32(ret)))
	}
	return int(ret), nil
}
