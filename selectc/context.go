//go:build linux || windows

package selectc

/*
#include "selectshim.h"
*/
import "C"

import (
	"context"
	"time"
)

// SelectContext is Select that ctx can cancel: when ctx is done before
// anything is ready, it returns at once with ctx.Err() (errors.Is works with
// context.Canceled and context.DeadlineExceeded), and three nil lists. A ctx
// already done when the call starts returns its error without selecting.
//
// Readiness and cancellation may race. When the select(2) that ctx's
// cancellation ends finds descriptors ready too, SelectContext returns them
// and a nil error: what the kernel reported is never thrown away, and since
// readiness is level-triggered the next call, which sees ctx done at once,
// loses nothing either. So a caller gets either some ready elements and no
// error, or no elements and ctx's error (or, at the timeout, neither).
//
// Everything else is Select's contract: range checks before the kernel,
// EBADF naming the descriptor, EINTR retried against the deadline, one cgo
// crossing per wait. The wake is an eventfd of selectc's own (pooled, always
// below FdSetSize; when none can be had, the call fails with an error saying
// why and selects nothing), never one of the caller's descriptors. A ctx
// that can never be cancelled (context.Background) costs nothing over
// Select.
//
// A nil ctx panics, as it does in net.Dialer.DialContext and the context
// package: it is a mistake in the calling code, and an error would be
// taken for a failed select by loops that retry on error.
func SelectContext[T Filer](ctx context.Context, rlist, wlist, xlist []T, timeout time.Duration) (r, w, x []T, err error) {
	var s Selector[T]
	return s.SelectContext(ctx, rlist, wlist, xlist, timeout)
}

// SelectContext is the package-level SelectContext, reusing s's memory; see
// there. With a ctx that can be cancelled it allocates a little per call
// (context.AfterFunc's registration).
func (s *Selector[T]) SelectContext(ctx context.Context, rlist, wlist, xlist []T, timeout time.Duration) (r, w, x []T, err error) {
	if ctx == nil {
		panic("selectc: SelectContext with a nil context.Context")
	}
	if ctx.Done() == nil { // nothing can cancel ctx: no wake needed
		return s.Select(rlist, wlist, xlist, timeout)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	if timeout == 0 { // a poll returns at once: nothing to wake
		return s.Select(rlist, wlist, xlist, timeout)
	}
	wk, err := getWaker()
	if err != nil {
		return nil, nil, nil, err // openWake's: the eventfd's range or its errno
	}
	rlist, wlist, xlist = s.snapshot(rlist, wlist, xlist)
	if s.kind != kindFD { // FD lists are not copied: nothing to release
		defer s.release()
	}
	stop := wk.arm(ctx)
	err = s.waitContext(ctx, wk, rlist, wlist, xlist, timeout)
	wk.disarm(stop)
	putWaker(wk)
	if err != nil {
		return nil, nil, nil, err
	}
	s.collect(rlist, wlist, xlist)
	return s.r, s.w, s.x, nil
}

// testHookWaiting, when set, runs just before SelectContext's select, with
// ctx armed: tests use it to cancel at a known point.
var testHookWaiting func()

// waitContext selects on the lists (snapshot's) and wk, which ctx's end
// signals; on a nil return s.b holds the caller's ready events.
func (s *Selector[T]) waitContext(ctx context.Context, wk *waker, rlist, wlist, xlist []T, timeout time.Duration) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		n, err := s.fill(rlist, wlist, xlist, 1)
		if err != nil {
			return err
		}
		s.b.fds[n], s.b.ev[n] = C.int(wk.fd), C.SHIM_READ
		if testHookWaiting != nil {
			testHookWaiting()
		}
		if err := s.b.wait(timeout); err != nil {
			return err
		}
		if s.b.ev[n] == 0 {
			return nil // not woken: what is ready (or, at the timeout, nothing) stands
		}
		if anyReady(s.b.ev[:n]) {
			return nil // readiness wins over the cancellation that came with it
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// A wake that no cancellation sent (none should come: disarm
		// drains every one): drop it and wait for the time left. This
		// deadline is the stray wake's alone: EINTR never reaches Go
		// (shim_select_retry in selectshim.h).
		wk.drain()
		if timeout > 0 {
			if timeout = time.Until(deadline); timeout <= 0 {
				clear(s.b.ev)
				return nil
			}
		}
	}
}

// anyReady reports whether any entry has a ready event.
func anyReady(ev []C.uint8_t) bool {
	for _, e := range ev {
		if e != 0 {
			return true
		}
	}
	return false
}
