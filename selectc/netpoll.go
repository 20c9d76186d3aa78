//go:build cgo && linux

package selectc

import "time"

// init makes the Go runtime open its network poller (an epoll descriptor and
// an eventfd) now, while descriptors are plentiful. The runtime opens it
// lazily, the first time any timer is armed, and treats a failure as fatal
// ("runtime: netpollinit failed"). A program that waits in select(2) may
// arm its first timer long after start-up (the GC's background scavenger
// going to sleep is enough), and a select server is exactly the program
// whose descriptor table is full at that moment. Arming and stopping one
// timer costs two descriptors once, and nothing after.
func init() {
	time.AfterFunc(time.Hour, func() {}).Stop()
}
