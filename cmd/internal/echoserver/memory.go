package echoserver

import (
	"runtime/debug"
	"sync"
)

// releaseDrop is how far the bytes held for all connections together must
// fall below their peak before the server hands memory back to the system.
const releaseDrop = 16 << 20

// The Go runtime returns freed heap memory to the system only slowly: the
// garbage must be collected first (a collection comes when the heap grows
// again, or after two minutes) and the background scavenger then gives back
// a little at a time. After a burst of clients that filled their queues and
// left, a server would keep hundreds of megabytes for minutes. So the
// servers follow one rule (README, "The servers"): when the bytes held for
// connections (queues here, read buffers in cmd/echo-go's net server) fall
// releaseDrop below their peak, memory goes back at once; here a goroutine
// runs debug.FreeOSMemory (a collection, then everything free is returned),
// so no connection waits for it. A server streaming to a slow reader moves
// bytes through its queues without a large drop, and pays nothing.
var mem struct {
	sync.Mutex
	queued, peak int  // bytes held now, and the most since the last release
	releasing    bool // a release goroutine is running
}

// Acquire records n bytes held for a connection.
func Acquire(n int) {
	mem.Lock()
	mem.queued += n
	mem.peak = max(mem.peak, mem.queued)
	mem.Unlock()
}

// Release records n bytes a connection no longer holds, and starts handing
// memory back to the system when the total fell far enough below its peak.
func Release(n int) {
	if n == 0 {
		return
	}
	mem.Lock()
	mem.queued -= n
	start := !mem.releasing && mem.peak-mem.queued >= releaseDrop
	if start {
		mem.releasing, mem.peak = true, mem.queued
	}
	mem.Unlock()
	if start {
		go release()
	}
}

// release gives free memory back, and again while the queues went on
// falling meanwhile.
func release() {
	for {
		debug.FreeOSMemory()
		mem.Lock()
		again := mem.peak-mem.queued >= releaseDrop
		mem.peak = mem.queued
		mem.releasing = again
		mem.Unlock()
		if !again {
			return
		}
	}
}
