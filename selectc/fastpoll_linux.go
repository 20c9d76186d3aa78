//go:build linux

package selectc

/*
#include "selectpoller.h"
#include "selectregistry.h"
*/
import "C"

import (
	mathbits "math/bits" // fdset_test.go has a bits of its own
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/selectc/selectc/internal/rawselect"
)

// The Poller's fast path: when descriptors are ready already, Wait answers
// with a zero-timeout select made from Go as a raw system call
// (rawselect.Poll), on a copy of the sets the C registry holds, and so
// skips the scheduler's handshake that a cgo call into a system call pays
// (the README's "The floor"). Only a wait that has to sleep crosses into
// C, whose select may block. The fast path does what selectpoller_wait
// does, step for step (selectpoller_fastpath): the same copy, under its
// lock; the wake descriptor left out of a poll and drained when it fired;
// the same interest and epoch test per descriptor; the same cap and
// round-robin resume through next_fd. One step it spares when it can: when
// the registry's gen is as the copy found it, nothing was registered,
// modified or removed meanwhile, so every ready bit is one the registry
// still wants, and the scan takes neither the lock again nor the test
// (selectregistry_changed). It never decides a failure: any error, and a
// poller shut down, go to the C path, which reports them.
//
// Poller.Wait's one hook is fastPoll.wait; a platform without a fast path
// has a wait that always answers false.

// fastpoll reads the C registry's fd_sets as rawselect.Sets and its words
// as uints: these fail to compile if the layouts differ.
var (
	_ [unsafe.Sizeof(rawselect.Set{}) - C.sizeof_fd_set]struct{}
	_ [C.sizeof_fd_set - unsafe.Sizeof(rawselect.Set{})]struct{}
	_ [unsafe.Sizeof(uint(0)) - unsafe.Sizeof(C.selectregistry_word(0))]struct{}
	_ [unsafe.Sizeof(C.selectregistry_word(0)) - unsafe.Sizeof(uint(0))]struct{}
	_ [rawselect.Size - FdSetSize]struct{}
	_ [FdSetSize - rawselect.Size]struct{}
)

// fastMode says when a Wait tries the fast path; tests force either path.
type fastMode uint8

const (
	fastAuto  fastMode = iota // a poll always; a wait with a timeout as backoff says
	fastNever                 // the C path alone
	fastFirst                 // every wait tries the fast path first
)

// maxBackoff bounds how many waits with a timeout go straight to C after
// the fast path found nothing ready: a server whose every wait sleeps (one
// connection, ping-pong) pays one extra poll in maxBackoff+1 waits, and a
// server that turns busy finds the fast path again within that many.
const maxBackoff = 1023

// testHookFastPolled, when set, runs between the fast path's select and
// its scan: where a Register, Modify or Unregister from another goroutine
// makes the copy stale. Tests set it; nil otherwise.
var testHookFastPolled func()

// fastPoll is a Poller's fast path: where its C state is, and the backoff.
type fastPoll struct {
	lock   *int32 // selectpoller's spinlock
	reg    *C.struct_selectregistry
	gen    *uint64 // &reg.gen, read atomically without the lock
	nextFd *int32  // selectpoller's next_fd, a relaxed atomic in C
	mode   fastMode

	// After a miss (nothing ready), the next skip waits with a timeout go
	// straight to C; each miss doubles the skip, up to maxBackoff, and a
	// hit halves it: a wait that now and then finds something ready, as
	// in a ping-pong on a busy machine, does not undo the backoff, and a
	// server that turns busy is back on the fast path within
	// 2*maxBackoff waits. Waits may run concurrently: the counters are
	// only advice, so plain atomic loads and stores do.
	skip, backoff atomic.Uint32

	wide atomic.Bool // the registry's sets span more than one word (see poll)
}

// init points f at the C poller p.
func (f *fastPoll) init(p *C.selectpoller) {
	var v C.struct_selectpoller_fastpath
	C.selectpoller_fastpath(p, &v)
	f.lock = (*int32)(unsafe.Pointer(v.lock))
	f.reg = v.reg
	f.gen = (*uint64)(unsafe.Pointer(&v.reg.gen))
	f.nextFd = (*int32)(unsafe.Pointer(v.next_fd))
	if uintptr(unsafe.Pointer(f.gen))%8 != 0 { // 64-bit atomics need it (32-bit ARM); C aligns it so
		f.mode = fastNever
	}
}

// wait is Poller.Wait's fast path. It reports ok and the ready count when
// it has answered the wait; otherwise the caller makes the C call.
func (f *fastPoll) wait(events []PollEvent, timeout time.Duration) (n int, ok bool) {
	if f.mode == fastNever {
		return 0, false
	}
	if timeout == 0 { // a poll: the C path could do no more
		return f.poll(events, false)
	}
	if f.mode == fastAuto {
		if s := f.skip.Load(); s > 0 {
			f.skip.Store(s - 1)
			return 0, false
		}
	}
	n, ok = f.poll(events, true)
	b := f.backoff.Load() / 2
	if !ok {
		b = min(2*f.backoff.Load()+1, maxBackoff)
	}
	f.backoff.Store(b)
	f.skip.Store(b)
	return n, ok
}

// acquire takes selectpoller's spinlock, yielding while C or another Wait
// holds it (for a copy or a scan, never across a system call).
func (f *fastPoll) acquire() {
	for !atomic.CompareAndSwapInt32(f.lock, 0, 1) {
		for atomic.LoadInt32(f.lock) != 0 {
			runtime.Gosched()
		}
	}
}

func (f *fastPoll) release() { atomic.StoreInt32(f.lock, 0) }

