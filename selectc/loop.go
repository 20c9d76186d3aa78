//go:build linux || windows

package selectc

/*
#include "selectloop.h"
#include "selectshim.h"
#include "selectwake.h"

extern int selectcLoopDispatch(void *handle, int fd, int ev);
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Events is a set of readiness conditions: what a Handler is registered for,
// and what it is told is ready.
type Events uint8

// The conditions select(2) reports, one per fd_set.
const (
	Read   Events = 1 << iota // readable, or EOF, or a pending accept
	Write                     // writable
	Except                    // exceptional condition: TCP urgent data

	allEvents = Read | Write | Except
)

// The C loop speaks selectshim's SHIM_READ, SHIM_WRITE and SHIM_EXCEPT: these
// fail to compile if Events ever drifts from them.
var (
	_ [Read - C.SHIM_READ + Write - C.SHIM_WRITE + Except - C.SHIM_EXCEPT]struct{}
	_ [C.SHIM_READ - Read + C.SHIM_WRITE - Write + C.SHIM_EXCEPT - Except]struct{}
)

// String returns the set as "read|write|except"; "0" when empty.
func (ev Events) String() string {
	if ev == 0 {
		return "0"
	}
	var names []string
	for i, name := range [...]string{"read", "write", "except"} {
		if ev&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if rest := ev &^ allEvents; rest != 0 {
		names = append(names, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return strings.Join(names, "|")
}

// Handler is told, on the loop's thread, that fd is ready for ev: a non-empty
// subset of the events it is registered for, all of them in one call.
type Handler interface {
	Ready(fd int, ev Events)
}

// errLoopZero is ErrLoopClosed for a Loop that NewLoop did not make.
var errLoopZero = fmt.Errorf("%w (a zero or nil Loop: make one with NewLoop)", ErrLoopClosed)

// Errors of the Loop, wrapped in an *FdError naming the fd where there is one.
var (
	ErrRegistered    = errors.New("fd already registered")
	ErrNotRegistered = errors.New("fd not registered")
	ErrEvents        = errors.New("events empty or unknown (want Read, Write, Except or a union)")
	ErrNilHandler    = errors.New("nil handler")
	ErrLoopClosed    = fmt.Errorf("loop %w", ErrClosed) // wraps ErrClosed
	ErrLoopRunning   = errors.New("loop running")
)

// Loop is an event loop in C around select(2), in the design of redis's
// ae_select.c: the C side owns master fd_sets and, per descriptor, the
// interest and an opaque handle; each iteration copies the masters into
// scratch sets, calls select once, and calls back into Go once per ready
// descriptor. Handlers cross into C as handles of github.com/mattn/go-pointer,
// since C may not keep a Go pointer.
//
// Run is one cgo call for its whole life, with one C-to-Go callback per
// dispatched event; compare Select, which crosses from Go into C once per
// select.
//
// Register, Modify and Unregister are safe from any goroutine. From inside
// Ready they act at once: a descriptor unregistered, or registered anew,
// while the loop dispatches is not handed the readiness select found for it
// in that iteration (that readiness may belong to a file that had the number
// before), and only events still in its interest are passed on. From other
// goroutines they wait for the current round of dispatch to end and wake the
// loop so that its next select sees them.
//
// Ready runs with the loop's registry locked. It may call the Loop's methods
// itself, but must not wait for another goroutine that calls them, and must
// not call runtime.Goexit (t.FailNow): that would unwind through C. A panic
// in Ready stops the loop and is raised again by Run as a *HandlerPanic,
// which carries the handler's own stack.
//
// The Loop never closes a registered descriptor: its owner Unregisters it
// first, then closes it. Unregister gives the handle back to go-pointer at
// once, so a descriptor number and handle address reused by the next
// connection can never reach the previous connection's handler.
//
// A Loop dropped without Close is closed when the garbage collector finds
// it unreachable: its eventfd and handles are released then. Handlers that
// refer back to their Loop keep it reachable through its registrations, so
// such a Loop is released only by Close.
//
// A Loop must not be copied (go vet says so). The zero value and a nil
// *Loop act as a Loop already closed; the package doc says what every
// misuse returns.
type Loop struct {
	_       noCopy
	c       *C.selectloop // set by NewLoop alone, never cleared: no lock needed to read it
	running atomic.Bool   // one Run at a time, so a stop reaches only its own Run
	*loopState
}

// loopState is what a Loop's registrations share with it. It holds nothing
// that leads back to the Loop, so the registrations, which go-pointer keeps
// in a global table, never keep a forgotten Loop alive.
type loopState struct {
	handles  atomic.Int64  // handles saved for this loop and not yet Unref'd
	panicked *HandlerPanic // set on the loop's goroutine during Run
}

// NewLoop returns a Loop with no descriptors registered. Its wake eventfd
// must itself be below FdSetSize: when it is not, NewLoop fails with an
// *FdError wrapping ErrFdRange. Its errors are shaped as errors.go says.
func NewLoop() (*Loop, error) {
	fd, err := openWake()
	if err != nil {
		return nil, err
	}
	var c *C.selectloop
	if rc := C.selectloop_new(C.int(fd), &c); rc != 0 { // from here on the C loop owns fd
		C.selectwake_close(C.int(fd))
		return nil, allocError(int32(rc))
	}
	l := &Loop{c: c, loopState: &loopState{}}
	// Close cannot free the C side: a late call on a closed Loop must still
	// find it, and be told ErrLoopClosed. So the C side goes with the Loop,
	// and every method keeps l alive until its C call has returned. An
	// unreachable Loop is not running (Run holds it), so the close succeeds
	// unless Close came first; the handles still registered go back then.
	runtime.AddCleanup(l, func(st cleanupState) {
		C.selectloop_close(st.c)
		st.unrefAll(st.c)
		C.selectloop_free(st.c)
	}, cleanupState{c, l.loopState})
	return l, nil
}

// Register asks for the events ev on fd, to be handled by h. Errors name fd:
// ErrFdRange, ErrRegistered, ErrEvents, ErrNilHandler, ErrLoopClosed.
func (l *Loop) Register(fd int, ev Events, h Handler) error {
	if err := checkFd("register", fd); err != nil {
		return err
	}
	if h == nil {
		return &FdError{Op: "register", Fd: fd, Err: ErrNilHandler}
	}
	if l.zero() {
		return &FdError{Op: "register", Fd: fd, Err: errLoopZero}
	}
	defer runtime.KeepAlive(l) // see NewLoop's cleanup
	p := l.save(h)
	if rc := C.selectloop_add(l.c, C.int(fd), C.int(ev), p); rc != 0 {
		l.unref(p)
		return loopError("register", fd, rc)
	}
	return nil
}

// Modify replaces the events fd is registered for; its handler stays. Errors
// name fd: ErrFdRange, ErrNotRegistered, ErrEvents, ErrLoopClosed.
func (l *Loop) Modify(fd int, ev Events) error {
	if err := checkFd("modify", fd); err != nil {
		return err
	}
	if l.zero() {
		return &FdError{Op: "modify", Fd: fd, Err: errLoopZero}
	}
	defer runtime.KeepAlive(l)
	return loopError("modify", fd, C.selectloop_mod(l.c, C.int(fd), C.int(ev)))
}

// Unregister removes fd and releases its handle. It never touches fd itself,
// so a descriptor already closed is unregistered all the same; call it before
// closing fd, though, or a running loop ends on EBADF. Errors name fd:
// ErrFdRange, ErrNotRegistered (a second Unregister included), ErrLoopClosed.
func (l *Loop) Unregister(fd int) error {
	if err := checkFd("unregister", fd); err != nil {
		return err
	}
	if l.zero() {
		return &FdError{Op: "unregister", Fd: fd, Err: errLoopZero}
	}
	defer runtime.KeepAlive(l)
	var h unsafe.Pointer
	if rc := C.selectloop_del(l.c, C.int(fd), &h); rc != 0 {
		return loopError("unregister", fd, rc)
	}
	// The C registry gave up the handle under its lock, so this is the one
	// and only Unref for it.
	l.unref(h)
	return nil
}

// Run dispatches events on a locked OS thread until ctx is done, and returns
// nil then (at once if ctx is done already). Cancelling ctx wakes a sleeping
// loop through its eventfd. Any select error but EINTR, which is retried,
// ends Run: for EBADF an *FdError naming each closed descriptor that was
// still registered, as Select gives. Run returns ErrLoopRunning if the loop
// is running already and ErrLoopClosed after Close; a panic in a Handler is
// raised again here, after the loop has stopped.
func (l *Loop) Run(ctx context.Context) error {
	if l.zero() {
		return errLoopZero
	}
	if !l.running.CompareAndSwap(false, true) {
		return ErrLoopRunning
	}
	defer l.running.Store(false)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	if ctx.Err() != nil {
		C.selectloop_stop(l.c) // consumed by the C loop before it selects
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.selectloop_stop(l.c)
		close(fired)
	})
	rc := C.selectloop_run(l.c, C.selectloop_dispatch_fn(C.selectcLoopDispatch))
	if !stop() {
		<-fired // its stop request must not outlive this Run
	}
	C.selectloop_clear_stop(l.c)

	switch errno := cErrno(int32(rc)); {
	case rc == 0:
		return nil
	case rc == C.SELECTLOOP_ABORTED:
		p := l.panicked
		l.panicked = nil
		if p == nil {
			return errors.New("run: the loop dispatched a handle go-pointer does not hold")
		}
		panic(p)
	case isBadFd(errno):
		return l.badFds(errno)
	case errno == syscall.EBUSY:
		return ErrLoopRunning
	case errno == syscall.ESHUTDOWN:
		return ErrLoopClosed
	}
	return os.NewSyscallError("select", cErrno(int32(rc)))
}

// Close releases every handle still registered and the loop's eventfd. It
// does not close the registered descriptors. Close fails with ErrLoopRunning
// while Run runs, and with ErrLoopClosed the second time.
func (l *Loop) Close() error {
	if l.zero() {
		return errLoopZero
	}
	defer runtime.KeepAlive(l)
	if rc := C.selectloop_close(l.c); rc != 0 {
		return loopError("close", -1, rc)
	}
	l.unrefAll(l.c)
	return nil
}

// zero reports whether NewLoop did not make l (the zero value, or nil):
// such a Loop has no C side, and acts as one closed.
func (l *Loop) zero() bool { return l == nil || l.c == nil }

// cleanupState is what a Loop's cleanup needs: never the Loop itself.
type cleanupState struct {
	c *C.selectloop
	*loopState
}

// unrefAll gives back every handle still in the closed registry c.
func (st *loopState) unrefAll(c *C.selectloop) {
	var h unsafe.Pointer
	for C.selectloop_pop(c, &h) == 0 {
		st.unref(h)
	}
}

// badFds names the registered descriptors that select refused with EBADF,
// in the words Select uses.
func (l *Loop) badFds(errno syscall.Errno) error {
	var fds [FdSetSize]C.int
	n := C.selectloop_fds(l.c, &fds[0])
	return badFds(fds[:n], errno)
}

// loopError turns a -errno of the C registry into an error naming op and fd;
// fd < 0 means the error is the loop's, not a descriptor's.
func loopError(op string, fd int, rc C.int) error {
	return registryError(op, fd, int32(rc), ErrLoopClosed)
}

// loopStats are the C loop's counters, for tests and benchmarks.
type loopStats struct {
	iterations, dispatches, eintr uint64
}

func (l *Loop) stats() loopStats {
	if l.zero() {
		return loopStats{}
	}
	defer runtime.KeepAlive(l)
	s := C.selectloop_get_stats(l.c)
	return loopStats{uint64(s.iterations), uint64(s.dispatches), uint64(s.eintr)}
}

// registered returns the descriptors the C registry holds, for tests to
// compare against the handles Go holds.
func (l *Loop) registered() []int {
	if l.zero() {
		return nil
	}
	var fds [FdSetSize]C.int
	n := C.selectloop_fds(l.c, &fds[0])
	runtime.KeepAlive(l)
	out := make([]int, n)
	for i := range out {
		out[i] = int(fds[i])
	}
	return out
}
