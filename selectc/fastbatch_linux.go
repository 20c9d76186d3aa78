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
// C path. fill has checked every descriptor's range.
func (b *batch) poll(wait bool) bool {
	var s [3]rawselect.Set
	fds, evs := b.fds, b.ev[:len(b.fds)] // one bounds check here, none in the loops
	nfds := 0
	for i, fd := range fds {
		ev := evs[i]
		if ev&C.SHIM_READ != 0 {
			s[0].Add(int(fd))
		}
		if ev&C.SHIM_WRITE != 0 {
			s[1].Add(int(fd))
		}
		if ev&C.SHIM_EXCEPT != 0 {
			s[2].Add(int(fd))
		}
		nfds = max(nfds, int(fd)+1)
	}
	ready, errno := rawselect.Poll(nfds, &s[0][0], &s[1][0], &s[2][0])
	if errno != 0 || (ready == 0 && wait) {
		return false
	}
	for i, fd := range fds {
		ev, got := evs[i], C.uint8_t(0)
		if ev&C.SHIM_READ != 0 && s[0].Has(int(fd)) {
			got |= C.SHIM_READ
		}
		if ev&C.SHIM_WRITE != 0 && s[1].Has(int(fd)) {
			got |= C.SHIM_WRITE
		}
		if ev&C.SHIM_EXCEPT != 0 && s[2].Has(int(fd)) {
			got |= C.SHIM_EXCEPT
		}
		evs[i] = got
	}
	return true
}
