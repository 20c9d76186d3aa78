//go:build linux || windows

package selectc

/*
#include "selectshim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"time"
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
	return b.waitC(timeout)
}

// waitC is wait without the fast path: one cgo call.
func (b *batch) waitC(timeout time.Duration) error {
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
	switch errno := cErrno(int32(ret)); {
	case ret >= 0:
		return nil
	case isBadFd(errno):
		return badFds(b.fds, errno)
	case errno == errFull:
		return fmt.Errorf("select: %w", ErrTooManyFds) // the Windows count, with SelectContext's wake socket
	default:
		return os.NewSyscallError("select", errno)
	}
}
