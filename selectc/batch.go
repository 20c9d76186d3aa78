//go:build linux

package selectc

/*
#include "selectshim.h"
*/
import "C"

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// batch is one select(2) in one cgo call: entry i asks for the events ev[i]
// on fds[i]. The slices are reused from call to call by their owner.
type batch struct {
	fds []C.int
	ev  []C.uint8_t
}

// testHookEINTR, when set, runs each time a select interrupted by a signal
// is retried, so tests can prove a retry happened; nil otherwise.
var testHookEINTR func()

// resize makes room for n entries, reusing the memory of earlier calls.
func (b *batch) resize(n int) {
	if cap(b.fds) < n {
		b.fds = make([]C.int, n)
		b.ev = make([]C.uint8_t, n)
	}
	b.fds, b.ev = b.fds[:n], b.ev[:n]
}

// wait runs the batch until something is ready or timeout passes (negative:
// forever). It retries EINTR with the time remaining against a monotonic
// deadline (PEP 475); when the deadline has passed it reports nothing ready
// rather than what an earlier, interrupted call might have seen. On return
// b.ev holds the ready events of each entry.
func (b *batch) wait(timeout time.Duration) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	var fdp *C.int
	var evp *C.uint8_t
	if len(b.fds) > 0 {
		fdp, evp = &b.fds[0], &b.ev[0]
	}
	for {
		ret := C.shim_select_batch(fdp, evp, C.int(len(b.fds)), C.int64_t(timeout))
		if ret >= 0 {
			return nil
		}
		switch errno := syscall.Errno(-ret); errno {
		case syscall.EINTR:
			if testHookEINTR != nil {
				testHookEINTR()
			}
			if timeout > 0 {
				if timeout = time.Until(deadline); timeout <= 0 {
					clear(b.ev)
					return nil
				}
			}
		case syscall.EBADF:
			return badFds(b.fds)
		default:
			return os.NewSyscallError("select", errno)
		}
	}
}

// badFds names which of fds select(2) refused with EBADF: the kernel says
// only that one of them is bad, so each is asked with fcntl(F_GETFD). Select,
// Loop and Poller all report EBADF this way.
func badFds(fds []C.int) error {
	var errs []error
	seen := make(map[C.int]bool)
	for _, fd := range fds {
		if seen[fd] {
			continue
		}
		seen[fd] = true
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			errs = append(errs, &FdError{Op: "select", Fd: int(fd), Err: syscall.EBADF})
		}
	}
	switch len(errs) {
	case 0: // closed and reopened since: say what the kernel said
		return os.NewSyscallError("select", syscall.EBADF)
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}
