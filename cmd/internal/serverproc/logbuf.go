package serverproc

import (
	"fmt"
	"sync"
)

// logKeep bounds the memory one server's captured log may take: the first
// and the last logKeep bytes are kept, so both the start-up lines and the
// most recent ones survive a chatty -v run.
const logKeep = 2 << 20

// logBuffer is a concurrency-safe writer that keeps the head and the tail
// of what was written to it.
type logBuffer struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte // ring of at most logKeep bytes once head is full
	start   int    // index of the oldest byte in tail once it wrapped
	dropped int64  // bytes that fell out between head and tail
}

// Write stores p; it never fails, so a server is never blocked on its stderr.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if room := logKeep - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		if len(b.tail) < logKeep {
			k := min(logKeep-len(b.tail), len(p))
			b.tail = append(b.tail, p[:k]...)
			p = p[k:]
			continue
		}
		k := copy(b.tail[b.start:], p)
		b.dropped += int64(k)
		b.start = (b.start + k) % logKeep
		p = p[k:]
	}
	return n, nil
}

// String returns the head, a marker for what was dropped, and the tail.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := string(b.head)
	if b.dropped > 0 {
		s += fmt.Sprintf("\n[... %d bytes dropped ...]\n", b.dropped)
	}
	return s + string(b.tail[b.start:]) + string(b.tail[:b.start])
}
