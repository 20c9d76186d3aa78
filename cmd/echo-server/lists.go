package main

import (
	"time"
	"unsafe"

	"github.com/selectc/selectc/cmd/internal/echoserver"
	"github.com/selectc/selectc/selectc"
)

// fdLists is echoserver.ListSelector on selectc.Selector[selectc.FD].
// echoserver keeps its own FD type so that it builds without cgo; both are
// ints, so the lists are reinterpreted in place, not copied, and selectc
// takes its path for plain descriptors (no method call per element).
type fdLists struct {
	sel selectc.Selector[selectc.FD]
}

// The two types must stay the same size for the reinterpretation.
var _ [unsafe.Sizeof(echoserver.FD(0)) - unsafe.Sizeof(selectc.FD(0))]struct{}

func (l *fdLists) Select(rlist, wlist, xlist []echoserver.FD, timeout time.Duration) (r, w, x []echoserver.FD, err error) {
	rs, ws, xs, err := l.sel.Select(as[selectc.FD](rlist), as[selectc.FD](wlist), as[selectc.FD](xlist), timeout)
	return as[echoserver.FD](rs), as[echoserver.FD](ws), as[echoserver.FD](xs), err
}

// as reinterprets a list of one FD type as the other.
func as[To, From ~int](list []From) []To {
	return unsafe.Slice((*To)(unsafe.Pointer(unsafe.SliceData(list))), len(list))
}

// wantEvents is what a connection asks to be watched for, in the terms of
// Loop and Poller: reading and urgent data (the select mode's inputs, which
// it passes as the xlist too) unless its queue is full or the client has
// finished sending, and writing while echo is queued.
func wantEvents(c *echoserver.Conn) selectc.Events {
	var ev selectc.Events
	if c.WantRead() {
		ev |= selectc.Read | selectc.Except
	}
	if c.WantWrite() {
		ev |= selectc.Write
	}
	return ev
}
