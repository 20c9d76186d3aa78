package echoserver

import (
	"runtime/debug"
	"sync/atomic"
)

// releaseAfter is how many bytes of dropped queues make the server hand
// memory back to the operating system at once.
const releaseAfter = 16 << 20

// The Go runtime returns freed heap memory to the system only slowly: the
// garbage has to be collected first (a collection comes when the heap grows
// again, or after two minutes), and then the background scavenger gives
// back a little at a time. After a burst of clients that filled their
// queues and left, a select server would keep hundreds of megabytes it no
// longer uses for minutes. So the server counts the queue memory it drops,
// and once that reaches releaseAfter, a goroutine runs debug.FreeOSMemory
// (a collection, then everything free goes back), again and again while
// more has been dropped meanwhile. The loop itself never waits for it.
var (
	dropped   atomic.Int64 // queue bytes dropped since the last release began
	releasing atomic.Bool  // a release goroutine is running
)

// freed records n bytes of queue memory dropped, and starts a release when
// enough has been.
func freed(n int) {
	if dropped.Add(int64(n)) >= releaseAfter && releasing.CompareAndSwap(false, true) {
		go release()
	}
}

// release gives freed memory back until less than releaseAfter has been
// dropped since it last began.
func release() {
	for {
		dropped.Store(0)
		debug.FreeOSMemory()
		releasing.Store(false)
		if dropped.Load() < releaseAfter || !releasing.CompareAndSwap(false, true) {
			return
		}
	}
}
