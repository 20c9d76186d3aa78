package selectc

/*
#include "selectshim.h"
*/
import "C"

import "time"

// Timeval is C's struct timeval: the timeout of select(2), in seconds and
// microseconds.
type Timeval struct {
	Sec  int64 // seconds
	Usec int64 // microseconds, 0 through 999999
}

// NewTimeval converts d to a Timeval, rounding up to whole microseconds so
// that a positive timeout never turns into a poll. A negative d gives the
// zero Timeval (a poll); to block, pass a nil *Timeval to SelectFdSet.
func NewTimeval(d time.Duration) Timeval {
	if d <= 0 {
		return Timeval{}
	}
	us := int64((d + time.Microsecond - 1) / time.Microsecond)
	return Timeval{Sec: us / 1e6, Usec: us % 1e6}
}

// Duration returns tv as a time.Duration.
func (tv Timeval) Duration() time.Duration {
	return time.Duration(tv.Sec)*time.Second + time.Duration(tv.Usec)*time.Microsecond
}

// cTimevalFromNs is the C shim's own duration-to-timeval conversion, which
// the batched select uses; tests check NewTimeval agrees with it.
func cTimevalFromNs(d time.Duration) Timeval {
	tv := C.shim_timeval_from_ns(C.int64_t(d))
	return Timeval{Sec: int64(tv.tv_sec), Usec: int64(tv.tv_usec)}
}
