//go:build linux || windows

package selectc

/*
#include "selectshim.h"

// Go reads these two with unsafe.Alignof's meaning; cgo has no C.alignof_T.
enum { selectc_alignof_fd_set = _Alignof(fd_set) };

// Timeval's Sec and Usec are int64: a tv_sec or tv_usec type (time_t and
// suseconds_t, or Winsock's long) wider than that, or unsigned, would make
// the conversions below wrong, so it does not build.
_Static_assert((shim_sec_t)-1 < 0 && sizeof(shim_sec_t) <= sizeof(int64_t),
               "tv_sec is a signed integer of at most 64 bits");
_Static_assert((shim_usec_t)-1 < 0 && sizeof(shim_usec_t) <= sizeof(int64_t) &&
               sizeof(shim_usec_t) >= 4, "tv_usec holds 0 through 999999");
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

// FdSet is the C library's fd_set and nothing else: these fail to compile
// unless its size and alignment are fd_set's, which is what CPointer and
// FdSetFromC promise.
var (
	_ [unsafe.Sizeof(FdSet{}) - C.sizeof_fd_set]struct{}
	_ [C.sizeof_fd_set - unsafe.Sizeof(FdSet{})]struct{}
	_ [unsafe.Alignof(FdSet{}) - C.selectc_alignof_fd_set]struct{}
	_ [C.selectc_alignof_fd_set - unsafe.Alignof(FdSet{})]struct{}
)

// CPointer returns s as a C fd_set *, for a C library that fills or reads
// the caller's fd_sets, such as libcurl's curl_multi_fdset; nil gives nil.
// In your own cgo file write (*C.fd_set)(s.CPointer()): each package has
// its own C.fd_set type, and the conversion is exact because an FdSet is
// the C library's fd_set (size and alignment checked when selectc builds).
//
// An fd_set holds no Go pointers, so under cgo's pointer-passing rules C may
// read and write it for the length of a call but must not keep the pointer
// once the call returns (pin s with runtime.Pinner, or keep the set in C
// memory and use FdSetFromC, for a library that holds on to it).
func (s *FdSet) CPointer() unsafe.Pointer { return unsafe.Pointer(s.cPtr()) }

// FdSetFromC returns the C fd_set at p as an *FdSet, in place: its methods
// and SelectFdSet read and write the C memory, nothing is copied; nil gives
// nil. p must point to a whole fd_set (an fd_set *, converted with
// unsafe.Pointer) that stays valid while the *FdSet is used.
func FdSetFromC(p unsafe.Pointer) *FdSet { return (*FdSet)(p) }

// TimevalFromC returns the C struct timeval at p (from a C library that
// hands one out, such as c-ares's ares_timeout) as a Timeval. Every time_t
// and suseconds_t fits in an int64, so the value is exact, as given: a field
// SelectFdSet would refuse stays for SelectFdSet to refuse. p must not be
// nil; a library that returns NULL for "no timeout" means a nil *Timeval.
func TimevalFromC(p unsafe.Pointer) Timeval {
	return timevalFromC((*C.struct_timeval)(p))
}

// ToC writes tv to the C struct timeval at p, for a C library that takes a
// timeout (ares_timeout's maxtv, setsockopt's SO_RCVTIMEO). A Timeval that
// SelectFdSet would refuse is refused with the same error, wrapping
// ErrTimeval, and p is left as it was. A Sec beyond what the platform's
// time_t holds (2^31-1 s, about 68 years, where time_t is 32 bits wide)
// saturates to the longest struct timeval there is; it never wraps. A nil
// p is refused with an error wrapping os.ErrInvalid.
func (tv Timeval) ToC(p unsafe.Pointer) error {
	if p == nil {
		return fmt.Errorf("timeval to C: nil struct timeval *: %w", os.ErrInvalid)
	}
	c, err := tv.toC()
	if err != nil {
		return err
	}
	*(*C.struct_timeval)(p) = c
	return nil
}
