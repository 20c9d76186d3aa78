package selectc

/*
#include "selectshim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"syscall"
)

// SelectFdSet is select(2) as C has it: it waits until a descriptor below
// nfds in r is readable, in w writable, or in e has an exceptional condition
// (TCP urgent data), or until the timeout passes, and returns the number of
// bits left set across the three sets, which it rewrites to hold only the
// ready descriptors.
//
// Any set may be nil. A nil timeout blocks; a zero Timeval polls; a Timeval
// with a negative field or Usec >= 1000000 is refused with an error wrapping
// ErrTimeval (glibc would truncate tv_usec to 32 bits and wait the wrong
// time) before the kernel is called, and a Sec too large for the platform's
// time_t saturates, as Timeval.ToC says. On return
// *timeout holds the time the kernel did not use: this is libc's select on
// Linux, so it is the same on every architecture (x/sys/unix's Select leaves
// that to the architecture's syscall).
//
// nfds must be in [0, FdSetSize]. Errors come back as C returns them,
// EINTR included (it is not retried here; Select retries it), as an
// *os.SyscallError, so errors.Is(err, syscall.EINTR) works.
func SelectFdSet(nfds int, r, w, e *FdSet, timeout *Timeval) (n int, err error) {
	if nfds < 0 || nfds > FdSetSize {
		return 0, fmt.Errorf("select: nfds %d outside 0..%d: %w", nfds, FdSetSize, ErrFdRange)
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
		return 0, os.NewSyscallError("select", syscall.Errno(-ret))
	}
	return int(ret), nil
}
