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
	f := &b.fast
	if f.mode == fastNever {
		return false
	}
	if timeout == 0 {
		return b.poll(false)
	}
	if f.mode == fastAuto {
		if !f.used {
			f.used = true
			return false
		}
		if f.skip > 0 {
			f.skip--
			return false
		}
	}
	ok := b.poll(true)
	if ok {
		f.backoff /= 2
	} else {
		f.backoff = min(2*f.backoff+1, maxBackoff)
	}
	f.skip = f.backoff
	return ok
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
