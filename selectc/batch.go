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
	fds  []C.int
	ev   []C.uint8_t
	fast fastBatch // wait's fast path, when descriptors are ready already
}

// testHookEINTR, when set, is told how many selects a signal interrupted
// (and C retried) in each wait, so tests can prove a retry happened; nil
// otherwise, and then nothing is counted.
var testHookEINTR func(n int)

// resize makes room for n entries, reusing the memory of earlier calls.
func (b *batch) resize(n int) {
	if cap(b.fds) < n {
		b.fds = make([]C.int, n)
		b.ev = make([]C.uint8_t, n)
	}
	b.fds, b.ev = b.fds[:n], b.ev[:n]
}

// wait runs the batch until something is ready or timeout passes (negative:
// forever). A signal (EINTR) is retried in C, against the first call's
// deadline: shim_select_retry (selectshim.h) is that rule's one home. On
// return b.ev holds the ready events of each entry.
func (b *batch) wait(timeout time.Duration) error {
	if b.pollFast(timeout) { // ready already: no cgo call
		return nil
	}
	var fdp *C.int
	var evp *C.uint8_t
	if len(b.fds) > 0 {
		fdp, evp = &b.fds[0], &b.ev[0]
	}
	var eintr *C.uint64_t // counted only for a test's hook
	if testHookEINTR != nil {
		eintr = new(C.uint64_t)
	}
	ret := C.shim_select_batch(fdp, evp, C.int(len(b.fds)), C.int64_t(timeout), eintr)
	if eintr != nil {
		testHookEINTR(int(*eintr))
	}
	switch errno := syscall.Errno(-ret); {
	case ret >= 0:
		return nil
	case errno == syscall.EBADF:
		return badFds(b.fds)
	default:
		return os.NewSyscallError("select", errno)
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
