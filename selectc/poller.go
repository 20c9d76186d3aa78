//go:build linux || windows

package selectc

/*
#include "selectpoller.h"

// The poller crosses into Wait as an integer: it is C memory, and as a
// pointer to an opaque struct cgo would check it for Go pointers on every
// call (~50 instructions, 5% of a Wait).
static inline int selectc_poller_wait(uintptr_t p, struct selectpoller_event *out, int cap, int64_t timeout_ns)
{
	return selectpoller_wait((selectpoller *)p, out, cap, timeout_ns);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// PollEvent is one ready descriptor, as Poller.Wait reports it.
type PollEvent struct {
	Fd     int    // the descriptor
	Events Events // what is ready: a non-empty subset of its registered events
}

// PollEvent is written by C as struct selectpoller_event: these fail to
// compile if the two layouts ever differ.
var (
	_ [unsafe.Sizeof(PollEvent{}) - C.sizeof_struct_selectpoller_event]struct{}
	_ [C.sizeof_struct_selectpoller_event - unsafe.Sizeof(PollEvent{})]struct{}
	_ [unsafe.Offsetof(PollEvent{}.Fd) - C.SELECTPOLLER_EVENT_FD_OFFSET]struct{}
	_ [C.SELECTPOLLER_EVENT_FD_OFFSET - unsafe.Offsetof(PollEvent{}.Fd)]struct{}
	_ [unsafe.Offsetof(PollEvent{}.Events) - C.SELECTPOLLER_EVENT_EV_OFFSET]struct{}
	_ [C.SELECTPOLLER_EVENT_EV_OFFSET - unsafe.Offsetof(PollEvent{}.Events)]struct{}
	_ [unsafe.Sizeof(PollEvent{}.Fd) - unsafe.Sizeof(C.intptr_t(0))]struct{}
)

// ErrPollerClosed is returned by every method of a Poller after Close, and
// by a Wait that Close interrupted. It wraps ErrClosed.
var ErrPollerClosed = fmt.Errorf("poller %w", ErrClosed)

// errPollerZero is ErrPollerClosed for a Poller that NewPoller did not make.
var errPollerZero = fmt.Errorf("%w (a zero or nil Poller: make one with NewPoller)", ErrPollerClosed)

// errNoRoom is Wait's error for an empty events slice.
var errNoRoom = errors.New("wait: no room in events (len 0) for a ready descriptor")

// Poller is select(2) behind an epoll-like interface, in the design of
// redis's ae_select.c: its C side owns the master fd_sets and each
// descriptor's interest, so registering costs one small cgo call, once,
// not a list rebuilt on every wait; each Wait copies the masters, selects,
// and writes every ready descriptor into the caller's slice, all in one
// call: from Go when descriptors are ready already (the package doc, "The
// answer that is there already"), else one cgo call. Compare Selector (lists rebuilt from Go on every call) and
// Loop (a C-to-Go callback per event).
//
// Descriptors must lie in [0, FdSetSize), as for every select(2); a Poller
// never closes them. Its own wake descriptor, an eventfd, counts against
// that range too.
//
// All methods are safe for concurrent use. Register, Modify and Unregister
// take effect at the next Wait; a Wait in progress goes on with the sets it
// started with (call Wake to end it), but never reports a descriptor for a
// registration it did not start with: one unregistered meanwhile, perhaps
// closed and its number reused by a new file registered again, is not
// reported by that Wait. Several Waits may run at once, and then each may
// report the same descriptor. The kernel keeps a reference to every file a
// Wait is watching until that Wait returns, so a socket unregistered and
// closed during a Wait is released only then: call Wake after Unregister
// when that matters.
//
// A Poller must not be copied (go vet says so). The zero value and a nil
// *Poller act as a Poller already closed; the package doc says what every
// misuse returns.
type Poller struct {
	_    noCopy
	c    *C.selectpoller
	h    C.uintptr_t // c, for Wait
	wake *waker
	fast fastPoll // Wait's fast path, when descriptors are ready already

	// mu is read-locked by every method for the length of its C call (see
	// acquire), and write-locked by Close, which frees c and sets it to
	// nil: Close waits for the Waits it has woken to leave C, and no call
	// can find c freed.
	mu      sync.RWMutex
	closed  atomic.Bool
	cleanup runtime.Cleanup
}

// pollerC is what the cleanup of a Poller never closed releases.
type pollerC struct {
	c    *C.selectpoller
	wake *waker
}

// NewPoller returns a Poller with nothing registered. Its wake eventfd
// must itself be below FdSetSize: when it is not, NewPoller fails with an
// *FdError wrapping ErrFdRange. Its errors are shaped as errors.go says.
func NewPoller() (*Poller, error) {
	wk, err := newWaker()
	if err != nil {
		return nil, err
	}
	var c *C.selectpoller
	if rc := C.selectpoller_new(C.int(wk.fd), &c); rc != 0 {
		wk.close()
		return nil, allocError(int32(rc))
	}
	p := &Poller{c: c, h: C.uintptr_t(uintptr(unsafe.Pointer(c))), wake: wk}
	p.fast.init(c)
	p.cleanup = runtime.AddCleanup(p, func(r pollerC) {
		C.selectpoller_free(r.c)
		r.wake.close()
	}, pollerC{c, wk})
	return p, nil
}

// Register asks for the events ev on fd, from the next Wait on. Errors
// name fd: ErrFdRange, ErrRegistered (the Poller's own wake descriptor
// included), ErrEvents, ErrPollerClosed.
func (p *Poller) Register(fd int, ev Events) error {
	if err := checkFd("register", fd); err != nil {
		return err
	}
	if !p.acquire() {
		return &FdError{Op: "register", Fd: fd, Err: p.closedErr()}
	}
	defer p.mu.RUnlock()
	return pollerError("register", fd, C.selectpoller_add(p.c, C.int(fd), C.int(ev)))
}

// Modify replaces the events fd is registered for. Errors name fd:
// ErrFdRange, ErrNotRegistered, ErrEvents, ErrPollerClosed.
func (p *Poller) Modify(fd int, ev Events) error {
	if err := checkFd("modify", fd); err != nil {
		return err
	}
	if !p.acquire() {
		return &FdError{Op: "modify", Fd: fd, Err: p.closedErr()}
	}
	defer p.mu.RUnlock()
	return pollerError("modify", fd, C.selectpoller_mod(p.c, C.int(fd), C.int(ev)))
}

// Unregister removes fd. It never touches fd itself, so a descriptor closed
// already is unregistered all the same; but unregister before closing, or a
// Wait fails with EBADF. Errors name fd: ErrFdRange, ErrNotRegistered,
// ErrPollerClosed.
func (p *Poller) Unregister(fd int) error {
	if err := checkFd("unregister", fd); err != nil {
		return err
	}
	if !p.acquire() {
		return &FdError{Op: "unregister", Fd: fd, Err: p.closedErr()}
	}
	defer p.mu.RUnlock()
	return pollerError("unregister", fd, C.selectpoller_del(p.c, C.int(fd)))
}

// Wait waits until a registered descriptor is ready, Wake is called, or the
// timeout passes (0 polls; negative, such as Forever, blocks), and writes
// the ready descriptors to events, in descriptor order, returning how many:
// at most one cgo call, and no allocation. It returns 0 and no error after a
// timeout or a Wake (or, rarely, a context's late wake left over from an
// earlier WaitContext): Wait may return early with nothing ready.
//
// When more descriptors are ready than events has room for, the others are
// reported by the next Wait, which starts where this one stopped (and wraps
// round), so none starves; len(events) must be at least 1.
//
// A signal (EINTR) is retried, in C, with the time that remains
// (selectshim.h's shim_select_retry says why there). A closed
// registered descriptor gives an *FdError naming it and wrapping
// syscall.EBADF (one per bad descriptor); a Wait that Close interrupts
// returns ErrPollerClosed.
func (p *Poller) Wait(events []PollEvent, timeout time.Duration) (n int, err error) {
	if len(events) == 0 {
		return 0, errNoRoom
	}
	if !p.acquire() { // no defer below: this is the hot path, and nothing there panics
		return 0, p.closedErr()
	}
	if n, ok := p.fast.wait(events, timeout); ok { // ready already: no cgo call
		p.mu.RUnlock()
		return n, nil
	}
	// One call, whatever happens: the C side retries EINTR itself.
	rc := C.selectc_poller_wait(p.h, (*C.struct_selectpoller_event)(unsafe.Pointer(&events[0])),
		C.int(min(len(events), 1<<30)), C.int64_t(timeout))
	if rc < 0 {
		err = p.waitError(rc)
		p.mu.RUnlock()
		return 0, err
	}
	p.mu.RUnlock()
	return int(rc), nil
}

// waitError names a failed wait's cause. Under p.mu.
func (p *Poller) waitError(rc C.int) error {
	switch errno := cErrno(int32(rc)); {
	case isBadFd(errno):
		return p.badFds(errno)
	case errno == syscall.ESHUTDOWN:
		return ErrPollerClosed
	default:
		return os.NewSyscallError("select", errno)
	}
}

// acquire read-locks p for a call into its C side and reports true, or
// reports false, with p unlocked, when there is no C side to call: p is
// closed or closing, or NewPoller did not make it. Once acquired, p.c
// stays valid until the caller's RUnlock.
func (p *Poller) acquire() bool {
	if p == nil {
		return false
	}
	p.mu.RLock()
	if p.c == nil || p.closed.Load() {
		p.mu.RUnlock()
		return false
	}
	return true
}

// closedErr is the error for a p that acquire refused: ErrPollerClosed,
// saying so when NewPoller did not make p. p.wake is set by NewPoller
// alone and never cleared, so reading it needs no lock.
func (p *Poller) closedErr() error {
	if p == nil || p.wake == nil {
		return errPollerZero
	}
	return ErrPollerClosed
}

// eintr counts the selects a signal interrupted (and the C side retried).
func (p *Poller) eintr() uint64 {
	if !p.acquire() {
		return 0
	}
	defer p.mu.RUnlock()
	return uint64(C.selectpoller_eintr(p.c))
}

// WaitContext is Wait that ctx can end: when ctx is done before anything is
// ready it returns 0 and ctx.Err(); a ctx done already returns at once
// without waiting. When the wake-up that ctx sent finds descriptors ready
// too, they are reported, with no error, as in SelectContext. The wake is
// the one Wake uses; a ctx that can never be cancelled costs nothing over
// Wait. A nil ctx panics, as in SelectContext.
func (p *Poller) WaitContext(ctx context.Context, events []PollEvent, timeout time.Duration) (n int, err error) {
	if ctx == nil {
		panic("selectc: Poller.WaitContext with a nil context.Context")
	}
	if ctx.Done() == nil {
		return p.Wait(events, timeout)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if p == nil || p.wake == nil { // nothing to arm ctx with; Wait says why
		return p.Wait(events, timeout)
	}
	// Unlike SelectContext's pooled waker, this one is shared with Wake: a
	// signal that arrives after the wait has ended is left for the next
	// Wait (which returns early) rather than drained, or a Wake sent in
	// between would be lost.
	stop := context.AfterFunc(ctx, p.wake.signalFn)
	n, err = p.Wait(events, timeout)
	stop()
	if err == nil && n == 0 && ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return n, err
}

// Wake ends a Wait in progress (one at least, when several run), or the
// next Wait if none is, which then returns 0 and no error. Wakes do not
// queue up: many before a Wait end that one Wait.
func (p *Poller) Wake() error {
	if !p.acquire() {
		return p.closedErr()
	}
	defer p.mu.RUnlock()
	p.wake.signal()
	return nil
}

// Close ends every Wait in progress (each returns ErrPollerClosed), waits
// for them to leave, and releases the Poller's C memory and wake eventfd.
// It does not close the registered descriptors. A second Close returns
// ErrPollerClosed, as does a Close racing with one that won.
func (p *Poller) Close() error {
	if p == nil || p.closed.Swap(true) {
		return p.closedErr()
	}
	// Only the Close that won the swap gets here, and only it writes p.c:
	// reading it needs no lock.
	if p.c == nil {
		return p.closedErr() // NewPoller did not make p: nothing to release
	}
	C.selectpoller_shutdown(p.c) // wakes the Waits, which must leave before c goes
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanup.Stop()
	C.selectpoller_free(p.c)
	p.c = nil
	p.wake.close()
	return nil
}

// badFds names the registered descriptors that select refused with EBADF,
// in the words Select uses. Under p.mu.
func (p *Poller) badFds(errno syscall.Errno) error {
	var fds [FdSetSize]C.int
	n := C.selectpoller_fds(p.c, &fds[0])
	return badFds(fds[:n], errno)
}

// registered returns the descriptors the C registry holds, for tests.
func (p *Poller) registered() []int {
	if !p.acquire() {
		return nil
	}
	defer p.mu.RUnlock()
	var fds [FdSetSize]C.int
	n := C.selectpoller_fds(p.c, &fds[0])
	out := make([]int, n)
	for i := range out {
		out[i] = int(fds[i])
	}
	return out
}

// pollerError turns a -errno of the C registry into an error naming op and fd.
func pollerError(op string, fd int, rc C.int) error {
	return registryError(op, fd, int32(rc), ErrPollerClosed)
}
