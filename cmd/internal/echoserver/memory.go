package echoserver

import (
	"runtime/debug"
	"sync"
)

// releaseDrop is how far the bytes queued by all connections together must
// fall below their peak before the server hands memory back to the system.
const releaseDrop = 16 << 20

// The Go runtime returns freed heap memory to the system only slowly: the
// garbage must be collected first (a collection comes when the heap grows
// again, or after two minutes) and the background scavenger then gives back
// a little at a time. After a burst of clients that filled their queues and
// left, a select server would keep hundreds of megabytes for minutes. So
// the servers follow one rule (README, "The servers"): when the bytes queued
// across all connections fall releaseDrop below their peak, memory goes
// back at once; here a goroutine runs debug.FreeOSMemory (a collection,
// then everything free is returned), so the loop never waits for it. A
// server streaming to a slow reader moves bytes through its queues without
// a large drop, and pays nothing.
var mem struct {
	sync.Mutex
	queued, peak int  // bytes queued now, and the most since the last release
	releasing    bool // a release goroutine is running
}

// queued records n bytes added to some queue.
func queued(n int) {
	mem.Lock()
	mem.queued += n
	mem.peak = max(mem.peak, mem.queued)
	mem.Unlock()
}

// dequeued records n bytes gone from some queue (sent or dropped), and
// starts a release when the total fell far enough below its peak.
func dequeued(n int) {
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
