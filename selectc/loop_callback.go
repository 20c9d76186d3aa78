package selectc

import "C"

import (
	"sync/atomic"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// registration is what a handle stands for: the handler, and the loop that
// must hear of its panic.
type registration struct {
	loop *Loop
	h    Handler
}

// liveHandles counts the handles of every Loop saved with pointer.Save and
// not yet Unref'd; the leak tests expect it back at zero after Close.
var liveHandles atomic.Int64

// save gives h a handle C may keep: a malloc'd address go-pointer maps back
// to the registration.
func (l *Loop) save(h Handler) unsafe.Pointer {
	liveHandles.Add(1)
	l.handles.Add(1)
	return pointer.Save(&registration{loop: l, h: h})
}

// unref releases a handle the C registry has given up. It is called exactly
// once per handle: only the one caller that took it out of the registry, or
// that failed to put it in, holds it.
func (l *Loop) unref(p unsafe.Pointer) {
	pointer.Unref(p)
	l.handles.Add(-1)
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
			reg.loop.panicV = p
			stop = 1
		}
	}()
	reg.h.Ready(int(fd), Events(ev))
	return 0
}
