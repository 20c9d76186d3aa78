//go:build linux || windows

package selectc

/*
#include "selectwake.h"
*/
import "C"

import (
	"context"
	"os"
	"sync"
	"syscall"
)

// waker is how selectc ends a select(2) early from another goroutine: an
// eventfd below FdSetSize whose descriptor sits in the select's read set.
// Signalling it makes it readable, the select returns, and the waiter
// drains it. SelectContext borrows one from a pool for each call; a Poller
// owns one for Wake and WaitContext. The C side is selectwake.h, which
// selectloop's own wake uses too.
type waker struct {
	fd int

	// mu orders signal against close, so that a signal arriving late (from
	// a context's AfterFunc) never writes to a number reused since.
	mu     sync.Mutex
	closed bool

	// fired carries one token per signal sent by a context armed with arm,
	// so that disarm can wait for the write to be over.
	fired chan struct{}
	// signalFn and notifyFn are made once, so arming a context allocates no
	// method value: signalFn signals, notifyFn signals and puts a token in fired.
	signalFn, notifyFn func()
}

// openWake opens a wake eventfd, the one way selectc does (SelectContext,
// Poller and Loop alike). One the kernel numbers FdSetSize or above is
// closed again and refused with an *FdError wrapping ErrFdRange: no select
// could watch it. eventfd's own failure is an *os.SyscallError.
func openWake() (int, error) {
	var fd C.int
	if rc := C.selectwake_open(&fd); rc != 0 {
		if cErrno(int32(rc)) == syscall.ERANGE {
			return -1, &FdError{Op: wakeOp, Fd: int(fd), Err: ErrFdRange}
		}
		return -1, os.NewSyscallError(wakeOp, cErrno(int32(rc)))
	}
	return int(fd), nil
}

// newWaker opens a waker; errors are openWake's.
func newWaker() (*waker, error) {
	fd, err := openWake()
	if err != nil {
		return nil, err
	}
	w := &waker{fd: fd, fired: make(chan struct{}, 1)}
	w.signalFn = w.signal
	w.notifyFn = func() {
		w.signal()
		w.fired <- struct{}{}
	}
	return w, nil
}

// signal makes w readable until it is drained; signals add up, and one
// after close does nothing.
func (w *waker) signal() {
	w.mu.Lock()
	if !w.closed {
		C.selectwake_signal(C.int(w.fd)) // fails only for a bad fd, which closed rules out
	}
	w.mu.Unlock()
}

// drain consumes every signal so far.
func (w *waker) drain() {
	C.selectwake_drain(C.int(w.fd))
}

// close closes the eventfd; later signals do nothing.
func (w *waker) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		C.selectwake_close(C.int(w.fd))
	}
}

// arm makes ctx's end signal w, for a waker its caller holds alone (one
// from getWaker). Pass the stop it returns to disarm once the wait is over.
func (w *waker) arm(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, w.notifyFn)
}

// disarm returns when no signal for the arming that gave stop can arrive
// any more, with w drained if one did, so that w is clean for its next user.
func (w *waker) disarm(stop func() bool) {
	if !stop() { // the AfterFunc has started: wait for its write, then undo it
		<-w.fired
		w.drain()
	}
}

// wakers keeps idle wakers for SelectContext, so that a call costs no
// eventfd(2) and close(2). It keeps a few: each holds a descriptor below
// FdSetSize that the program might want for itself, and concurrent calls
// beyond that simply open and close their own.
var wakers struct {
	mu   sync.Mutex
	idle []*waker
}

// maxIdleWakers bounds the pool.
const maxIdleWakers = 4

// getWaker takes an idle waker, or opens one.
func getWaker() (*waker, error) {
	wakers.mu.Lock()
	if n := len(wakers.idle); n > 0 {
		w := wakers.idle[n-1]
		wakers.idle = wakers.idle[:n-1]
		wakers.mu.Unlock()
		return w, nil
	}
	wakers.mu.Unlock()
	return newWaker()
}

// putWaker gives back a drained waker that no context will signal again.
func putWaker(w *waker) {
	wakers.mu.Lock()
	if len(wakers.idle) < maxIdleWakers {
		wakers.idle = append(wakers.idle, w)
		w = nil
	}
	wakers.mu.Unlock()
	if w != nil {
		w.close()
	}
}

// closeIdleWakers empties the pool, closing its descriptors; tests use it
// to count descriptors exactly.
func closeIdleWakers() {
	wakers.mu.Lock()
	idle := wakers.idle
	wakers.idle = nil
	wakers.mu.Unlock()
	for _, w := range idle {
		w.close()
	}
}
