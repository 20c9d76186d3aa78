//go:build linux

package selectc

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// A Loop dropped without Close while descriptors are registered gives back
// its eventfd and its handles once the collector finds it.
func TestLoopDroppedWithoutCloseIsReleased(t *testing.T) {
	const loops = 100
	p := newPipe(t)
	eventfds := func() int { return countFdLinks(t, "anon_inode:[eventfd]") }
	runtime.GC()
	beforeFds, beforeHandles := eventfds(), liveHandles.Load()
	func() {
		for range loops {
			l, err := NewLoop()
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Register(p.r, Read, handlerFunc(func(int, Events) {})); err != nil {
				t.Fatal(err)
			}
		}
	}()
	if got := eventfds() - beforeFds; got != loops {
		t.Fatalf("%d new eventfds for %d loops", got, loops)
	}
	deadline := time.Now().Add(10 * time.Second)
	for eventfds() > beforeFds || liveHandles.Load() > beforeHandles {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after dropping %d loops: %d eventfds and %d handles still held",
				loops, eventfds()-beforeFds, liveHandles.Load()-beforeHandles)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// countFdLinks counts the process's descriptors whose /proc link is target.
func countFdLinks(t testing.TB, target string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && link == target {
			n++
		}
	}
	return n
}
