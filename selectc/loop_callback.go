//go:build linux || windows

package selectc

import "C"

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// registration is what a handle stands for: the handler, and the state of
// the loop that must hear of its panic.
type registration struct {
	loop *loopState
	h    Handler
}

// HandlerPanic is what Loop.Run panics with when a Handler's Ready
// panicked. Run can raise the panic only after the C loop has unwound, by
// which time the handler's frames are gone from the stack; HandlerPanic
// keeps them, and its Error, which a crash report prints, shows them.
type HandlerPanic struct {
	Fd    int    // the descriptor whose handler panicked
	Value any    // what the handler panicked with
	Stack []byte // the handler's goroutine stack at the panic
}

// Error names the descriptor and the value, followed by the handler's stack.
func (p *HandlerPanic) Error() string {
	return fmt.Sprintf("selectc: Handler.Ready for fd %d panicked: %v\n\nthe handler's stack:\n%s", p.Fd, p.Value, p.Stack)
}

// Unwrap returns the handler's panic value when it is an error.
func (p *HandlerPanic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// liveHandles counts the handles of every Loop saved with pointer.Save and
// not yet Unref'd; the leak tests expect it back at zero after Close.
var liveHandles atomic.Int64

// save gives h a handle C may keep: a malloc'd address go-pointer maps back
// to the registration.
func (st *loopState) save(h Handler) unsafe.Pointer {
	liveHandles.Add(1)
	st.handles.Add(1)
	return pointer.Save(&registration{loop: st, h: h})
}

// unref releases a handle the C registry has given up. It is called exactly
// once per handle: only the one caller that took it out of the registry, or
// that failed to put it in, holds it.
func (st *loopState) unref(p unsafe.Pointer) {
	pointer.Unref(p)
	st.handles.Add(-1)
	liveHandles.Add(-1)
}

// selectcLoopDispatch is the C loop's one way back into Go: it restores the
// registration behind handle and tells its handler that fd is ready for ev.
// A non-zero result stops the C loop: the handler panicked (Run raises the
// panic again once C has unwound cleanly), or the handle is unknown, which
// would be a bug in the registry.
//
//export selectcLoopDispatch
func selectcLoopDispatch(handle unsafe.Pointer, fd, ev C.int) (stop C.int) {
	reg, ok := pointer.Restore(handle).(*registration)
	if !ok {
		return 1
	}
	// A panic must not unwind through the C frames: they hold the
	// registry's lock.
	defer func() {
		if p := recover(); p != nil {
			reg.loop.panicked = &HandlerPanic{Fd: int(fd), Value: p, Stack: debug.Stack()}
			stop = 1
		}
	}()
	reg.h.Ready(int(fd), Events(ev))
	return 0
}