// poll is selectpoller_wait with a zero timeout, made from Go. withWake
// keeps the wake descriptor in the read set, as a wait with a timeout
// does: a Wake then ends it (n = 0, ok). Without it (a poll), nothing
// ready is an answer; with it, it is not (the wait must sleep in C).
//
// The kernel reads and writes only the words of each set up to nfds, so
// the scratch sets are as long as the copy: one word each while every
// descriptor sits below a word's width (most servers' first 64), which
// spares zeroing and copying 3 × 128 bytes per call. wide says which to
// use, from the last call; a registry that outgrew it sends this call to
// C and the next one wide.
func (f *fastPoll) poll(events []PollEvent, withWake bool) (n int, ok bool) {
	if !f.wide.Load() {
		var s [3][1]uint
		return f.pollWords(s[0][:], s[1][:], s[2][:], events, withWake)
	}
	var s [3]rawselect.Set
	return f.pollWords(s[0][:], s[1][:], s[2][:], events, withWake)
}

// pollWords is poll on scratch sets r, w and x, of equal length.
func (f *fastPoll) pollWords(r, w, x []uint, events []PollEvent, withWake bool) (n int, ok bool) {
	reg := f.reg
	f.acquire()
	nw := int(reg.maxfd)/rawselect.WordBits + 1 // selectregistry_copy's words
	if reg.closed != 0 || nw > len(r) {
		f.release()
		f.wide.Store(nw > 1)
		return 0, false
	}
	master := (*[3]rawselect.Set)(unsafe.Pointer(&reg.master))
	r, w, x = r[:nw], w[:nw], x[:nw]
	for k := range r {
		r[k], w[k], x[k] = master[0][k], master[1][k], master[2][k]
	}
	nfds, epoch, gen := int(reg.maxfd)+1, uint64(reg.epoch), uint64(reg.gen)
	wakeWord, wakeBit, wakefd := int(reg.wake_word), uint(reg.wake_bit), int(reg.wakefd)
	f.release()
	if !withWake {
		r[wakeWord] &^= wakeBit
	}

	ready, errno := rawselect.Poll(nfds, &r[0], &w[0], &x[0])
	if testHookFastPolled != nil {
		testHookFastPolled()
	}
	if errno != 0 || (ready == 0 && withWake) {
		return 0, false
	}
	if ready == 0 {
		return 0, true
	}

	// gen unchanged: the copy is the registry (selectregistry_changed), and
	// a shut-down poller has a new gen too. Else the scan checks each
	// descriptor against the registry, under the lock.
	check := atomic.LoadUint64(f.gen) != gen
	if check {
		f.acquire()
		if reg.closed != 0 {
			f.release()
			return 0, false
		}
	}
	if r[wakeWord]&wakeBit != 0 { // the wake's readiness is not the caller's
		drainWake(wakefd)
		r[wakeWord] &^= wakeBit
	}
	start := int(atomic.LoadInt32(f.nextFd))
	atomic.StoreInt32(f.nextFd, 0)
	if nw == 1 && start == 0 { // one word, from its first bit: the common case, inline
		n, _ = f.pick(0, r[0], w[0], x[0], ^uint(0), check, epoch, events, 0)
	} else {
		n = f.scan(r, w, x, nw, start, check, epoch, events)
	}
	if check {
		f.release()
	}
	return n, true
}

// scan is selectpoller.c's collect: it writes to events the ready
// descriptors in the nw words of r, w and x, starting with start (where
// the last scan ran out of room, 0 for the first) and wrapping round.
// With check, under the lock.
func (f *fastPoll) scan(r, w, x []uint, nw, start int, check bool, epoch uint64, events []PollEvent) int {
	if start >= nw*rawselect.WordBits {
		start = 0
	}
	ks := start / rawselect.WordBits
	from := ^(uint(1)<<(uint(start)%rawselect.WordBits) - 1)
	n, full := 0, false
	for i := 0; i <= nw && !full; i++ { // words ks .. nw-1, then 0 .. ks, the last one below from
		k, mask := (ks+i)%nw, ^uint(0)
		switch {
		case i == 0:
			mask = from
		case i == nw:
			mask = ^from
		}
		n, full = f.pick(k, r[k], w[k], x[k], mask, check, epoch, events, n)
	}
	return n
}

// pick writes to events, from index n on, the ready descriptors of word k
// of the scratch sets (rk, wk, xk), those of mask alone; with check only
// those still registered, no newer than the copy (epoch), for the events
// they still want (selectregistry_wanted). When events is full and one
// more is ready, it records that one in next_fd and reports full.
func (f *fastPoll) pick(k int, rk, wk, xk, mask uint, check bool, epoch uint64, events []PollEvent, n int) (int, bool) {
	for any := (rk | wk | xk) & mask; any != 0; any &= any - 1 {
		bit := uint(mathbits.TrailingZeros(any))
		fd := k*rawselect.WordBits + int(bit)
		ev := rk>>bit&1 | (wk>>bit&1)<<1 | (xk>>bit&1)<<2
		if check {
			if uint64(f.reg.since[fd]) > epoch {
				continue
			}
			if ev &= uint(f.reg.interest[fd]); ev == 0 {
				continue
			}
		}
		if n == len(events) {
			atomic.StoreInt32(f.nextFd, int32(fd))
			return n, true
		}
		events[n] = PollEvent{Fd: fd, Events: Events(ev)}
		n++
	}
	return n, false
}

// drainWake consumes the wake eventfd's signals, as selectwake_drain does:
// a read of a non-blocking eventfd never sleeps, so it is a raw call too.
// Nothing to read (EAGAIN) is fine.
func drainWake(fd int) {
	var buf [8]byte
	syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf)), uintptr(len(buf)))
}
