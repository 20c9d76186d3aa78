package echoserver

import (
	"bytes"
	"testing"
	"time"
)

// The queue gives back exactly what was pushed, in order, across chunk
// boundaries and partial sends.
func TestQueueOrderAcrossChunks(t *testing.T) {
	var q queue
	var want []byte
	for i, n := range []int{1, chunkSize - 1, 1, chunkSize + 7, 3 * chunkSize, 5} {
		p := bytes.Repeat([]byte{byte(i + 1)}, n)
		q.push(p)
		want = append(want, p...)
	}
	if q.n != len(want) {
		t.Fatalf("n = %d, want %d", q.n, len(want))
	}
	var got []byte
	for step := 1; q.n > 0; step = step*3 + 1 {
		f := q.front()
		k := min(len(f), step%chunkSize+1)
		got = append(got, f[:k]...)
		q.advance(k)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes back, want the %d pushed in order", len(got), len(want))
	}
	if q.chunks != nil || q.head != 0 || q.front() != nil {
		t.Fatalf("drained queue still holds %d chunks (head %d)", len(q.chunks), q.head)
	}
}

// Memory goes back after the queues fall releaseDrop below their peak, and
// not while bytes only stream through them.
func TestReleaseAfterDropFromPeak(t *testing.T) {
	mem.Lock()
	saved := mem.queued
	mem.queued, mem.peak = 0, 0
	mem.Unlock()
	defer func() { mem.Lock(); mem.queued, mem.peak = saved, saved; mem.Unlock() }()

	started := func() bool { mem.Lock(); defer mem.Unlock(); return mem.releasing || mem.peak == mem.queued }
	// Streaming: up and down by less than releaseDrop, many times.
	for range 100 {
		Acquire(releaseDrop / 2)
		Release(releaseDrop / 2)
	}
	mem.Lock()
	peak, releasing := mem.peak, mem.releasing
	mem.Unlock()
	if releasing || peak != releaseDrop/2 {
		t.Fatalf("streaming through the queues: releasing %v, peak %d; want no release", releasing, peak)
	}
	// A burst that leaves: the drop from the peak starts a release.
	Acquire(3 * releaseDrop)
	Release(releaseDrop + 1)
	if !started() {
		t.Fatal("no release after the queues fell more than releaseDrop below their peak")
	}
	waitReleased(t)
}

func waitReleased(t *testing.T) {
	t.Helper()
	for range 1000 {
		mem.Lock()
		r := mem.releasing
		mem.Unlock()
		if !r {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("release never finished")
}
