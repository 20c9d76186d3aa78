//go:build linux

package selectc

/*
#include "selectshim.h"
*/
import "C"

import (
	"time"

	"github.com/selectc/selectc/internal/rawselect"
)

// The fast path of Select and Selector (batch.wait): the fd_sets are built
// in Go from the batch and polled with rawselect.Poll, with no cgo call and
// no scheduler handshake, as the Poller's fast path does (fastpoll_linux.go
// says why). It answers as shim_select_batch does: each entry gets the
// events it asked for that are ready. A poll (timeout 0) always goes this
// way; a wait with a timeout tries it first once the batch has waited
// before (a loop's Selector, not a one-off Select), backing off after a
// miss as the Poller does. Any error goes to the C path, which names it.

// fastBatch is a batch's fast-path state.
type fastBatch struct {
	mode          fastMode
	used          bool   // the batch has waited before
	skip, backoff uint32 // as fastPoll's; a batch has one user at a time
}

// pollFast answers b.wait from Go when descriptors are ready already (or
// timeout is 0), reporting whether it did.
func (b *batch) pollFast(timeout time.Duration) bool {
	if !b.fast.try(timeout) {
		return false
	}
	ok := b.poll(timeout != 0)
	b.fast.done(timeout, ok)
	return ok
}

// try reports whether a wait with timeout tries the fast path: a poll
// always; a wait that may sleep once the batch has waited before, and not
// while it backs off.
func (f *fastBatch) try(timeout time.Duration) bool {
	switch {
	case f.mode == fastNever:
		return false
	case timeout == 0 || f.mode == fastFirst:
		return true
	case !f.used:
		f.used = true
		return false
	case f.skip > 0:
		f.skip--
		return false
	}
	return true
}

// done counts a fast-path try of a wait with timeout that answered (hit)
// or found nothing ready: a miss doubles the waits that skip the fast
// path, up to maxBackoff, and a hit halves them. A poll counts for nothing.
func (f *fastBatch) done(timeout time.Duration, hit bool) {
	if timeout == 0 {
		return
	}
	if hit {
		f.backoff /= 2
	} else {
		f.backoff = min(2*f.backoff+1, maxBackoff)
	}
	f.skip = f.backoff
}

// selectFDs is Selector.Select's fast path for lists of plain FDs (r, w
// and x are rlist, wlist and xlist seen as FDs): the sets are built
// straight from the lists, polled, and the ready elements collected
// straight from the sets into s.r, s.w and s.x, with no batch in between,
// which spares two passes over a copy of the lists. It reports false, and
// the caller takes the batch's C path, which names what is wrong, for a
// list too long, a descriptor out of range or an error of the poll, and
// for a wait that found nothing ready and may sleep.
func selectFDs[T Filer](s *Selector[T], rlist, wlist, xlist []T, timeout time.Duration) bool {
	f := &s.b.fast
	if !f.try(timeout) {
		return false
	}
	r, w, x := asFDs(rlist), asFDs(wlist), asFDs(xlist)
	nfds := 0
	for _, l := range [3][]FD{r, w, x} {
		if len(l) > FdSetSize {
			return false
		}
		for _, fd := range l {
			if !fdInRange(int(fd)) {
				return false
			}
			nfds = max(nfds, int(fd)+1)
		}
	}
	var sets []uint // the three sets, each words long, in one array
	words := (nfds + rawselect.WordBits - 1) / rawselect.WordBits
	if words <= 1 { // every descriptor below a word's width: spares zeroing 3 × 128 bytes
		var narrow [3]uint
		sets, words = narrow[:], 1
	} else {
		var wide [3 * rawselect.Size / rawselect.WordBits]uint
		sets = wide[:3*words]
	}
	rs, ws, xs := sets[:words], sets[words:2*words], sets[2*words:]
	addFDs(rs, r)
	addFDs(ws, w)
	addFDs(xs, x)
	ready, errno := rawselect.Poll(nfds, &rs[0], &ws[0], &xs[0])
	ok := errno == 0 && (ready > 0 || timeout == 0)
	f.done(timeout, ok)
	if !ok {
		return false
	}
	s.r = readyIn(s.r[:0], rlist, r, rs)
	s.w = readyIn(s.w[:0], wlist, w, ws)
	s.x = readyIn(s.x[:0], xlist, x, xs)
	return true
}

// addFDs puts every descriptor of fds, all in set's range, in set.
func addFDs(set []uint, fds []FD) {
	for _, fd := range fds {
		set[uint(fd)/rawselect.WordBits] |= 1 << (uint(fd) % rawselect.WordBits)
	}
}

// readyIn appends to dst the elements of list (whose descriptors are fds)
// that set holds, in order, duplicates included, as collectList does.
func readyIn[T any](dst, list []T, fds []FD, set []uint) []T {
	if dst == nil {
		dst = []T{} // "nothing ready" is an empty list, as in Python, not nil
	}
	list = list[:len(fds)]
	for i, fd := range fds {
		if set[uint(fd)/rawselect.WordBits]>>(uint(fd)%rawselect.WordBits)&1 != 0 {
			dst = append(dst, list[i])
		}
	}
	return dst
}

// poll is shim_select_batch with a zero timeout, in Go: it answers, and
// reports true, when something is ready, or when nothing is and the
// caller polls (wait false); otherwise the batch is left as it was, for the
// C path. fill has checked every descriptor's range. As in the Poller's
// fast path, the scratch sets are one word each while every descriptor
// sits below a word's width, which spares zeroing 3 × 128 bytes.
func (b *batch) poll(wait bool) bool {
	nfds := 0
	for _, fd := range b.fds {
		nfds = max(nfds, int(fd)+1)
	}
	if nfds <= rawselect.WordBits {
		var s [3][1]uint
		return b.pollWords(s[0][:], s[1][:], s[2][:], nfds, wait)
	}
	var s [3]rawselect.Set
	return b.pollWords(s[0][:], s[1][:], s[2][:], nfds, wait)
}

// pollWords is poll on zeroed scratch sets r, w and x, each of at least
// nfds bits.
func (b *batch) pollWords(r, w, x []uint, nfds int, wait bool) bool {
	const wb = rawselect.WordBits
	fds, evs := b.fds, b.ev[:len(b.fds)] // one bounds check here, none in the loops
	for i, fd := range fds {
		k, bit, ev := int(fd)/wb, uint(1)<<(uint(fd)%wb), evs[i]
		if ev&C.SHIM_READ != 0 {
			r[k] |= bit
		}
		if ev&C.SHIM_WRITE != 0 {
			w[k] |= bit
		}
		if ev&C.SHIM_EXCEPT != 0 {
			x[k] |= bit
		}
	}
	ready, errno := rawselect.Poll(nfds, &r[0], &w[0], &x[0])
	if errno != 0 || (ready == 0 && wait) {
		return false
	}
	for i, fd := range fds {
		k, sh, got := int(fd)/wb, uint(fd)%wb, C.uint8_t(0)
		got |= C.uint8_t(r[k]>>sh&1) * C.SHIM_READ
		got |= C.uint8_t(w[k]>>sh&1) * C.SHIM_WRITE
		got |= C.uint8_t(x[k]>>sh&1) * C.SHIM_EXCEPT
		evs[i] &= got
	}
	return true
}
