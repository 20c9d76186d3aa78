//go:build linux || windows

package selectc

/*
#include "selectshim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Timeval is C's struct timeval: the timeout of select(2), in seconds and
// microseconds.
//
// Sec is 64 bits here whatever C's time_t is. Where time_t is 32 bits
// (glibc's default on armhf and i386), select(2) can wait at most 2^31-1
// seconds, about 68 years: every timeout selectc hands the kernel, from a
// Timeval, a time.Duration or a deadline, saturates there instead of
// wrapping, and the time left that SelectFdSet writes back counts from
// that cap, never below zero. Where time_t is 64 bits nothing is capped.
type Timeval struct {
	Sec  int64 // seconds, 0 or more
	Usec int64 // microseconds, 0 through 999999
}

// ErrTimeval is wrapped by the error for a Timeval that select(2) would
// refuse or misread: a negative field, or Usec of a second or more (glibc
// keeps only the low 32 bits of tv_usec, so 1<<32 µs would silently poll).
var ErrTimeval = errors.New("timeval out of range (want Sec >= 0 and 0 <= Usec <= 999999)")

// NewTimeval converts d to a Timeval, rounding up to whole microseconds so
// that a positive timeout never turns into a poll. A negative d gives the
// zero Timeval (a poll); to block, pass a nil *Timeval to SelectFdSet. Every
// Duration fits, math.MaxInt64 included.
func NewTimeval(d time.Duration) Timeval {
	if d <= 0 {
		return Timeval{}
	}
	us := d / time.Microsecond // not (d + 999) / 1000: that overflows near MaxInt64
	if d%time.Microsecond != 0 {
		us++
	}
	return Timeval{Sec: int64(us / 1e6), Usec: int64(us % 1e6)}
}

// Duration returns tv as a time.Duration, saturating at the largest (or
// smallest) Duration when tv does not fit in one. Usec is taken as given,
// even out of range.
func (tv Timeval) Duration() time.Duration {
	// Carry whole seconds out of Usec, then give both parts one sign, so
	// each step can be checked for overflow on its own.
	sec, usec := tv.Sec, tv.Usec%1e6
	carry := tv.Usec / 1e6
	switch {
	case carry > 0 && sec > math.MaxInt64-carry:
		return math.MaxInt64
	case carry < 0 && sec < math.MinInt64-carry:
		return math.MinInt64
	}
	sec += carry
	if sec > 0 && usec < 0 {
		sec, usec = sec-1, usec+1e6
	} else if sec < 0 && usec > 0 {
		sec, usec = sec+1, usec-1e6
	}
	const maxSec = math.MaxInt64 / int64(time.Second)
	switch {
	case sec > maxSec:
		return math.MaxInt64
	case sec < -maxSec:
		return math.MinInt64
	}
	d, u := sec*int64(time.Second), usec*int64(time.Microsecond) // |u| < 1 s
	switch {
	case u > 0 && d > math.MaxInt64-u:
		return math.MaxInt64
	case u < 0 && d < math.MinInt64-u:
		return math.MinInt64
	}
	return time.Duration(d + u)
}

// maxTimeT is the largest time_t of the C library, shim_time_max.
var maxTimeT = int64(C.shim_time_max())

// toC is tv as the platform's struct timeval, the one place a Timeval
// becomes one: refused where check refuses it, Sec saturated at the largest
// time_t (and Usec with it, to the last microsecond before the cap).
func (tv Timeval) toC() (C.struct_timeval, error) {
	if err := tv.check(); err != nil {
		return C.struct_timeval{}, err
	}
	if tv.Sec > maxTimeT {
		tv = Timeval{Sec: maxTimeT, Usec: 999999}
	}
	return C.struct_timeval{tv_sec: C.shim_sec_t(tv.Sec), tv_usec: C.shim_usec_t(tv.Usec)}, nil
}

// timevalFromC widens c to a Timeval: exact, since both C types fit in an
// int64 (asserted in cinterop.go).
func timevalFromC(c *C.struct_timeval) Timeval {
	return Timeval{Sec: int64(c.tv_sec), Usec: int64(c.tv_usec)}
}

// check returns an error wrapping ErrTimeval unless select(2) reads tv as
// written. A huge Sec is fine: the kernel saturates its deadline.
func (tv Timeval) check() error {
	if tv.Sec < 0 || tv.Usec < 0 || tv.Usec >= 1e6 {
		return fmt.Errorf("select: timeval {Sec: %d, Usec: %d}: %w", tv.Sec, tv.Usec, ErrTimeval)
	}
	return nil
}

// cTimevalFromNs is the C shim's own duration-to-timeval conversion, which
// the batched select uses; tests check NewTimeval agrees with it.
func cTimevalFromNs(d time.Duration) Timeval {
	tv := C.shim_timeval_from_ns(C.int64_t(d))
	return Timeval{Sec: int64(tv.tv_sec), Usec: int64(tv.tv_usec)}
}
