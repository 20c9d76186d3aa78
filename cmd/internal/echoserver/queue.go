package echoserver

import "sync"

// chunkSize is the unit a queue grows and shrinks by: one read's worth.
const chunkSize = ReadSize

// spareChunks bounds the chunks kept for reuse (4 MiB). Chunks that cycle
// through the queues of busy connections are reused rather than left to
// the collector, which would let the heap grow to twice what is queued
// before it collects (GOGC=100); more than this many at once came from a
// burst, and go back to the system (see memory.go).
const spareChunks = 64

var spare struct {
	sync.Mutex
	chunks [][]byte
}

// newChunk returns an empty chunk, reused when one is spare.
func newChunk() []byte {
	spare.Lock()
	defer spare.Unlock()
	if n := len(spare.chunks); n > 0 {
		c := spare.chunks[n-1]
		spare.chunks[n-1] = nil
		spare.chunks = spare.chunks[:n-1]
		return c
	}
	return make([]byte, 0, chunkSize)
}

// freeChunk keeps c for reuse if there is room, or lets it go.
func freeChunk(c []byte) {
	spare.Lock()
	if len(spare.chunks) < spareChunks {
		spare.chunks = append(spare.chunks, c[:0])
	}
	spare.Unlock()
}

// queue is a connection's echo not yet sent, in chunks of chunkSize. A
// queue that grows to MaxPending never copies what it holds and leaves no
// old copies behind for the collector, as one appended slice would (its
// peak is close to twice its contents); a chunk that has been sent is let
// go of at once, so a slow client that catches up holds nothing.
type queue struct {
	chunks [][]byte // each chunk[0:len], oldest first
	head   int      // bytes of chunks[0] already sent
	n      int      // bytes waiting
}

// push appends p, filling the last chunk before starting a new one.
func (q *queue) push(p []byte) {
	if len(p) == 0 {
		return
	}
	q.n += len(p)
	Acquire(len(p))
	for len(p) > 0 {
		last := len(q.chunks) - 1
		if last < 0 || len(q.chunks[last]) == chunkSize {
			q.chunks = append(q.chunks, newChunk())
			last++
		}
		c := q.chunks[last]
		k := min(len(p), chunkSize-len(c))
		q.chunks[last] = append(c, p[:k]...)
		p = p[k:]
	}
}

// front returns the oldest bytes waiting: the rest of the first chunk.
func (q *queue) front() []byte {
	if len(q.chunks) == 0 {
		return nil
	}
	return q.chunks[0][q.head:]
}

// advance drops n sent bytes from the front; n is at most len(front()).
func (q *queue) advance(n int) {
	if n == 0 {
		return
	}
	q.head += n
	q.n -= n
	Release(n)
	if q.head == len(q.chunks[0]) {
		freeChunk(q.chunks[0])
		q.chunks[0] = nil
		q.chunks = q.chunks[1:]
		q.head = 0
		if len(q.chunks) == 0 {
			q.chunks = nil // do not keep the spine's array for an idle connection
		}
	}
}

// reset drops everything, as when the connection closes.
func (q *queue) reset() {
	for _, c := range q.chunks {
		freeChunk(c)
	}
	Release(q.n)
	*q = queue{}
}
